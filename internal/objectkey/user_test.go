package objectkey

import (
	"regexp"
	"strings"
	"testing"
)

var (
	userRE    = regexp.MustCompile(`^[A-Za-z0-9._@~-]{1,64}$`)
	sessionRE = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
)

func TestSanitizeUserID(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		in     string
		want   string // exact, or the prefix before '~' when hashed
		hashed bool
	}{
		{in: "alice", want: "alice"},
		{in: "alice@example.com", want: "alice@example.com"},
		{in: "user_123-x.y", want: "user_123-x.y"},
		{in: strings.Repeat("b", 64), want: strings.Repeat("b", 64)},
		{in: "auth0|12345", want: "auth0_12345", hashed: true},
		{in: "../admin", want: ".._admin", hashed: true},
		{in: "a/b", want: "a_b", hashed: true},
		{in: "日本", want: "__", hashed: true},
		{in: ".", want: ".", hashed: true},
		{in: "..", want: "..", hashed: true},
		{in: "", want: "", hashed: true},
		{in: long, want: strings.Repeat("a", 47), hashed: true},
	}
	for _, tc := range tests {
		got := SanitizeUserID(tc.in)
		if !userRE.MatchString(got) || got == "." || got == ".." {
			t.Errorf("SanitizeUserID(%q) = %q: not a valid segment", tc.in, got)
		}
		if !tc.hashed {
			if got != tc.want {
				t.Errorf("SanitizeUserID(%q) = %q, want %q", tc.in, got, tc.want)
			}
			continue
		}
		prefix, hash, ok := strings.Cut(got, "~")
		if !ok || prefix != tc.want || len(hash) != hashLen {
			t.Errorf("SanitizeUserID(%q) = %q, want %q~<%d hex>", tc.in, got, tc.want, hashLen)
		}
		if again := SanitizeUserID(tc.in); again != got {
			t.Errorf("SanitizeUserID(%q) not deterministic: %q, %q", tc.in, got, again)
		}
	}
}

// TestSanitizeUserIDDistinct: ids that map to the same characters still get
// distinct segments, and a user cannot pick an id equal to another's
// hashed segment.
func TestSanitizeUserIDDistinct(t *testing.T) {
	ids := []string{"a b", "a_b", "a/b", "a\x00b", "a|b", "a~b"}
	ids = append(ids, SanitizeUserID("a b")) // contains '~', so it is hashed again
	seen := map[string]string{}
	for _, id := range ids {
		s := SanitizeUserID(id)
		if prev, dup := seen[s]; dup {
			t.Fatalf("SanitizeUserID(%q) = SanitizeUserID(%q) = %q", id, prev, s)
		}
		seen[s] = id
	}
}

func TestSessionName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"alice@example.com", "alice@example.com"},
		{"ab", "ab"},
	}
	for _, tc := range tests {
		if got := SessionName(tc.in); got != tc.want {
			t.Errorf("SessionName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "a", "auth0|123", strings.Repeat("x", 65), "日本語", "a b/c", "\x00"} {
		got := SessionName(in)
		if !sessionRE.MatchString(got) {
			t.Errorf("SessionName(%q) = %q: not a RoleSessionName", in, got)
		}
		if got == in {
			t.Errorf("SessionName(%q) unchanged", in)
		}
		if SessionName(in) != got {
			t.Errorf("SessionName(%q) not deterministic", in)
		}
	}
	if SessionName("auth0|1") == SessionName("auth0|2") {
		t.Error("distinct ids share a session name")
	}
}

func FuzzSanitizeUserID(f *testing.F) {
	for _, s := range []string{"alice", "", ".", "a b", strings.Repeat("z", 70), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		u := SanitizeUserID(id)
		if !userRE.MatchString(u) || u == "." || u == ".." {
			t.Fatalf("SanitizeUserID(%q) = %q", id, u)
		}
		if strings.Contains(u, "~") == (u == id) {
			t.Fatalf("SanitizeUserID(%q) = %q: '~' must mark exactly the changed ids", id, u)
		}
		if s := SessionName(id); !sessionRE.MatchString(s) {
			t.Fatalf("SessionName(%q) = %q", id, s)
		}
	})
}
