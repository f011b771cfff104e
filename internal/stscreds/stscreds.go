// Package stscreds mints least-privilege STS credentials for browser uploads:
// one AssumeRole call per upload (object scope) or per user prefix (prefix
// scope, cached), each with a session policy that allows only the multipart
// upload actions on exactly that object or prefix.
package stscreds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scopes of the minted credentials.
const (
	ScopeObject = "object"
	ScopePrefix = "prefix"
)

const (
	defaultDuration = 900 * time.Second
	// stsCallTimeout bounds one AssumeRole round trip. Shared calls run
	// detached from any single caller's context, so they need their own bound.
	stsCallTimeout = 30 * time.Second
	// refreshFraction of a cached credential's lifetime may pass before it is
	// replaced, so a cache hit always leaves the browser 20 % of the lifetime.
	refreshNum, refreshDen = 4, 5
)

var (
	bucketPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	roleARNPattern = regexp.MustCompile(`^acs:ram::[0-9]+:role/[^/*?]+$`)
)

// Credentials are temporary STS credentials.
type Credentials struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
	Expiration                                  time.Time
}

// LogValue keeps the secret and token out of logs if a caller logs the value.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID), slog.Time("expiration", c.Expiration))
}

// String omits the secret and token.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{AccessKeyID:%s Expiration:%s}", c.AccessKeyID, c.Expiration.Format(time.RFC3339))
}

// GoString omits the secret and token, also for %#v.
func (c Credentials) GoString() string { return c.String() }

// Config configures a Minter.
type Config struct {
	// Endpoint is the STS host, e.g. "sts.cn-hangzhou.aliyuncs.com", or
	// "127.0.0.1:9001" for the local cloud.
	Endpoint string
	// Protocol is "https" (default) or "http" (only sensible on loopback).
	Protocol string
	// AccessKeyID and AccessKeySecret are the backend's own RAM user keys.
	// They are never logged.
	AccessKeyID, AccessKeySecret string
	// RoleARN is the role assumed, acs:ram::<account>:role/<name>.
	RoleARN string
	// Bucket is the bucket the policies name.
	Bucket string
	// Duration is the credential lifetime (DurationSeconds); default 900 s.
	Duration time.Duration
	// Scope is ScopeObject (default) or ScopePrefix.
	Scope string
	// HTTPDo, if set, sends the STS requests: an *http.Client's Do, say.
	// Natively it replaces the SDK's pooled client (it is installed as
	// darabonba-openapi's utils.Config.HttpClient), so the client's own
	// timeouts, TLS and proxy settings apply and the SDK's are ignored. The
	// js/wasm build requires it (the Workers fetch API on Cloudflare, where
	// net/http's transport does not work). It is a func, not an interface
	// with a Do method, for the Workers size limit: see acs3Client.
	HTTPDo func(*http.Request) (*http.Response, error)
	Now    func() time.Time
	Logger *slog.Logger
}

// LogValue redacts the secret so logging the config is safe.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint), slog.String("protocol", c.Protocol),
		slog.String("access_key_id", c.AccessKeyID), slog.String("role_arn", c.RoleARN),
		slog.String("bucket", c.Bucket), slog.Duration("duration", c.Duration), slog.String("scope", c.Scope))
}

// String redacts the secret for fmt's %v and %+v.
func (c Config) String() string {
	return fmt.Sprintf("stscreds.Config{Endpoint:%s Protocol:%s AccessKeyID:%s AccessKeySecret:REDACTED RoleARN:%s Bucket:%s Duration:%s Scope:%s}",
		c.Endpoint, c.Protocol, c.AccessKeyID, c.RoleARN, c.Bucket, c.Duration, c.Scope)
}

// GoString redacts the secret for %#v.
func (c Config) GoString() string { return c.String() }

// assumer makes one AssumeRole call. Natively it is the official STS SDK
// (sdk.go); the js/wasm build uses acs3Client (assumerole.go) instead, see
// newAssumer.
type assumer interface {
	// assumeRole returns the answer's Credentials, nil if it has none. An
	// error is a failed call: an *STSError when STS answered with one,
	// otherwise a transport or decoding error.
	assumeRole(ctx context.Context, in assumeInput) (*rawCredentials, error)
}

// rawCredentials are the Credentials of an AssumeRole answer, unchecked.
type rawCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
}

// assumeInput are the AssumeRole parameters the Minter sends.
type assumeInput struct {
	RoleARN, SessionName, Policy string
	DurationSeconds              int64
}

// Minter mints upload credentials. It is safe for concurrent use.
type Minter struct {
	cfg Config
	sts assumer
	now func() time.Time
	log *slog.Logger

	mu       sync.Mutex
	cache    map[cacheKey]cacheEntry
	sweepAt  int
	inflight map[cacheKey]*flight

	calls, hits atomic.Int64
}

// New validates cfg and builds the STS client.
func New(cfg Config) (*Minter, error) {
	return newWith(cfg, newAssumer)
}

// newWith is New with the AssumeRole implementation given, so the tests can
// run the js/wasm one natively too.
func newWith(cfg Config, newSTS func(Config) (assumer, error)) (*Minter, error) {
	if cfg.Protocol == "" {
		cfg.Protocol = "https"
	}
	if cfg.Duration == 0 {
		cfg.Duration = defaultDuration
	}
	if cfg.Scope == "" {
		cfg.Scope = ScopeObject
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if cfg.Endpoint == "" || strings.ContainsAny(cfg.Endpoint, "/?#@ ") {
		errs = append(errs, fmt.Errorf("Endpoint must be a host or host:port, got %q", cfg.Endpoint))
	}
	if cfg.Protocol != "https" && cfg.Protocol != "http" {
		errs = append(errs, fmt.Errorf("Protocol must be https or http, got %q", cfg.Protocol))
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		errs = append(errs, errors.New("AccessKeyID and AccessKeySecret are required"))
	}
	if !roleARNPattern.MatchString(cfg.RoleARN) {
		errs = append(errs, fmt.Errorf("RoleARN must look like acs:ram::<account>:role/<name>, got %q", cfg.RoleARN))
	}
	if !bucketPattern.MatchString(cfg.Bucket) {
		errs = append(errs, fmt.Errorf("Bucket %q is not a valid OSS bucket name", cfg.Bucket))
	}
	if cfg.Duration < time.Second || cfg.Duration%time.Second != 0 {
		errs = append(errs, fmt.Errorf("Duration must be a positive whole number of seconds, got %s", cfg.Duration))
	}
	if cfg.Scope != ScopeObject && cfg.Scope != ScopePrefix {
		errs = append(errs, fmt.Errorf("Scope must be %q or %q, got %q", ScopeObject, ScopePrefix, cfg.Scope))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("stscreds: invalid config: %w", err)
	}
	sts, err := newSTS(cfg)
	if err != nil {
		return nil, fmt.Errorf("stscreds: STS client: %w", err)
	}
	return &Minter{
		cfg:      cfg,
		sts:      sts,
		now:      cfg.Now,
		log:      cfg.Logger,
		cache:    map[cacheKey]cacheEntry{},
		sweepAt:  minSweep,
		inflight: map[cacheKey]*flight{},
	}, nil
}

// ForObject returns credentials allowed to upload exactly key (object scope)
// or anything under prefix (prefix scope; prefix must end in '/' and key must
// start with it). In object scope prefix is ignored unless non-empty, in
// which case key must still start with it. sessionName must be a valid
// RoleSessionName. Keys and prefixes containing '*' or '?' are refused with
// ErrWildcardInKey.
func (m *Minter) ForObject(ctx context.Context, sessionName, prefix, key string) (Credentials, error) {
	if err := checkSessionName(sessionName); err != nil {
		return Credentials{}, err
	}
	if err := checkKey("key", key); err != nil {
		return Credentials{}, err
	}
	if prefix != "" && !strings.HasPrefix(key, prefix) {
		return Credentials{}, fmt.Errorf("%w: key %q is not under prefix %q", ErrInvalidInput, key, prefix)
	}
	if m.cfg.Scope == ScopeObject {
		return m.assumeRole(ctx, sessionName, ObjectPolicy(m.cfg.Bucket, key), key)
	}
	if err := checkKey("prefix", prefix); err != nil {
		return Credentials{}, err
	}
	if !strings.HasSuffix(prefix, "/") {
		// Without the separator "u-42" would also grant "u-420/...".
		return Credentials{}, fmt.Errorf("%w: prefix %q must end in '/'", ErrInvalidInput, prefix)
	}
	return m.cached(ctx, cacheKey{session: sessionName, prefix: prefix})
}

// Stats reports the AssumeRole calls made and the prefix-cache hits
// (including callers that joined a call already in flight).
func (m *Minter) Stats() (calls, hits int64) {
	return m.calls.Load(), m.hits.Load()
}

// assumeRole makes one AssumeRole call with the session policy. resource is
// only for the log.
func (m *Minter) assumeRole(ctx context.Context, sessionName, policy, resource string) (Credentials, error) {
	if err := checkPolicySize(policy); err != nil {
		return Credentials{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, stsCallTimeout)
	defer cancel()
	m.calls.Add(1)
	raw, err := m.sts.assumeRole(ctx, assumeInput{
		RoleARN:         m.cfg.RoleARN,
		SessionName:     sessionName,
		Policy:          policy,
		DurationSeconds: int64(m.cfg.Duration / time.Second),
	})
	if err != nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "stscreds: AssumeRole failed",
			slog.String("session", sessionName), slog.String("scope", m.cfg.Scope),
			slog.String("resource", resource), slog.String("error", err.Error()))
		return Credentials{}, err
	}
	c, err := credentialsFrom(raw)
	if err != nil {
		return Credentials{}, err
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "stscreds: minted credentials",
		slog.String("session", sessionName), slog.String("scope", m.cfg.Scope),
		slog.String("resource", resource), slog.String("access_key_id", c.AccessKeyID),
		slog.Time("expiration", c.Expiration))
	return c, nil
}

func credentialsFrom(rc *rawCredentials) (Credentials, error) {
	if rc == nil {
		return Credentials{}, errors.New("stscreds: AssumeRole response has no Credentials")
	}
	c := Credentials{AccessKeyID: rc.AccessKeyID, AccessKeySecret: rc.AccessKeySecret, SecurityToken: rc.SecurityToken}
	if c.AccessKeyID == "" || c.AccessKeySecret == "" || c.SecurityToken == "" {
		return Credentials{}, errors.New("stscreds: AssumeRole response has incomplete Credentials")
	}
	exp, err := time.Parse(time.RFC3339, rc.Expiration)
	if err != nil {
		return Credentials{}, fmt.Errorf("stscreds: AssumeRole response Expiration: %w", err)
	}
	c.Expiration = exp
	return c, nil
}
