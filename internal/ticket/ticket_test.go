package ticket

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	key1 = bytes.Repeat([]byte{1}, 32)
	key2 = bytes.Repeat([]byte{2}, 48)
	t0   = time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC)
)

func sample() Ticket {
	return Ticket{
		UserID: "alice", Bucket: "dev-bucket", Key: "uploads/alice/2024/03/07/abc/photo 照片.jpg",
		Name: "photo 照片.jpg", Size: 123456789, ContentType: "image/jpeg", ContentDisposition: "attachment", Meta: map[string]string{"albumId": "a-17"},
		IssuedAt: t0, Expires: t0.Add(time.Hour),
	}
}

func mustSigner(t testing.TB, keys ...[]byte) *Signer {
	t.Helper()
	s, err := NewSigner(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := mustSigner(t, key1)
	in := sample()
	in.IssuedAt = in.IssuedAt.Add(700 * time.Millisecond).In(time.FixedZone("x", 3600)) // sub-second and zone dropped
	tok, err := s.Sign(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "v1.") || strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not v1.<b64url>.<b64url>", tok)
	}
	got, err := s.Verify(tok, t0.Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Verify = %+v, want %+v", got, want)
	}
}

func TestVerifyExpiry(t *testing.T) {
	s := mustSigner(t, key1)
	tok, err := s.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok, t0.Add(time.Hour-time.Nanosecond)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	for _, at := range []time.Time{t0.Add(time.Hour), t0.Add(24 * time.Hour)} {
		got, err := s.Verify(tok, at)
		if !errors.Is(err, ErrExpired) {
			t.Fatalf("Verify at %v = %v, want ErrExpired", at, err)
		}
		if got.Key != sample().Key {
			t.Fatalf("expired ticket not returned: %+v", got)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustSigner(t, key1)
	rotated := mustSigner(t, key2, key1)
	retired := mustSigner(t, key2)
	tokOld, _ := old.Sign(sample())
	tokNew, _ := rotated.Sign(sample())
	if _, err := rotated.Verify(tokOld, t0); err != nil {
		t.Errorf("old token under rotation: %v", err)
	}
	if _, err := rotated.Verify(tokNew, t0); err != nil {
		t.Errorf("new token: %v", err)
	}
	if _, err := old.Verify(tokNew, t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("new token under old key = %v", err)
	}
	if _, err := retired.Verify(tokOld, t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("old token after retirement = %v", err)
	}
	if _, err := retired.Verify(tokNew, t0); err != nil {
		t.Errorf("new token after retirement: %v", err)
	}
}

func TestNewSignerErrors(t *testing.T) {
	if _, err := NewSigner(); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := NewSigner(make([]byte, 31)); err == nil {
		t.Error("31-byte key accepted")
	}
	if _, err := NewSigner(key1, []byte("short")); err == nil {
		t.Error("short verification key accepted")
	}
	// Keys are copied: changing the caller's slice changes nothing.
	k := bytes.Clone(key1)
	s := mustSigner(t, k)
	tok, _ := s.Sign(sample())
	k[0] ^= 0xff
	if _, err := s.Verify(tok, t0); err != nil {
		t.Errorf("after caller mutated key: %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	s := mustSigner(t, key1)
	mod := []func(*Ticket){
		func(t *Ticket) { t.UserID = "" },
		func(t *Ticket) { t.Bucket = "" },
		func(t *Ticket) { t.Key = "" },
		func(t *Ticket) { t.Size = -1 },
		func(t *Ticket) { t.IssuedAt = time.Time{} },
		func(t *Ticket) { t.Expires = t.IssuedAt },
		func(t *Ticket) { t.Expires = t.IssuedAt.Add(999 * time.Millisecond) },
		func(t *Ticket) { t.Expires = time.Time{} },
		func(t *Ticket) { t.Name = "bad\xff" },
		func(t *Ticket) { t.Key = strings.Repeat("k", 7000) },
	}
	for i, m := range mod {
		tk := sample()
		m(&tk)
		if tok, err := s.Sign(tk); err == nil {
			t.Errorf("case %d: Sign(%+v) = %q, want error", i, tk, tok)
		}
	}
}

// forge builds a token whose MAC is valid for key over an arbitrary payload,
// to reach the checks that run after the signature.
func forge(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macContext))
	dk := m.Sum(nil)
	signed := "v1." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac(dk, signed))
}

func TestVerifyRejects(t *testing.T) {
	s := mustSigner(t, key1)
	good, _ := s.Sign(sample())
	parts := strings.Split(good, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	otherUser := sample()
	otherUser.UserID = "mallory"
	tokOther, _ := s.Sign(otherUser)
	otherParts := strings.Split(tokOther, ".")
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "hello", ErrMalformed},
		{"v2", "v2." + parts[1] + "." + parts[2], ErrMalformed},
		{"no signature", "v1." + parts[1], ErrMalformed},
		{"extra part", good + ".x", ErrMalformed},
		{"padded signature", good + "=", ErrMalformed},
		{"std base64 signature", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+", ErrMalformed},
		{"short signature", parts[0] + "." + parts[1] + "." + parts[2][:20], ErrMalformed},
		{"oversized", "v1." + strings.Repeat("A", MaxTokenLen) + "." + parts[2], ErrMalformed},
		{"flipped payload", "v1." + flip(parts[1], 5) + "." + parts[2], ErrBadSignature},
		{"flipped signature", "v1." + parts[1] + "." + flip(parts[2], 3), ErrBadSignature},
		{"swapped payload", "v1." + otherParts[1] + "." + parts[2], ErrBadSignature},
		{"wrong key", func() string { tk, _ := mustSigner(t, key2).Sign(sample()); return tk }(), ErrBadSignature},
		{"signed non-JSON", forge(key1, "not json"), ErrMalformed},
		{"signed unknown field", forge(key1, `{"u":"a","b":"b","k":"k","i":1,"e":2,"x":1}`), ErrMalformed},
		{"signed missing key", forge(key1, `{"u":"a","b":"b","i":1,"e":2}`), ErrMalformed},
		{"signed negative size", forge(key1, `{"u":"a","b":"b","k":"k","s":-1,"i":1,"e":2}`), ErrMalformed},
		{"signed trailing data", forge(key1, `{"u":"a","b":"b","k":"k","i":1,"e":2}{}`), ErrMalformed},
	}
	for _, tc := range tests {
		got, err := s.Verify(tc.tok, t0)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %+v, %v; want %v", tc.name, got, err, tc.want)
		}
		if !reflect.DeepEqual(got, Ticket{}) {
			t.Errorf("%s: rejected token returned a ticket: %+v", tc.name, got)
		}
	}
	// The forge helper itself is right: a well-formed forged payload verifies.
	if _, err := s.Verify(forge(key1, `{"u":"a","b":"b","k":"k","i":1,"e":99999999999}`), t0); err != nil {
		t.Fatalf("forge helper broken: %v", err)
	}
}

func FuzzTicketVerify(f *testing.F) {
	s := mustSigner(f, key1, key2)
	good, _ := s.Sign(sample())
	f.Add(good, "alice", "uploads/x", int64(5), "")
	f.Add("v1..", "", "", int64(0), "")
	f.Add("v1.e30.AAAA", "u", "k", int64(-1), "\xff")
	f.Fuzz(func(t *testing.T, tok, user, key string, size int64, name string) {
		if tok != good {
			if got, err := s.Verify(tok, t0); err == nil {
				t.Fatalf("random token %q verified: %+v", tok, got)
			}
		}
		in := Ticket{UserID: user, Bucket: "b", Key: key, Name: name, Size: size, IssuedAt: t0, Expires: t0.Add(time.Minute)}
		signed, err := s.Sign(in)
		if err != nil {
			return
		}
		out, err := s.Verify(signed, t0)
		if err != nil || !reflect.DeepEqual(out, in) {
			t.Fatalf("round trip of %+v = %+v, %v", in, out, err)
		}
		if _, err := s.Verify(signed, t0.Add(time.Minute)); !errors.Is(err, ErrExpired) {
			t.Fatalf("expired ticket: %v", err)
		}
	})
}
