package objectkey

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeName(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"photo.jpg", 0, "photo.jpg"},
		{"Résumé final (2).PDF", 0, "Résumé final (2).PDF"},
		{"照片 2024.png", 0, "照片 2024.png"},
		{"e\u0301cole.txt", 0, "e\u0301cole.txt"}, // NFD kept as is
		{"👩\u200d💻.png", 0, "👩\u200d💻.png"},       // ZWJ kept
		{"../../etc/passwd", 0, "_.._etc_passwd"},
		{`..\..\windows\win.ini`, 0, `_.._windows_win.ini`},
		{"a/b\\c", 0, "a_b_c"},
		{"nul\x00byte.txt", 0, "nul_byte.txt"},
		{"tab\tnew\nline\r.txt", 0, "tab_new_line_.txt"},
		{"del\x7f.txt", 0, "del_.txt"},
		{"c1\u0085\u009f.txt", 0, "c1__.txt"},
		{"invoice\u202egpj.exe", 0, "invoice_gpj.exe"},
		{"x\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069y", 0, "x________y"},
		{"lrm\u200e\u200f\ufeff.txt", 0, "lrm___.txt"},
		{"line\u2028para\u2029", 0, "line_para_"},
		{"bad\xff\xfeutf8", 0, "bad__utf8"},
		{"non\uffffchar", 0, "non_char"},
		{".", 0, "_"},
		{"..", 0, "_"},
		{"....", 0, "_"},
		{"", 0, "_"},
		{"   ", 0, "_"},
		{" . . ", 0, "_"},
		{".bashrc", 0, "bashrc"},
		{"  name.txt. . ", 0, "name.txt"},
		{"\u3000全角\u3000", 0, "全角"},
		{"a..b", 0, "a..b"},
		// Truncation keeps the extension.
		{"abcdefghij.jpeg", 10, "abcde.jpeg"},
		{"abcdefghij.jpeg", 6, "a.jpeg"},
		{"abcdefghij.jpeg", 5, "abcde"},
		{"abcdefghij", 4, "abcd"},
		{"ab  .  cd.txt", 8, "ab.txt"},
		{"日本語のファイル.txt", 13, "日本語.txt"}, // 3-byte runes: 9 bytes left → 3 runes
		{"日本語のファイル.txt", 12, "日本.txt"},
		{"日本語", 4, "日"},
		{"日本語", 2, "_"},
		{"a.verylongextensionname", 10, "a.verylong"},
		{"x", 1, "x"},
		{"short.txt", 100, "short.txt"},
		{strings.Repeat("\xf8", 2000) + "u", 0, strings.Repeat("_", 2000) + "u"}, // no limit: longer than a key
	}
	for _, tc := range tests {
		got := SanitizeName(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("SanitizeName(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		checkSegment(t, tc.in, tc.max, got)
	}
}

func TestExt(t *testing.T) {
	tests := map[string]string{
		"a.jpg": "jpg", "A.JPG": "jpg", "a.tar.gz": "gz", ".bashrc": "", "noext": "", "a.": "",
		"a.jpg ": "", "a.j-p": "", "a.mp4": "mp4", "a.0123456789abcdef": "0123456789abcdef",
		"a.0123456789abcdefg": "", "a.日本": "", "": "",
	}
	for in, want := range tests {
		if got := Ext(in); got != want {
			t.Errorf("Ext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"a", "uploads/u/2024/01/02/r/name.txt", "a/日本/b c", strings.Repeat("x", MaxKeyLen), "a/..b/c."}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	bad := []string{"", "/a", "a/", "a//b", "./a", "a/../b", "a/.", strings.Repeat("x", MaxKeyLen+1),
		"a\x00b", "a\\b", "a\u202eb", "bad\xff", "a\nb"}
	for _, k := range bad {
		if err := ValidateKey(k); err == nil {
			t.Errorf("ValidateKey(%q) accepted", k)
		}
	}
}

// checkSegment asserts that out is a valid single key segment.
func checkSegment(t *testing.T, in string, max int, out string) {
	t.Helper()
	if out == "" || out == "." || out == ".." || strings.Contains(out, "/") {
		t.Fatalf("SanitizeName(%q, %d) = %q: not a segment", in, max, out)
	}
	if max > 0 && len(out) > max {
		t.Fatalf("SanitizeName(%q, %d) = %q: %d bytes", in, max, out, len(out))
	}
	if !utf8.ValidString(out) {
		t.Fatalf("SanitizeName(%q, %d) = %q: invalid UTF-8", in, max, out)
	}
	for i, r := range out {
		if unsafeRune(r) || r == '\\' {
			t.Fatalf("SanitizeName(%q, %d) = %q: %U at byte %d", in, max, out, r, i)
		}
	}
	// Without a limit a name may outgrow a whole key; a cut one is a key.
	if len(out) <= MaxKeyLen {
		if err := ValidateKey(out); err != nil {
			t.Fatalf("SanitizeName(%q, %d) = %q: %v", in, max, out, err)
		}
	}
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"photo.jpg", "../..", "a\x00b", "\u202e", "日本語.txt", ". .", "a.b.c", "\xff"} {
		f.Add(s, 0)
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, name string, max int) {
		max %= 2048
		out := SanitizeName(name, max)
		checkSegment(t, name, max, out)
		if again := SanitizeName(out, max); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", name, out, again)
		}
		// Truncation keeps the extension whenever there is room for it.
		if full := SanitizeName(name, 0); max > 0 && len(full) > max {
			if e := extSuffix(full); e != "" && len(e) < max && !strings.HasSuffix(out, e) {
				t.Fatalf("SanitizeName(%q, %d) = %q lost extension %q", name, max, out, e)
			}
		}
	})
}

// TestWildcardsNeverReachKeys: '*' and '?' in a name would widen the STS
// policy that names the key, so they are replaced, and keys and templates
// holding them are refused.
func TestWildcardsNeverReachKeys(t *testing.T) {
	if got := SanitizeName("1*000?.txt", 0); got != "1_000_.txt" {
		t.Fatalf("SanitizeName kept a wildcard: %q", got)
	}
	if err := ValidateKey("uploads/a*b"); err == nil {
		t.Fatal("ValidateKey accepted a '*'")
	}
	if _, err := ParseTemplate("up*loads/{user}/{random}/{name}"); err == nil {
		t.Fatal("ParseTemplate accepted a '*'")
	}
}

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"invoice\u202efdp.exe":  "invoice\ufffdfdp.exe",
		"a\u2066b\u2069c":       "a\ufffdb\ufffdc",
		"tab\there":             "tab\ufffdhere",
		"bad\xffbyte":           "bad\ufffdbyte",
		"line\u2028break":       "line\ufffdbreak",
		"Report (final) 照片.pdf": "Report (final) 照片.pdf",
		"a/b/../c.txt":          "a/b/../c.txt",
		"zwj\u200dkept":         "zwj\u200dkept",
	} {
		if got := DisplayName(in); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", in, got, want)
		}
	}
}
