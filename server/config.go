// Package server is the signing backend: an Echo application that
// authenticates users, decides object keys and mints least-privilege STS
// credentials for one upload at a time. In dev mode it runs the local
// Alibaba Cloud (internal/localcloud) in-process.
package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/internal/partplan"
)

// Mode selects where the backend's OSS and STS are.
type Mode string

const (
	// ModeDev runs the local cloud in-process on loopback.
	ModeDev Mode = "dev"
	// ModeCloud talks to real (or explicitly configured) OSS and STS endpoints.
	ModeCloud Mode = "cloud"
)

// Config is the backend configuration. Every field comes from an environment
// variable, documented in the README's one configuration table.
type Config struct {
	Addr         string // OSSUP_ADDR
	Mode         Mode   // OSSUP_MODE
	DataDir      string // OSSUP_DATA_DIR
	LocalOSSAddr string // OSSUP_LOCAL_OSS_ADDR
	LocalSTSAddr string // OSSUP_LOCAL_STS_ADDR
	AccessKeyID  string // OSS_ACCESS_KEY_ID
	// AccessKeySecret is OSS_ACCESS_KEY_SECRET. It is never logged.
	AccessKeySecret string
	Bucket          string // OSSUP_BUCKET
	Region          string // OSSUP_REGION
	RoleARN         string // OSSUP_ROLE_ARN
	OSSEndpoint     string // OSSUP_OSS_ENDPOINT: the backend's own way to OSS
	STSEndpoint     string // OSSUP_STS_ENDPOINT
	// PublicOSSEndpoint is OSSUP_PUBLIC_OSS_ENDPOINT: the OSS endpoint
	// browsers are told ("": the one the backend uses).
	PublicOSSEndpoint string
	// WebDir is OSSUP_WEB_DIR: the web files to serve ("": the ones
	// embedded in the binary, or ./web in a binary built without them).
	WebDir string
	// APIOnly is OSSUP_API_ONLY: serve the API and no page or asset, for
	// sites that serve the uploader themselves (a CDN, their bundle).
	APIOnly  bool
	LogLevel string // OSSUP_LOG_LEVEL
	// Faults is OSSUP_FAULTS: fault injection for the local OSS (dev only).
	Faults faults.Config
	// MinSTSDuration is OSSUP_STS_MIN_DURATION: lets the local STS mint
	// credentials shorter than 900 s (dev only, for expiry tests).
	MinSTSDuration time.Duration

	// Upload sessions.
	Auth            string        // OSSUP_AUTH: dev, token or jwt
	AuthTokens      string        // OSSUP_AUTH_TOKENS: "token=user,..."
	JWTSecret       string        // OSSUP_JWT_SECRET (HS256)
	JWTJWKSURL      string        // OSSUP_JWT_JWKS_URL (RS256/ES256)
	JWTIssuer       string        // OSSUP_JWT_ISSUER
	JWTAudience     string        // OSSUP_JWT_AUDIENCE
	Secret          string        // OSSUP_SECRET: signs tickets and dev cookies (never logged)
	PreviousSecret  string        // OSSUP_SECRET_PREVIOUS: still verifies, for rotation
	TicketTTL       time.Duration // OSSUP_TICKET_TTL
	KeyTemplate     string        // OSSUP_KEY_TEMPLATE
	MaxSize         int64         // OSSUP_MAX_SIZE (bytes)
	AllowedTypes    string        // OSSUP_ALLOWED_TYPES
	AllowedExts     string        // OSSUP_ALLOWED_EXTENSIONS
	InlineTypes     string        // OSSUP_INLINE_TYPES: shown inline, the rest stored as attachments
	MetaFields      string        // OSSUP_META_FIELDS: application metadata an upload may carry
	DevExpose       bool          // OSSUP_DEV_EXPOSE: dev mode may listen beyond loopback
	MetricsToken    string        // OSSUP_METRICS_TOKEN: bearer token for /metrics from anywhere (never logged)
	PartSize        int64         // OSSUP_PART_SIZE (bytes)
	Concurrency     int           // OSSUP_CONCURRENCY
	STSDuration     time.Duration // OSSUP_STS_DURATION
	CredentialScope string        // OSSUP_CREDENTIAL_SCOPE: object or prefix
	CORSOrigins     []string      // OSSUP_CORS_ORIGINS
	RateLimitIP     float64       // OSSUP_RATE_LIMIT_IP (requests/s per client IP)
	RateLimitUser   float64       // OSSUP_RATE_LIMIT_USER (requests/s per user)
	TrustProxy      bool          // OSSUP_TRUST_PROXY: take the client IP from X-Forwarded-For
	WebhookURL      string        // OSSUP_WEBHOOK_URL
	WebhookSecret   string        // OSSUP_WEBHOOK_SECRET (never logged)
	OSSCallbackURL  string        // OSSUP_OSS_CALLBACK_URL: OSS calls it when an object is stored
	OSSCallbackBody string        // OSSUP_OSS_CALLBACK_BODY: its body template (${object}, ${size}, ...)
	JanitorInterval time.Duration // OSSUP_JANITOR_INTERVAL (0 = off)
	JanitorMaxAge   time.Duration // OSSUP_JANITOR_MAX_AGE
	// UnverifiedMaxAge is OSSUP_UNVERIFIED_MAX_AGE: the janitor deletes
	// objects under the key prefix stored longer ago and never verified.
	UnverifiedMaxAge time.Duration
}

// LoadConfig reads the configuration from getenv (os.Getenv in production)
// and validates it.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:              get("OSSUP_ADDR", "127.0.0.1:8080"),
		Mode:              Mode(get("OSSUP_MODE", string(ModeDev))),
		DataDir:           get("OSSUP_DATA_DIR", "./data"),
		LocalOSSAddr:      get("OSSUP_LOCAL_OSS_ADDR", "127.0.0.1:9000"),
		LocalSTSAddr:      get("OSSUP_LOCAL_STS_ADDR", "127.0.0.1:9001"),
		AccessKeyID:       get("OSS_ACCESS_KEY_ID", ""),
		AccessKeySecret:   get("OSS_ACCESS_KEY_SECRET", ""),
		Bucket:            get("OSSUP_BUCKET", devBucket),
		Region:            get("OSSUP_REGION", devRegion),
		RoleARN:           get("OSSUP_ROLE_ARN", ""),
		OSSEndpoint:       get("OSSUP_OSS_ENDPOINT", ""),
		STSEndpoint:       get("OSSUP_STS_ENDPOINT", ""),
		PublicOSSEndpoint: get("OSSUP_PUBLIC_OSS_ENDPOINT", ""),
		WebDir:            get("OSSUP_WEB_DIR", ""),
		LogLevel:          get("OSSUP_LOG_LEVEL", "info"),
	}
	c.Auth = get("OSSUP_AUTH", "")
	c.AuthTokens = get("OSSUP_AUTH_TOKENS", "")
	c.JWTSecret = get("OSSUP_JWT_SECRET", "")
	c.JWTJWKSURL = get("OSSUP_JWT_JWKS_URL", "")
	c.JWTIssuer = get("OSSUP_JWT_ISSUER", "")
	c.JWTAudience = get("OSSUP_JWT_AUDIENCE", "")
	c.Secret = get("OSSUP_SECRET", "")
	c.PreviousSecret = get("OSSUP_SECRET_PREVIOUS", "")
	c.KeyTemplate = get("OSSUP_KEY_TEMPLATE", "uploads/{user}/{date}/{random}/{path}{name}")
	c.AllowedTypes = get("OSSUP_ALLOWED_TYPES", "")
	c.AllowedExts = get("OSSUP_ALLOWED_EXTENSIONS", "")
	c.InlineTypes = get("OSSUP_INLINE_TYPES", "")
	c.MetaFields = get("OSSUP_META_FIELDS", "")
	c.CredentialScope = get("OSSUP_CREDENTIAL_SCOPE", "object")
	c.WebhookURL = get("OSSUP_WEBHOOK_URL", "")
	c.WebhookSecret = get("OSSUP_WEBHOOK_SECRET", "")
	c.MetricsToken = get("OSSUP_METRICS_TOKEN", "")
	c.OSSCallbackURL = get("OSSUP_OSS_CALLBACK_URL", "")
	c.OSSCallbackBody = get("OSSUP_OSS_CALLBACK_BODY", "")
	for _, o := range strings.Split(get("OSSUP_CORS_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}

	var errs []error
	duration := func(name string, def time.Duration, allowZero bool) time.Duration {
		v := get(name, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d == 0 && !allowZero) {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 15m", name, v))
		}
		return d
	}
	number := func(name string, def, min, max float64) float64 {
		v := get(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("%s: %q is not a number between %v and %v", name, v, min, max))
		}
		return n
	}
	c.TicketTTL = duration("OSSUP_TICKET_TTL", 7*24*time.Hour, false)
	c.STSDuration = duration("OSSUP_STS_DURATION", 15*time.Minute, false)
	c.JanitorInterval = duration("OSSUP_JANITOR_INTERVAL", time.Hour, true)
	c.JanitorMaxAge = duration("OSSUP_JANITOR_MAX_AGE", 7*24*time.Hour, false)
	// Default: the ticket's lifetime and an hour, so nothing a ticket can
	// still complete is ever judged abandoned.
	c.UnverifiedMaxAge = duration("OSSUP_UNVERIFIED_MAX_AGE", c.TicketTTL+time.Hour, false)
	c.MaxSize = int64(number("OSSUP_MAX_SIZE", float64(partplan.MaxObjectSize), 0, float64(partplan.MaxObjectSize)))
	c.PartSize = int64(number("OSSUP_PART_SIZE", 8<<20, partplan.MinPartSize, partplan.MaxPartSize))
	c.Concurrency = int(number("OSSUP_CONCURRENCY", 4, 1, 64))
	c.RateLimitIP = number("OSSUP_RATE_LIMIT_IP", 20, 0.01, 1e6)
	c.RateLimitUser = number("OSSUP_RATE_LIMIT_USER", 10, 0.01, 1e6)
	boolean := func(name string) bool {
		switch v := get(name, "false"); v {
		case "true", "false":
			return v == "true"
		default:
			errs = append(errs, fmt.Errorf("%s: %q is neither true nor false", name, v))
		}
		return false
	}
	c.TrustProxy = boolean("OSSUP_TRUST_PROXY")
	c.DevExpose = boolean("OSSUP_DEV_EXPOSE")
	c.APIOnly = boolean("OSSUP_API_ONLY")
	if c.APIOnly && c.WebDir != "" {
		errs = append(errs, fmt.Errorf("OSSUP_API_ONLY=true serves no files, yet OSSUP_WEB_DIR is %q: unset one of them", c.WebDir))
	}
	if c.STSDuration < 15*time.Minute && c.MinSTSDuration == 0 && getenv("OSSUP_STS_MIN_DURATION") == "" {
		errs = append(errs, fmt.Errorf("OSSUP_STS_DURATION: %s is below STS's 900 s minimum", c.STSDuration))
	}
	if c.PublicOSSEndpoint != "" {
		if u, err := url.Parse(c.PublicOSSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("OSSUP_PUBLIC_OSS_ENDPOINT: %q is not an http(s) origin such as https://oss-cn-hangzhou.aliyuncs.com", c.PublicOSSEndpoint))
		} else if strings.Contains(u.Hostname(), "-internal.") {
			errs = append(errs, fmt.Errorf("OSSUP_PUBLIC_OSS_ENDPOINT: %s is an internal endpoint, which browsers outside Alibaba Cloud's network cannot reach; use the public one", c.PublicOSSEndpoint))
		}
	}
	if maxTicket := 30 * 24 * time.Hour; c.TicketTTL > maxTicket {
		errs = append(errs, fmt.Errorf("OSSUP_TICKET_TTL: %s is longer than 30 days; a ticket is a bearer capability to upload, so keep it as short as a resumable upload needs (default 168h)", c.TicketTTL))
	}
	if c.JanitorInterval > 0 && c.JanitorMaxAge < c.TicketTTL {
		errs = append(errs, fmt.Errorf("OSSUP_JANITOR_MAX_AGE: %s is shorter than OSSUP_TICKET_TTL (%s): the janitor would abort multipart uploads their tickets can still resume; raise it or shorten the ticket", c.JanitorMaxAge, c.TicketTTL))
	}
	if c.JanitorInterval > 0 && c.UnverifiedMaxAge < c.TicketTTL+time.Minute {
		errs = append(errs, fmt.Errorf("OSSUP_UNVERIFIED_MAX_AGE: %s is shorter than OSSUP_TICKET_TTL (%s) plus a minute: the janitor would delete objects whose tickets can still complete them "+
			"(a complete may run up to 30 s after its ticket was checked); raise it (default: the ticket lifetime plus an hour) or shorten the ticket", c.UnverifiedMaxAge, c.TicketTTL))
	} else if c.JanitorInterval > 0 && c.UnverifiedMaxAge < time.Hour {
		errs = append(errs, fmt.Errorf("OSSUP_UNVERIFIED_MAX_AGE: %s is under an hour, the shortest age the janitor deletes at (a guard against unit mistakes)", c.UnverifiedMaxAge))
	}
	if c.STSDuration > time.Hour {
		errs = append(errs, fmt.Errorf("OSSUP_STS_DURATION: %s is above the role's 3600 s maximum", c.STSDuration))
	}
	switch c.CredentialScope {
	case "object", "prefix":
	default:
		errs = append(errs, fmt.Errorf("OSSUP_CREDENTIAL_SCOPE: %q is neither object nor prefix", c.CredentialScope))
	}
	if (c.WebhookURL == "") != (c.WebhookSecret == "") {
		errs = append(errs, errors.New("OSSUP_WEBHOOK_URL and OSSUP_WEBHOOK_SECRET must be set together (the body is signed)"))
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OSSUP_WEBHOOK_URL: %q is not an http(s) URL", c.WebhookURL))
		}
	}
	if c.OSSCallbackURL != "" {
		if _, err := ossCallbackParam(c.OSSCallbackURL, c.OSSCallbackBody); err != nil {
			errs = append(errs, err)
		} else if c.Mode == ModeDev && !loopbackURL(c.OSSCallbackURL) {
			errs = append(errs, fmt.Errorf("OSSUP_OSS_CALLBACK_URL: %q: in dev mode the local OSS calls back loopback addresses only (127.0.0.1, localhost)", c.OSSCallbackURL))
		}
	} else if c.OSSCallbackBody != "" {
		errs = append(errs, errors.New("OSSUP_OSS_CALLBACK_BODY is set without OSSUP_OSS_CALLBACK_URL"))
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			errs = append(errs, fmt.Errorf("OSSUP_CORS_ORIGINS: %q is not an origin such as https://app.example.com", o))
		}
	}
	if v := getenv("OSSUP_FAULTS"); v != "" {
		f, err := faults.ParseConfig(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("OSSUP_FAULTS: %w", err))
		}
		c.Faults = f
	}
	if v := getenv("OSSUP_STS_MIN_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("OSSUP_STS_MIN_DURATION: %q is not a positive duration such as 30s", v))
		}
		c.MinSTSDuration = d
	}
	switch c.Mode {
	case ModeDev:
		// Without keys, the server generates the local cloud's root keys
		// for the data dir at its first start (devkeys.go).
		for _, a := range []struct{ name, addr string }{
			{"OSSUP_ADDR", c.Addr}, {"OSSUP_LOCAL_OSS_ADDR", c.LocalOSSAddr}, {"OSSUP_LOCAL_STS_ADDR", c.LocalSTSAddr},
		} {
			if !c.DevExpose && !loopbackAddr(a.addr) {
				errs = append(errs, fmt.Errorf("%s: %q is not a loopback address. Dev mode has anonymous users, fault injection and a local cloud whose root keys are printed; "+
					"listening beyond this machine would hand them to the network. Use 127.0.0.1:<port>, or set OSSUP_DEV_EXPOSE=true if the network is yours alone (a container, a VM)", a.name, a.addr))
			}
		}
		for name, v := range map[string]string{"OSSUP_OSS_ENDPOINT": c.OSSEndpoint, "OSSUP_STS_ENDPOINT": c.STSEndpoint} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s: dev mode runs its own OSS and STS on OSSUP_LOCAL_OSS_ADDR and OSSUP_LOCAL_STS_ADDR, so %s=%s would be ignored; "+
					"to tell browsers another address for the local OSS (a tunnel, a container's port), set OSSUP_PUBLIC_OSS_ENDPOINT; to use real OSS, set OSSUP_MODE=cloud", name, name, v))
			}
		}
		if c.RoleARN == "" {
			c.RoleARN = devRoleARN
		}
		if c.Auth == "" {
			c.Auth = "dev"
		}
	case ModeCloud:
		if c.Auth == "" || c.Auth == "dev" {
			errs = append(errs, errors.New("cloud mode needs OSSUP_AUTH=token or jwt: anonymous dev users are for the local cloud only"))
		}
		if len(c.Secret) < 32 {
			errs = append(errs, errors.New("cloud mode needs OSSUP_SECRET, at least 32 characters, the same on every replica (it signs upload tickets)"))
		}
		if c.AccessKeyID == "" || c.AccessKeySecret == "" {
			errs = append(errs, errors.New("cloud mode needs OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (a RAM user allowed to call sts:AssumeRole)"))
		}
		if c.RoleARN == "" {
			errs = append(errs, errors.New("cloud mode needs OSSUP_ROLE_ARN, the RAM role whose temporary credentials the browser gets (acs:ram::<account>:role/<name>)"))
		}
		if len(c.Faults.Rules) > 0 || c.Faults.BandwidthBytesPerSec > 0 {
			errs = append(errs, errors.New("OSSUP_FAULTS only applies to the local cloud (OSSUP_MODE=dev)"))
		}
		if c.MinSTSDuration != 0 {
			errs = append(errs, errors.New("OSSUP_STS_MIN_DURATION only applies to the local cloud (OSSUP_MODE=dev)"))
		}
		if c.OSSEndpoint == "" {
			c.OSSEndpoint = "https://oss-" + c.Region + ".aliyuncs.com"
		}
		if c.STSEndpoint == "" {
			c.STSEndpoint = "sts." + c.Region + ".aliyuncs.com"
		}
		for name, v := range map[string]string{"OSSUP_OSS_ENDPOINT": c.OSSEndpoint, "OSSUP_STS_ENDPOINT": c.STSEndpoint, "OSSUP_PUBLIC_OSS_ENDPOINT": c.PublicOSSEndpoint} {
			if host, proto := splitEndpoint(v, "https"); v != "" && proto == "http" && !loopbackAddrOrHost(host) {
				errs = append(errs, fmt.Errorf("%s: %s is plain http: signed requests and the temporary credentials (an STS answer carries their secret) would cross the network unencrypted; use https://", name, v))
			}
		}
		if c.TicketTTL < time.Minute {
			errs = append(errs, fmt.Errorf("OSSUP_TICKET_TTL: %s is shorter than a minute: uploads would expire before they could start", c.TicketTTL))
		}
	default:
		errs = append(errs, fmt.Errorf("OSSUP_MODE: %q is neither dev nor cloud", c.Mode))
	}
	if (c.AccessKeyID == "") != (c.AccessKeySecret == "") {
		errs = append(errs, errors.New("OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set together"))
	}
	if c.RoleARN != "" && !validRoleARN(c.RoleARN) {
		errs = append(errs, fmt.Errorf("OSSUP_ROLE_ARN: %q is not of the form acs:ram::<account-id>:role/<name>", c.RoleARN))
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		errs = append(errs, errors.New("OSSUP_SECRET must be at least 32 characters"))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("OSSUP_METRICS_TOKEN must be at least 16 characters"))
	}
	if c.PreviousSecret != "" && len(c.PreviousSecret) < 32 {
		errs = append(errs, errors.New("OSSUP_SECRET_PREVIOUS must be at least 32 characters"))
	}
	switch c.Auth {
	case "dev", "":
	case "token":
		if c.AuthTokens == "" {
			errs = append(errs, errors.New("OSSUP_AUTH=token needs OSSUP_AUTH_TOKENS (token=user,...)"))
		}
	case "jwt":
		if (c.JWTSecret == "") == (c.JWTJWKSURL == "") {
			errs = append(errs, errors.New("OSSUP_AUTH=jwt needs exactly one of OSSUP_JWT_SECRET (HS256) and OSSUP_JWT_JWKS_URL (RS256/ES256)"))
		}
		if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
			errs = append(errs, errors.New("OSSUP_JWT_SECRET must be at least 32 characters"))
		}
	default:
		errs = append(errs, fmt.Errorf("OSSUP_AUTH: %q is not one of dev, token, jwt", c.Auth))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("OSSUP_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, nil
}

func validRoleARN(arn string) bool {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return false
	}
	account, role, ok := strings.Cut(rest, ":role/")
	if !ok || account == "" || role == "" {
		return false
	}
	for _, c := range account {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// String describes the configuration for logs, without the secret.
func (c Config) String() string {
	b, _ := json.Marshal(map[string]any{
		"addr": c.Addr, "mode": c.Mode, "dataDir": c.DataDir, "bucket": c.Bucket, "region": c.Region,
		"roleArn": c.RoleARN, "accessKeyId": c.AccessKeyID, "ossEndpoint": c.OSSEndpoint, "stsEndpoint": c.STSEndpoint,
		"auth": c.Auth, "keyTemplate": c.KeyTemplate, "credentialScope": c.CredentialScope, "corsOrigins": c.CORSOrigins,
		"webhook": c.WebhookURL != "",
	})
	return string(b)
}

// NewLogger is the process logger both commands use: text lines on stderr at
// the configured level.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// loopbackAddr reports a host:port whose host is a loopback IP or
// localhost; an empty host ("":8080) listens everywhere.
func loopbackAddr(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	return loopbackHost(h)
}

// loopbackHost reports a loopback IP (127.0.0.0/8, ::1) or localhost
// (also *.localhost, which resolves to loopback by RFC 6761 and in every
// browser).
func loopbackHost(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// loopbackAddrOrHost is loopbackAddr for "host:port" and loopbackHost for a
// bare host.
func loopbackAddrOrHost(s string) bool {
	if h, _, err := net.SplitHostPort(s); err == nil {
		return loopbackHost(h)
	}
	return loopbackHost(s)
}
