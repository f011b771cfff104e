package host

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestProcField(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpuinfo")
	if err := os.WriteFile(p, []byte("processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\nflags\t\t: a b\nmodel name\t: second\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ProcField(p, "model name"); got != "Some CPU @ 2.0GHz" {
		t.Fatalf("ProcField = %q", got)
	}
	if got := ProcField(p, "missing"); got != "" {
		t.Fatalf("missing key gave %q", got)
	}
	if got := ProcField(filepath.Join(t.TempDir(), "none"), "model name"); got != "" {
		t.Fatalf("missing file gave %q", got)
	}
}

func TestThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		return // only Linux has /proc; the figures are documented as empty elsewhere
	}
	if l := LoadAvg(); len(strings.Fields(l)) != 3 {
		t.Fatalf("LoadAvg = %q", l)
	}
	if !strings.HasSuffix(MemTotal(), "kB") {
		t.Fatalf("MemTotal = %q", MemTotal())
	}
}
