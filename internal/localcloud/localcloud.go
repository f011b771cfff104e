// Package localcloud assembles the local Alibaba Cloud: the OSS-compatible
// and STS-compatible endpoints on their own loopback listeners, sharing one
// data directory, with the dev account's keys, role and bucket. The server's
// dev mode, the emulator-only command and the tests all start it through
// Start.
package localcloud

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/osslifecycle"
	"github.com/ossup/ossup/internal/localcloud/ossserver"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
	"github.com/ossup/ossup/internal/localcloud/stsserver"
)

// Dev defaults: a fixed key pair, printed at start, so a developer can point
// any OSS client at the local cloud without configuration.
const (
	DevAccessKeyID     = "LTAI5tOssupDevLocalKey01"
	DevAccessKeySecret = "ossupDevSecretNotForProduction"
	DevAccountID       = "1000000000000000"
	DevRoleARN         = "acs:ram::" + DevAccountID + ":role/ossup-uploader"
	DevBucket          = "dev-bucket"
	DevRegion          = "cn-hangzhou"
)

// ExposedHeaders are the response headers a browser client must be able to
// read: ETag for Complete, the CRC for integrity, Date for clock skew, the
// request id and error codes for diagnostics.
var ExposedHeaders = []string{
	"ETag", "x-oss-request-id", "x-oss-hash-crc64ecma", "Date", "x-oss-ec", "x-oss-err",
	"x-oss-version-id", "x-oss-object-type", "Content-Length", "Content-Range",
}

// Config configures the local cloud. Zero values take the dev defaults.
type Config struct {
	DataDir string
	// OSSAddr and STSAddr are the listen addresses; ":0" ports pick free ones.
	OSSAddr, STSAddr string
	Region           string
	AccountID        string
	// AccessKeyID and AccessKeySecret are the account's keys: full access to
	// OSS, and allowed to call AssumeRole.
	AccessKeyID, AccessKeySecret string
	// Bucket is created at start if missing, with a CORS rule that allows
	// CORSOrigins (the page is cross-origin to OSS, as in production).
	Bucket string
	// CORSOrigins are the origins the bucket's CORS rule allows; nil allows
	// every origin ("*"). The signing backend's dev mode names its own.
	CORSOrigins []string
	// RoleARN is the role the backend assumes; RolePolicy its permission
	// policy (default: every OSS action on Bucket and its objects).
	RoleARN, RolePolicy string
	// MinSTSDuration lowers the shortest credential lifetime STS grants
	// (real STS: 900 s) so tests can watch credentials expire.
	MinSTSDuration time.Duration
	Faults         faults.Config
	Logger         *slog.Logger
	// BodyIdleTimeout bounds the wait for the next bytes of a request body on
	// the local OSS (default ossserver.DefaultBodyIdleTimeout).
	BodyIdleTimeout time.Duration
	// StoreStep is passed to the store as its crash-test hook.
	StoreStep func(step string)
	// Now is the clock requests are judged by: signature times, STS
	// expiry, acs:CurrentTime. Clients sign with their own wall clock, so a
	// test that moves it must sign with it too. Default time.Now.
	Now func() time.Time
	// DataClock is the clock stored data is stamped with (Last-Modified,
	// upload initiation) and aged against by lifecycle rules. It is apart
	// from Now so a test can age data by days (a ManualClock) while clients
	// keep signing with the real time. Default: Now.
	DataClock func() time.Time
	// LifecycleInterval is how often lifecycle rules run in the background
	// (default one minute; real OSS runs them daily and may take up to a day
	// after an object is due, so acting sooner is within what OSS may do). A
	// negative value turns background runs off; Cloud.RunLifecycle and
	// POST /-/lifecycle run them on demand either way.
	LifecycleInterval time.Duration
	// CallbackTimeout bounds each upload callback (default 5 s, OSS's fixed
	// value); tests of slow callback servers lower it.
	CallbackTimeout time.Duration
	// CallbackRootCAs verifies https callback servers (default: the system
	// roots), for tests with their own certificate authority.
	CallbackRootCAs *x509.CertPool
}

func (c *Config) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.DataDir, "./data")
	def(&c.OSSAddr, "127.0.0.1:9000")
	def(&c.STSAddr, "127.0.0.1:9001")
	def(&c.Region, DevRegion)
	def(&c.AccountID, DevAccountID)
	def(&c.AccessKeyID, DevAccessKeyID)
	def(&c.AccessKeySecret, DevAccessKeySecret)
	def(&c.Bucket, DevBucket)
	def(&c.RoleARN, "acs:ram::"+c.AccountID+":role/ossup-uploader")
	def(&c.RolePolicy, fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:*"],"Resource":["acs:oss:*:*:%s","acs:oss:*:*:%s/*"]}]}`, c.Bucket, c.Bucket))
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.DataClock == nil {
		c.DataClock = c.Now
	}
	if c.LifecycleInterval == 0 {
		c.LifecycleInterval = time.Minute
	}
}

// Cloud is a running local cloud.
type Cloud struct {
	// OSSEndpoint and STSEndpoint are the base URLs (http://127.0.0.1:port).
	OSSEndpoint, STSEndpoint string
	// STSHost is host:port, the form the STS SDK's Endpoint takes.
	STSHost string
	Config  Config
	Faults  *faults.Injector
	OSS     *ossserver.Handler
	STS     *stsserver.Service
	Store   *ossstore.Store
	// Lifecycle applies the buckets' lifecycle rules.
	Lifecycle *osslifecycle.Runner

	servers []*http.Server
	done    chan error
}

// Start opens the data directory, creates the bucket and serves both
// endpoints until Close.
func Start(cfg Config) (*Cloud, error) {
	cfg.defaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("localcloud: data dir: %w", err)
	}
	store, err := ossstore.Open(filepath.Join(cfg.DataDir, "oss"), ossstore.Options{OnStep: cfg.StoreStep, Now: cfg.DataClock})
	if err != nil {
		return nil, fmt.Errorf("localcloud: open store: %w", err)
	}
	cl := &Cloud{Config: cfg, Store: store, done: make(chan error, 2)}
	ok := false
	defer func() {
		if !ok {
			_ = cl.Close()
		}
	}()
	if err := ensureBucket(store, cfg.Bucket, cfg.CORSOrigins); err != nil {
		return nil, err
	}
	cl.STS, err = stsserver.New(stsserver.Config{
		AccountID:   cfg.AccountID,
		Keys:        map[string]string{cfg.AccessKeyID: cfg.AccessKeySecret},
		Roles:       []stsserver.Role{{ARN: cfg.RoleARN, Policy: cfg.RolePolicy, MaxSessionDuration: time.Hour}},
		DataDir:     filepath.Join(cfg.DataDir, "sts"),
		MinDuration: cfg.MinSTSDuration,
		Now:         cfg.Now,
		Logger:      cfg.Logger.With("component", "local-sts"),
	})
	if err != nil {
		return nil, fmt.Errorf("localcloud: sts: %w", err)
	}
	cl.Faults = faults.New(cfg.Faults)
	cl.Lifecycle = osslifecycle.New(store, cfg.DataClock, cfg.Logger.With("component", "local-oss-lifecycle"))
	ossLn, err := net.Listen("tcp", cfg.OSSAddr)
	if err != nil {
		return nil, fmt.Errorf("localcloud: oss listener: %w", err)
	}
	stsLn, err := net.Listen("tcp", cfg.STSAddr)
	if err != nil {
		ossLn.Close()
		return nil, fmt.Errorf("localcloud: sts listener: %w", err)
	}
	domains := []string{"localhost"}
	cl.OSS, err = ossserver.New(ossserver.Config{
		Store: store, Keys: &keyring{root: map[string]string{cfg.AccessKeyID: cfg.AccessKeySecret}, account: cfg.AccountID, sts: cl.STS},
		Region: cfg.Region, AccountID: cfg.AccountID, Domains: domains, Faults: cl.Faults,
		Logger: cfg.Logger.With("component", "local-oss"), Now: cfg.Now, BodyIdleTimeout: cfg.BodyIdleTimeout,
		Lifecycle: cl.Lifecycle,
		// Kept beside the store, so callback servers that cache the public
		// key keep verifying after a restart.
		CallbackKeyFile:      filepath.Join(cfg.DataDir, "oss-callback-key.pem"),
		CallbackPublicKeyURL: "http://" + ossLn.Addr().String() + "/-/callback_pub_key_v1.pem",
		CallbackTimeout:      cfg.CallbackTimeout,
		CallbackRootCAs:      cfg.CallbackRootCAs,
	})
	if err != nil {
		ossLn.Close()
		stsLn.Close()
		return nil, err
	}
	cl.OSSEndpoint = "http://" + ossLn.Addr().String()
	cl.STSHost = stsLn.Addr().String()
	cl.STSEndpoint = "http://" + cl.STSHost
	cl.serve(cl.Faults.Listener(ossLn), cl.OSS)
	cl.serve(stsLn, cl.STS)
	cl.Lifecycle.Start(cfg.LifecycleInterval)
	ok = true
	return cl, nil
}

func (cl *Cloud) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler: h,
		// No write timeout: a multi-GB GetObject is legitimate. Header reads
		// are bounded so idle sockets cannot pin the process.
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cl.Config.Logger.Handler(), slog.LevelDebug),
	}
	cl.servers = append(cl.servers, srv)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		cl.done <- err
	}()
}

// Close stops the endpoints, waiting briefly for requests in flight, and
// closes the store.
func (cl *Cloud) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if cl.Lifecycle != nil {
		cl.Lifecycle.Stop()
	}
	for _, s := range cl.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, s.Close())
		}
	}
	if cl.Store != nil {
		errs = append(errs, cl.Store.Close())
	}
	return errors.Join(errs...)
}

// RunLifecycle applies every bucket's lifecycle rules now, as of
// Config.DataClock, and reports what it deleted and aborted.
func (cl *Cloud) RunLifecycle(ctx context.Context) (*osslifecycle.Report, error) {
	return cl.Lifecycle.Run(ctx)
}

// ensureBucket creates the bucket if missing and (re)applies the dev CORS
// rule for origins (nil: every origin).
func ensureBucket(store *ossstore.Store, name string, origins []string) error {
	if _, err := store.Bucket(name); err != nil {
		if err := store.CreateBucket(name); err != nil {
			return fmt.Errorf("localcloud: create bucket %s: %w", name, err)
		}
	}
	if origins == nil {
		origins = []string{"*"}
	}
	rule := ossstore.CORSRule{
		AllowedOrigins: origins,
		AllowedMethods: []string{"GET", "PUT", "POST", "DELETE", "HEAD"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  ExposedHeaders,
		MaxAgeSeconds:  600,
	}
	if err := store.PutBucketCORS(name, []ossstore.CORSRule{rule}); err != nil {
		return fmt.Errorf("localcloud: bucket CORS: %w", err)
	}
	return nil
}

// keyring resolves the account's keys and STS temporary keys for the OSS
// endpoint.
type keyring struct {
	root    map[string]string
	account string
	sts     *stsserver.Service
}

// sessionIdentity names an STS session as OSS bucket policies and overwrite
// rules do: arn:sts::<account>:assumed-role/<role name>/<session name>.
func sessionIdentity(s *stsserver.Session) string {
	account, role := "", s.RoleARN
	if rest, ok := strings.CutPrefix(s.RoleARN, "acs:ram::"); ok {
		account, role, _ = strings.Cut(rest, ":role/")
	}
	return "arn:sts::" + account + ":assumed-role/" + role + "/" + s.SessionName
}

func (k *keyring) Lookup(id, token string, now time.Time) (string, *ossserver.Principal, error) {
	if strings.HasPrefix(id, "STS.") {
		if token == "" {
			return "", nil, unknownKey(id)
		}
		s, err := k.sts.Resolve(id, token, now)
		switch {
		case errors.Is(err, stsserver.ErrTokenExpired):
			return "", nil, osserr.New(http.StatusForbidden, "SecurityTokenExpired", "The security token you provided has expired.").WithEC("0002-00000007")
		case errors.Is(err, stsserver.ErrInvalidToken), errors.Is(err, stsserver.ErrUnknownAccessKey):
			// A token that is not ours, or ours but minted for another
			// temporary key: OSS says the token does not match.
			return "", nil, invalidToken()
		case err != nil:
			return "", nil, fmt.Errorf("resolve temporary key: %w", err)
		}
		return s.AccessKeySecret, &ossserver.Principal{AccessKeyID: id, Policies: s.Policies, Identity: sessionIdentity(s)}, nil
	}
	secret, ok := k.root[id]
	if !ok {
		return "", nil, unknownKey(id)
	}
	if token != "" {
		// A security token only belongs with a temporary key.
		return "", nil, invalidToken()
	}
	return secret, &ossserver.Principal{AccessKeyID: id, Root: true, Identity: k.account}, nil
}

func unknownKey(id string) error {
	return osserr.New(http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.").
		With("OSSAccessKeyId", id)
}

func invalidToken() error {
	return osserr.New(http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is invalid.")
}

// SetCORSOrigins replaces the origins the bucket's CORS rule allows, for a
// backend that learns its own origin only once it listens.
func (cl *Cloud) SetCORSOrigins(origins []string) error {
	return ensureBucket(cl.Store, cl.Config.Bucket, origins)
}
