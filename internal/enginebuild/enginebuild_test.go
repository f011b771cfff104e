package enginebuild

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The Makefile builds engine.wasm with the same flags as the tests and the
// benchmarks: what is measured and tested is what ships.
func TestMakefileHasTheFlags(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ENGINE_GOFLAGS := (.*)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Makefile has no ENGINE_GOFLAGS")
	}
	want := make([]string, len(Flags))
	for i, f := range Flags {
		if k, v, ok := strings.Cut(f, "="); ok && strings.Contains(v, " ") {
			f = k + `="` + v + `"`
		}
		want[i] = f
	}
	if got := strings.TrimSpace(string(m[1])); got != strings.Join(want, " ") {
		t.Errorf("Makefile ENGINE_GOFLAGS %q, want %q", got, strings.Join(want, " "))
	}
	if !regexp.MustCompile(`(?m)^\tGOOS=js GOARCH=wasm \$\(GO\) build \$\(ENGINE_GOFLAGS\) -o \$@ ./wasm$`).Match(b) {
		t.Error("the Makefile's web/engine.wasm rule does not build with $(ENGINE_GOFLAGS)")
	}
}
