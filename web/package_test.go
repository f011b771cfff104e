package web

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPackageVersionIsTheEngines: the npm package's version is the engine's
// (wasm/main.go), which the page reads as uploader.version, so a bundle
// never pairs a page module with an engine of another release.
func TestPackageVersionIsTheEngines(t *testing.T) {
	src, err := os.ReadFile("../wasm/main.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^const version = "([^"]+)"`).FindSubmatch(src)
	if m == nil {
		t.Fatal("no `const version = \"...\"` in wasm/main.go")
	}
	b, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Version string
		Files   []string
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Version != string(m[1]) {
		t.Fatalf("web/package.json version %q, engine version %q", pkg.Version, m[1])
	}
}

// TestPackageFilesExist: every file the package lists, and every target of
// its exports, is in web/ (the engine and Go's glue are built there by make
// build, so they are left out here).
func TestPackageFilesExist(t *testing.T) {
	b, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Files   []string
		Exports map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	want := append([]string{}, pkg.Files...)
	for sub, raw := range pkg.Exports {
		var target string
		var cond map[string]string
		if json.Unmarshal(raw, &target) == nil {
			want = append(want, target)
		} else if err := json.Unmarshal(raw, &cond); err == nil {
			for _, v := range cond {
				want = append(want, v)
			}
		} else {
			t.Errorf("export %s: %s", sub, raw)
		}
	}
	for _, f := range want {
		f = strings.TrimPrefix(f, "./")
		if f == "engine.wasm" || f == "wasm_exec.js" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("package.json names %s: %v", f, err)
		}
	}
}
