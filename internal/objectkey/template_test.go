package objectkey

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2024, 3, 7, 23, 30, 0, 0, time.FixedZone("UTC+8", 8*3600)) // 2024-03-07 15:30 UTC

func mustParse(t testing.TB, s string) *Template {
	t.Helper()
	tpl, err := ParseTemplate(s)
	if err != nil {
		t.Fatalf("ParseTemplate(%q): %v", s, err)
	}
	tpl.random = func() string { return "rrrrrrrrrrrrrrrrrrrrrrrrrr" }
	return tpl
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct{ tpl, want string }{
		{"", "empty"},
		{strings.Repeat("a", 500) + "/{user}/{random}", "exceeds"},
		{"uploads/{user}/{random}/{nme}", "unknown placeholder {nme}"},
		{"uploads/{user}/{random}/{name", "unclosed"},
		{"uploads/{user}/{random}/name}", "unmatched"},
		{"uploads/{user}/{random}/{}", "unknown placeholder {}"},
		{"/uploads/{user}/{random}/{name}", "start with '/'"},
		{"uploads/{user}/{random}/{name}/", "trailing '/'"},
		{"uploads//{user}/{random}/{name}", "empty path segment"},
		{"uploads/{user}/{random}/{ext}", "empty path segment"},
		{"uploads/../{user}/{random}/{name}", `".." path segment`},
		{"./{user}/{random}/{name}", `"." path segment`},
		{"uploads/{user}/{random}/.{ext}", `"." path segment`},
		{"uploads/{user}/{random}/..{ext}", `".." path segment`},
		{"up\\loads/{user}/{random}", "U+005C"},
		{"up\x00loads/{user}/{random}", "U+0000"},
		{"up\u202eloads/{user}/{random}", "U+202E"},
		{"up\xffloads/{user}/{random}", "UTF-8"},
		{"uploads/{user}/{date}/{name}", "{random} is required"},
		{"uploads/{random}/{name}", "{user} followed by '/'"},
		{"uploads/{date}/{user}/{random}", "{user} followed by '/'"},
		{"uploads/{user}-{random}/{name}", "{user} followed by '/'"},
		{"uploads/{user}{random}/{name}", "{user} followed by '/'"},
	}
	for _, tc := range tests {
		_, err := ParseTemplate(tc.tpl)
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTemplate(%q) = %v, want error containing %q", tc.tpl, err, tc.want)
		}
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		tpl, user, name, want string
	}{
		{"uploads/{user}/{date}/{random}/{name}", "alice", "photo.jpg", "uploads/alice/2024/03/07/rrrrrrrrrrrrrrrrrrrrrrrrrr/photo.jpg"},
		{"{user}/{yyyy}-{mm}-{dd}/{random}.{ext}", "bob", "A.JPG", "bob/2024-03-07/rrrrrrrrrrrrrrrrrrrrrrrrrr.jpg"},
		{"{user}/{random}.{ext}", "bob", "README", "bob/rrrrrrrrrrrrrrrrrrrrrrrrrr."},
		{"u/{user}/{random}/{name}", "../root", "../../etc/passwd", "u/" + SanitizeUserID("../root") + "/rrrrrrrrrrrrrrrrrrrrrrrrrr/_.._etc_passwd"},
		{"u/{user}/{random}/{name}", "alice", "..", "u/alice/rrrrrrrrrrrrrrrrrrrrrrrrrr/_"},
		{"u/{user}/{random}/{name}", "alice", "a\x00\u202e.txt", "u/alice/rrrrrrrrrrrrrrrrrrrrrrrrrr/a__.txt"},
		{"u/{user}/{random}-{name}/x{name}", "alice", "n.txt", "u/alice/rrrrrrrrrrrrrrrrrrrrrrrrrr-n.txt/xn.txt"},
	}
	for _, tc := range tests {
		got, err := mustParse(t, tc.tpl).Render(tc.user, tc.name, now)
		if err != nil || got != tc.want {
			t.Errorf("Render(%q, %q, %q) = %q, %v; want %q", tc.tpl, tc.user, tc.name, got, err, tc.want)
		}
	}
}

func TestRenderTruncatesLongName(t *testing.T) {
	tpl := mustParse(t, "uploads/{user}/{date}/{random}/{name}")
	name := strings.Repeat("長", 2000) + ".mp4"
	key, err := tpl.Render("alice", name, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) > MaxKeyLen || !strings.HasSuffix(key, "長.mp4") || ValidateKey(key) != nil {
		t.Fatalf("key %d bytes, suffix %q, valid %v", len(key), key[len(key)-10:], ValidateKey(key))
	}
	// The cut is on a rune boundary and uses as much room as it can.
	if len(key) < MaxKeyLen-2 {
		t.Fatalf("key %d bytes wastes room", len(key))
	}
}

func TestRenderUnique(t *testing.T) {
	tpl, err := ParseTemplate("uploads/{user}/{random}/{name}")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^uploads/alice/[a-z2-7]{26}/a\.txt$`)
	seen := map[string]bool{}
	for range 100 {
		k, err := tpl.Render("alice", "a.txt", now)
		if err != nil || !re.MatchString(k) || seen[k] {
			t.Fatalf("Render = %q, %v (duplicate %v)", k, err, seen[k])
		}
		seen[k] = true
	}
}

func TestRenderErrors(t *testing.T) {
	tpl := mustParse(t, "uploads/{user}/{random}/{name}")
	if _, err := tpl.Render("", "a.txt", now); err == nil {
		t.Error("empty user accepted")
	}
	// 21 user segments of 64 bytes exceed the key limit before the name.
	greedy := mustParse(t, "{user}/{random}/"+strings.Repeat("{user}", 20)+"{name}")
	if _, err := greedy.Render(strings.Repeat("u", 64), "a.txt", now); !errors.Is(err, ErrNoRoom) {
		t.Errorf("template without room for the name: %v", err)
	}
	noName := mustParse(t, "{user}/{random}/"+strings.Repeat("{user}", 20))
	if _, err := noName.Render(strings.Repeat("u", 64), "a.txt", now); !errors.Is(err, ErrNoRoom) {
		t.Errorf("template over the key limit: %v", err)
	}
	if k, err := greedy.Render("u", "a.txt", now); err != nil || len(k) > MaxKeyLen {
		t.Errorf("short user: %q, %v", k, err)
	}
}

func TestUserPrefix(t *testing.T) {
	tests := []struct{ tpl, user, want, prefix string }{
		{"uploads/{user}/{date}/{random}/{name}", "alice", "uploads/alice/", "uploads/"},
		{"{user}/{random}/{name}", "alice", "alice/", ""},
		{"a/u-{user}/b/c-{random}/{name}", "alice", "a/u-alice/b/", "a/"},
		{"t/{user}/{user}/{random}", "bob", "t/bob/bob/", "t/"},
		{"uploads/{user}/{random}", "a b", "uploads/" + SanitizeUserID("a b") + "/", "uploads/"},
	}
	for _, tc := range tests {
		tpl := mustParse(t, tc.tpl)
		if got := tpl.UserPrefix(tc.user); got != tc.want {
			t.Errorf("%q.UserPrefix(%q) = %q, want %q", tc.tpl, tc.user, got, tc.want)
		}
		if got := tpl.Prefix(); got != tc.prefix {
			t.Errorf("%q.Prefix() = %q, want %q", tc.tpl, got, tc.prefix)
		}
		key, err := tpl.Render(tc.user, "f.txt", now)
		if err != nil || !strings.HasPrefix(key, tc.want) || !strings.HasPrefix(key, tpl.Prefix()) {
			t.Errorf("%q.Render(%q) = %q, %v: not under %q", tc.tpl, tc.user, key, err, tc.want)
		}
		if tpl.String() != tc.tpl {
			t.Errorf("String() = %q", tpl.String())
		}
	}
}

// TestUserPrefixIsolation: one user's prefix never covers another's keys,
// even when one id is a prefix of the other or they sanitise alike.
func TestUserPrefixIsolation(t *testing.T) {
	tpl := mustParse(t, "uploads/{user}/{date}/{random}/{name}")
	users := []string{"alice", "alice-bob", "alic", "a b", "a_b", "a/b", "", "."}
	for _, a := range users {
		for _, b := range users {
			if a == b || b == "" {
				continue
			}
			key, err := tpl.Render(b, "x.txt", now)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(key, tpl.UserPrefix(a)) {
				t.Errorf("UserPrefix(%q) = %q covers %q's key %q", a, tpl.UserPrefix(a), b, key)
			}
		}
	}
}

func FuzzTemplateRender(f *testing.F) {
	f.Add("uploads/{user}/{date}/{random}/{name}", "alice", "photo.jpg", int64(0))
	f.Add("{user}/{yyyy}/{mm}/{dd}/{random}.{ext}", "a/b", "../x.TXT", int64(1e12))
	f.Add("p/{user}/{random}-{name}-{name}", "\x00", strings.Repeat("é", 600), int64(-1e11))
	f.Fuzz(func(t *testing.T, src, user, name string, unix int64) {
		tpl, err := ParseTemplate(src)
		if err != nil {
			return
		}
		at := time.Unix(unix%(1<<36), 0) // keep years within 4 digits
		key, err := tpl.Render(user, name, at)
		if err != nil {
			if user != "" && !errors.Is(err, ErrNoRoom) {
				t.Fatalf("Render(%q, %q, %q): %v", src, user, name, err)
			}
			return
		}
		if err := ValidateKey(key); err != nil {
			t.Fatalf("Render(%q, %q, %q) = %q: %v", src, user, name, key, err)
		}
		if p := tpl.UserPrefix(user); !strings.HasPrefix(key, p) || !strings.HasSuffix(p, "/") {
			t.Fatalf("key %q not under UserPrefix %q", key, p)
		}
		if !strings.HasPrefix(key, tpl.Prefix()) {
			t.Fatalf("key %q not under Prefix %q", key, tpl.Prefix())
		}
	})
}

// TestRenderWithMeta: {meta.<field>} puts the upload's metadata field in
// the key, matched without case and sanitised as names are (no '/', no
// "..", no controls or bidi overrides, cut to MaxMetaSegmentBytes); an
// upload without the field gets no key; malformed field names do not
// parse, and {meta.x} cannot stand in for {user}/ (it is per upload).
func TestRenderWithMeta(t *testing.T) {
	tpl := mustParse(t, "albums/{user}/{meta.albumId}/{random}/{path}{name}")
	if got := tpl.MetaFields(); len(got) != 1 || got[0] != "albumId" {
		t.Errorf("MetaFields() = %v", got)
	}
	for _, tc := range []struct {
		meta map[string]string
		want string
	}{
		{map[string]string{"albumId": "a-17"}, "a-17"},
		{map[string]string{"albumid": "夏天 2024"}, "夏天 2024"},
		{map[string]string{"ALBUMID": "../../etc"}, "_.._etc"},
		{map[string]string{"albumId": "x\u202eexe.txt"}, "x_exe.txt"},
		{map[string]string{"albumId": ".."}, "_"},
		{map[string]string{"albumId": strings.Repeat("长", 200)}, strings.Repeat("长", MaxMetaSegmentBytes/3)},
	} {
		got, err := tpl.RenderWith("alice", "trip/", "a.jpg", tc.meta, now)
		want := "albums/alice/" + tc.want + "/rrrrrrrrrrrrrrrrrrrrrrrrrr/trip/a.jpg"
		if err != nil || got != want {
			t.Errorf("meta %v: %q, %v; want %q", tc.meta, got, err, want)
		}
	}
	for _, meta := range []map[string]string{nil, {"title": "t"}, {"albumId": ""}} {
		if _, err := tpl.RenderWith("alice", "", "a.jpg", meta, now); !errors.Is(err, ErrMissingMeta) || !strings.Contains(err.Error(), "albumId") {
			t.Errorf("meta %v: %v, want ErrMissingMeta naming albumId", meta, err)
		}
	}
	for _, bad := range []string{"u/{user}/{meta.}/{random}", "u/{user}/{meta.a_b}/{random}", "u/{user}/{meta.-x}/{random}", "u/{meta.a}/{user}/{random}"} {
		if _, err := ParseTemplate(bad); !errors.Is(err, ErrTemplate) {
			t.Errorf("ParseTemplate(%q) = %v, want ErrTemplate", bad, err)
		}
	}
}
