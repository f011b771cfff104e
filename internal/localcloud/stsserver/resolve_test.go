package stsserver

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

func TestResolveErrors(t *testing.T) {
	e := newTestEnv(t, nil)
	c1 := e.mustAssumeRole(t, basicRequest())
	c2 := e.mustAssumeRole(t, &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-43")})
	key1, tok1 := dara.StringValue(c1.AccessKeyId), dara.StringValue(c1.SecurityToken)
	key2, tok2 := dara.StringValue(c2.AccessKeyId), dara.StringValue(c2.SecurityToken)
	exp1, _ := time.Parse("2006-01-02T15:04:05Z", dara.StringValue(c1.Expiration))
	if key1 == key2 || tok1 == tok2 || dara.StringValue(c1.AccessKeySecret) == dara.StringValue(c2.AccessKeySecret) {
		t.Fatal("two sessions share a key id, token or secret")
	}

	// Flip one bit of the sealed ciphertext.
	blob, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok1, "CAIS"))
	if err != nil {
		t.Fatalf("token is not CAIS + base64url: %v", err)
	}
	blob[len(blob)/2] ^= 1
	flipped := "CAIS" + base64.RawURLEncoding.EncodeToString(blob)

	now := time.Now()
	tests := []struct {
		name       string
		key, token string
		at         time.Time
		want       error
	}{
		{"tampered token", key1, flipped, now, ErrInvalidToken},
		{"truncated token", key1, tok1[:len(tok1)-10], now, ErrInvalidToken},
		{"token without prefix", key1, strings.TrimPrefix(tok1, "CAIS"), now, ErrInvalidToken},
		{"token not base64", key1, "CAIS!!!!", now, ErrInvalidToken},
		{"empty token", key1, "", now, ErrInvalidToken},
		{"token of another key id", key1, tok2, now, ErrUnknownAccessKey},
		{"key id not temporary", testAK, tok1, now, ErrUnknownAccessKey},
		{"key id without prefix", strings.TrimPrefix(key1, "STS."), tok1, now, ErrUnknownAccessKey},
		{"expired token", key1, tok1, exp1, ErrTokenExpired},
		{"long expired token", key1, tok1, exp1.Add(48 * time.Hour), ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := e.svc.Resolve(tt.key, tt.token, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Resolve = %+v, %v; want %v", sess, err, tt.want)
			}
			if sess != nil {
				t.Errorf("Resolve returned a session with an error")
			}
		})
	}
	if _, err := e.svc.Resolve(key2, tok2, exp1.Add(-time.Minute)); err != nil {
		t.Errorf("valid token: %v", err)
	}
}

func TestResolveExpiryFollowsServiceClock(t *testing.T) {
	var mu sync.Mutex
	offset := time.Duration(0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	e := newTestEnv(t, func(c *Config) { c.Now = clock })
	c := e.mustAssumeRole(t, &sts.AssumeRoleRequest{
		RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(900)})
	key, tok := dara.StringValue(c.AccessKeyId), dara.StringValue(c.SecurityToken)
	// A zero time means "use the service clock".
	if _, err := e.svc.Resolve(key, tok, time.Time{}); err != nil {
		t.Fatalf("Resolve now: %v", err)
	}
	mu.Lock()
	offset = 901 * time.Second
	mu.Unlock()
	if _, err := e.svc.Resolve(key, tok, time.Time{}); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Resolve after moving the clock: %v, want ErrTokenExpired", err)
	}
}

func TestResolveAfterRestart(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.mustAssumeRole(t, &sts.AssumeRoleRequest{
		RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), Policy: dara.String(testSessionPolicy)})
	key, secret, tok := dara.StringValue(c.AccessKeyId), dara.StringValue(c.AccessKeySecret), dara.StringValue(c.SecurityToken)

	restarted, err := New(e.cfg)
	if err != nil {
		t.Fatalf("New after restart: %v", err)
	}
	sess, err := restarted.Resolve(key, tok, time.Now())
	if err != nil {
		t.Fatalf("Resolve after restart: %v", err)
	}
	if sess.AccessKeySecret != secret || len(sess.Policies) != 2 || sess.SessionName != "u-42" {
		t.Errorf("Resolve after restart = %+v", sess)
	}

	other := e.cfg
	other.DataDir = t.TempDir()
	fresh, err := New(other)
	if err != nil {
		t.Fatalf("New with another DataDir: %v", err)
	}
	if _, err := fresh.Resolve(key, tok, time.Now()); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Resolve with another sealing key: %v, want ErrInvalidToken", err)
	}

	dropped := e.cfg
	dropped.Roles = []Role{{ARN: "acs:ram::1000000000000000:role/other", Policy: testRolePolicy}}
	withoutRole, err := New(dropped)
	if err != nil {
		t.Fatalf("New without the role: %v", err)
	}
	if _, err := withoutRole.Resolve(key, tok, time.Now()); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Resolve after the role was removed: %v, want ErrInvalidToken", err)
	}
}

func TestSealingKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sts")
	cfg := Config{AccountID: testAccount, Keys: map[string]string{testAK: testSK}, DataDir: dir}
	if _, err := New(cfg); err != nil {
		t.Fatalf("New: %v", err)
	}
	path := filepath.Join(dir, keyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != masterKeySize {
		t.Errorf("key file mode %v size %d, want 0600 and %d bytes", fi.Mode().Perm(), fi.Size(), masterKeySize)
	}
	first, _ := os.ReadFile(path)
	if _, err := New(cfg); err != nil {
		t.Fatalf("second New: %v", err)
	}
	if second, _ := os.ReadFile(path); !bytes.Equal(first, second) {
		t.Error("restart replaced the sealing key")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key file", len(entries))
	}

	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "sealing key") {
		t.Errorf("New with a corrupt key file: %v, want an error", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := func() Config {
		return Config{
			AccountID: testAccount,
			Keys:      map[string]string{testAK: testSK},
			Roles:     []Role{{ARN: testRoleARN, Policy: testRolePolicy}},
			DataDir:   t.TempDir(),
		}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no account", func(c *Config) { c.AccountID = "" }, "AccountID"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "DataDir"},
		{"empty secret", func(c *Config) { c.Keys["other"] = "" }, "empty"},
		{"temporary caller key", func(c *Config) { c.Keys["STS.abc"] = "x" }, "prefix"},
		{"malformed role ARN", func(c *Config) { c.Roles[0].ARN = "acs:ram:::role/x" }, "not acs:ram"},
		{"role of another account", func(c *Config) { c.Roles[0].ARN = "acs:ram::2000000000000000:role/x" }, "belongs to account"},
		{"bad role policy", func(c *Config) { c.Roles[0].Policy = `{"Version":"1"}` }, "policy of role"},
		{"duplicate role", func(c *Config) { c.Roles = append(c.Roles, c.Roles[0]) }, "twice"},
		{"max below min", func(c *Config) { c.Roles[0].MaxSessionDuration = time.Minute }, "MaxSessionDuration"},
		{"max above 12h", func(c *Config) { c.Roles[0].MaxSessionDuration = 13 * time.Hour }, "MaxSessionDuration"},
		{"min below a second", func(c *Config) { c.MinDuration = time.Millisecond }, "MinDuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.mutate(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

// syncBuffer is a log sink safe for the concurrent handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogsNeverContainSecrets(t *testing.T) {
	var logs syncBuffer
	e := newTestEnv(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c := e.mustAssumeRole(t, &sts.AssumeRoleRequest{
		RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), Policy: dara.String(testSessionPolicy)})
	_, wrongSecretErr := e.client(t, testAK, "wrong-secret-value-123").AssumeRole(basicRequest())
	_, paramErr := e.assumeRole(t, &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("a")})
	if wrongSecretErr == nil || paramErr == nil {
		t.Fatal("expected the failing calls to fail")
	}
	e.send(t, e.rec.last(t)) // a replay is logged too

	out := logs.String()
	for _, want := range []string{"AssumeRole", dara.StringValue(c.AccessKeyId), "SignatureDoesNotMatch", "InvalidParameter.RoleSessionName", "SignatureNonceUsed"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	master, err := os.ReadFile(filepath.Join(e.cfg.DataDir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"caller secret":       testSK,
		"wrong caller secret": "wrong-secret-value-123",
		"minted secret":       dara.StringValue(c.AccessKeySecret),
		"security token":      dara.StringValue(c.SecurityToken),
		"token body":          strings.TrimPrefix(dara.StringValue(c.SecurityToken), "CAIS")[:40],
		"sealing key hex":     hex.EncodeToString(master),
		"sealing key base64":  base64.StdEncoding.EncodeToString(master),
	}
	for name, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log output contains the %s", name)
		}
	}
}
