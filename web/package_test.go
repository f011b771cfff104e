package web

import (
	"encoding/json"
	"os"
	"regexp"
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
