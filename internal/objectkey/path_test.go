package objectkey

import (
	"errors"
	"strings"
	"testing"
)

func TestRelativeDir(t *testing.T) {
	ok := []struct{ path, name, want string }{
		{"", "a.jpg", ""},
		{"a.jpg", "a.jpg", ""},
		{"photos/a.jpg", "a.jpg", "photos/"},
		{"photos/2024/a.jpg", "a.jpg", "photos/2024/"},
		{"照片/2024 夏/a.jpg", "a.jpg", "照片/2024 夏/"},
		{"evil\u202egpj/a.jpg", "a.jpg", "evil_gpj/"},
		{"ctl\x01x/a.jpg", "a.jpg", "ctl_x/"},
		{"star*/q?/a.jpg", "a.jpg", "star_/q_/"},
		{" .hidden /a.jpg", "a.jpg", "hidden/"},
		{".../a.jpg", "a.jpg", "_/"},
	}
	for _, tc := range ok {
		got, err := RelativeDir(tc.path, tc.name)
		if err != nil || got != tc.want {
			t.Errorf("RelativeDir(%q, %q) = %q, %v; want %q", tc.path, tc.name, got, err, tc.want)
		}
	}
	bad := []struct{ path, name, want string }{
		{"/etc/a.jpg", "a.jpg", "absolute"},
		{"C:/x/a.jpg", "a.jpg", "drive"},
		{"x\\y/a.jpg", "a.jpg", "'/'"},
		{"../a.jpg", "a.jpg", `".."`},
		{"x/../../a.jpg", "a.jpg", `".."`},
		{"./a.jpg", "a.jpg", `"."`},
		{"x//a.jpg", "a.jpg", "empty segment"},
		{"x/", "a.jpg", "empty segment"},
		{"x/b.jpg", "a.jpg", "file's name"},
		{"x\xff/a.jpg", "a.jpg", "UTF-8"},
		{strings.Repeat("d/", 32) + "a.jpg", "a.jpg", "segments"},
		{strings.Repeat("x", 256) + "/a.jpg", "a.jpg", "over 255"},
		{strings.Repeat("abcdefgh/", 114) + "a.jpg", "a.jpg", "exceeds 1024"},
	}
	for _, tc := range bad {
		got, err := RelativeDir(tc.path, tc.name)
		if !errors.Is(err, ErrPath) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RelativeDir(%q, %q) = %q, %v; want an error containing %q", tc.path, tc.name, got, err, tc.want)
		}
	}
}

func TestRenderInPath(t *testing.T) {
	tpl := mustParse(t, "uploads/{user}/{random}/{path}{name}")
	for _, tc := range []struct{ dir, want string }{
		{"", "uploads/u1/rrrrrrrrrrrrrrrrrrrrrrrrrr/a.jpg"},
		{"photos/2024/", "uploads/u1/rrrrrrrrrrrrrrrrrrrrrrrrrr/photos/2024/a.jpg"},
	} {
		got, err := tpl.RenderIn("u1", tc.dir, "a.jpg", now)
		if err != nil || got != tc.want {
			t.Errorf("RenderIn(%q) = %q, %v; want %q", tc.dir, got, err, tc.want)
		}
	}
	// The folders count against the key limit; the name is cut to fit.
	dir := strings.Repeat("d", 250) + "/" + strings.Repeat("e", 250) + "/" + strings.Repeat("f", 250) + "/"
	got, err := tpl.RenderIn("u1", dir, strings.Repeat("n", 400)+".jpg", now)
	if err != nil || len(got) > MaxKeyLen || !strings.HasSuffix(got, ".jpg") || !strings.Contains(got, dir) {
		t.Errorf("long path: %d bytes %q, %v", len(got), got, err)
	}
	for _, bad := range []string{"uploads/{user}/{random}/{path}/{name}", "uploads/{user}/{random}/{path}"} {
		if _, err := ParseTemplate(bad); !errors.Is(err, ErrTemplate) {
			t.Errorf("ParseTemplate(%q) = %v, want refused", bad, err)
		}
	}
}
