package userauth

import (
	"crypto/subtle"
	"strings"
	"testing"
)

const (
	aliceToken = "alice-0123456789abcdef"
	bobToken   = "bob+/0123456789ABCDEF=="
)

func TestTokensAuthenticate(t *testing.T) {
	a, err := NewTokens(map[string]string{aliceToken: "alice", bobToken: "bob@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Scheme() != "token" {
		t.Errorf("Scheme() = %q", a.Scheme())
	}
	srv := serveAuth(t, a)
	wantUser(t, call(t, nil, srv.URL, "Bearer "+aliceToken), "alice")
	res := call(t, nil, srv.URL, "Bearer "+bobToken)
	wantUser(t, res, "bob@example.com")
	if res.Dev {
		t.Error("token user marked Dev")
	}

	wrong := aliceToken[:len(aliceToken)-1] + "X"
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+wrong), "unknown token", wrong)
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+aliceToken+bobToken), "unknown token", aliceToken)
	wantRefused(t, call(t, nil, srv.URL, "Bearer "+aliceToken[:16]), "unknown token", aliceToken[:16])
	res = call(t, nil, srv.URL)
	wantRefused(t, res, "missing bearer token")
	if res.Scheme != "token" {
		t.Errorf("error scheme %q", res.Scheme)
	}
}

// TestTokensCompareIsConstantTime proves the comparison is subtle.ConstantTimeCompare on equal-length hashes and
// that every configured token is compared on every request, whether or where it matches.
func TestTokensCompareIsConstantTime(t *testing.T) {
	tokens := map[string]string{}
	for i := range 5 {
		tokens[strings.Repeat(string(rune('a'+i)), 20)] = "user" + string(rune('0'+i))
	}
	a, err := NewTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuth(t, a)

	var calls, badLen int
	tokenEqual = func(x, y []byte) int {
		calls++
		if len(x) != 32 || len(y) != 32 {
			badLen++
		}
		return subtle.ConstantTimeCompare(x, y)
	}
	t.Cleanup(func() { tokenEqual = subtle.ConstantTimeCompare })

	for tok, user := range tokens {
		calls = 0
		wantUser(t, call(t, nil, srv.URL, "Bearer "+tok), user)
		if calls != len(tokens) {
			t.Fatalf("match for %s: %d comparisons, want %d", user, calls, len(tokens))
		}
	}
	calls = 0
	wantRefused(t, call(t, nil, srv.URL, "Bearer short-and-wrong"), "unknown token")
	if calls != len(tokens) {
		t.Fatalf("mismatch: %d comparisons, want %d", calls, len(tokens))
	}
	if badLen != 0 {
		t.Fatalf("%d comparisons of unequal-length inputs (length would leak)", badLen)
	}
}

func TestNewTokensRejects(t *testing.T) {
	const good = "0123456789abcdef"
	cases := map[string]map[string]string{
		"none":            {},
		"empty token":     {"": "alice"},
		"short token":     {"0123456789abcde": "alice"},
		"space in token":  {"0123456789 abcdef": "alice"},
		"comma in token":  {"0123456789,abcdef": "alice"},
		"inner =":         {"0123456789=abcdef": "alice"},
		"control":         {"0123456789abcdef\x01": "alice"},
		"too long":        {strings.Repeat("a", maxBearerLen+1): "alice"},
		"empty user":      {good: ""},
		"slash user":      {good: "a/b"},
		"NUL user":        {good: "a\x00b"},
		"dotdot user":     {good: ".."},
		"long user":       {good: strings.Repeat("u", 129)},
		"newline user":    {good: "alice\nadmin"},
		"one bad of many": {good: "alice", "fedcba9876543210": "bad/user"},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewTokens(m)
			if err == nil {
				t.Fatal("accepted")
			}
			for tok := range m {
				if len(tok) >= 8 && strings.Contains(err.Error(), tok) {
					t.Fatalf("error leaks the token: %v", err)
				}
			}
		})
	}
	if _, err := NewTokens(map[string]string{good: "alice", "0123456789abcdeg": "alice"}); err != nil {
		t.Fatalf("two tokens for one user refused: %v", err)
	}
}

func TestParseTokens(t *testing.T) {
	got, err := ParseTokens(" " + aliceToken + "=alice , " + bobToken + "=bob@example.com ,tok3-0123456789abcdef=carol")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{aliceToken: "alice", bobToken: "bob@example.com", "tok3-0123456789abcdef": "carol"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("token for %s: got user %q", v, got[k])
		}
	}
	if _, err := NewTokens(got); err != nil {
		t.Fatalf("NewTokens refuses ParseTokens output: %v", err)
	}

	const secret = "S3cretT0kenValue-xyz"
	bad := map[string]string{
		"empty":         "  ",
		"stray comma":   secret + "=alice,",
		"double comma":  secret + "=alice,,x0123456789abcdef=bob",
		"no =":          secret,
		"empty user":    secret + "=",
		"empty token":   "=alice",
		"short token":   "short=alice",
		"bad user":      secret + "=a/b",
		"swapped":       "alice=" + secret,
		"duplicate":     secret + "=alice," + secret + "=bob",
		"space inside":  "S3cret T0kenValue-xyz=alice",
		"control chars": secret + "=al\x01ice",
	}
	for name, spec := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTokens(spec)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, leak := range []string{secret, "S3cret", "T0kenValue"} {
				if strings.Contains(err.Error(), leak) {
					t.Fatalf("error leaks the token: %v", err)
				}
			}
			if !strings.Contains(err.Error(), "entry") && name != "empty" {
				t.Fatalf("error does not locate the entry: %v", err)
			}
		})
	}
}
