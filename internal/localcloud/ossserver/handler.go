package ossserver

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/internal/localcloud/ossauth"
	"github.com/ossup/ossup/internal/localcloud/osserr"
	"github.com/ossup/ossup/internal/localcloud/osslifecycle"
	"github.com/ossup/ossup/internal/localcloud/ossstore"
	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

// Principal is the identity a verified request acts as.
type Principal struct {
	AccessKeyID string
	// Root marks the account's own keys, which OSS does not subject to RAM
	// policies.
	Root bool
	// Policies must all allow a request, and none deny it (an STS session:
	// the role's policy and the session policy).
	Policies []*rampolicy.Policy
	// Identity names the principal as bucket policies and overwrite rules
	// do: the account id for root keys,
	// arn:sts::<account>:assumed-role/<role>/<session> for an STS session.
	Identity string
}

// Keyring resolves an access key id, with the security token that came with
// it, to the secret the request must be signed with and the principal it acts
// as. Errors are *osserr.Error values as OSS reports them (InvalidAccessKeyId,
// InvalidSecurityToken, SecurityTokenExpired).
type Keyring interface {
	Lookup(accessKeyID, securityToken string, now time.Time) (secret string, p *Principal, err error)
}

// Config configures a Handler.
type Config struct {
	Store *ossstore.Store
	Keys  Keyring
	// Region is the region this endpoint serves; V4 scopes for other regions
	// are refused.
	Region string
	// AccountID appears in resource ARNs (acs:oss:<region>:<account>:<bucket>/<key>).
	AccountID string
	// Domains are the host names under which virtual-hosted-style addressing
	// (<bucket>.<domain>) is recognised, e.g. "localhost". Any other host, and
	// any IP address, is served path-style.
	Domains []string
	// Faults, if set, injects failures for tests; nil means none.
	Faults *faults.Injector
	Logger *slog.Logger
	Now    func() time.Time
	// MaxSkew is the allowed clock difference for signed requests (default 15 min).
	MaxSkew time.Duration
	// BodyIdleTimeout is the longest wait for the next bytes of a request
	// body (default DefaultBodyIdleTimeout); a client that stalls longer gets
	// 400 RequestTimeout and nothing is stored.
	BodyIdleTimeout time.Duration
	// Lifecycle, if set, is run by POST /-/lifecycle.
	Lifecycle *osslifecycle.Runner
	// CallbackKeyFile keeps the RSA key upload callbacks are signed with
	// (made on first use); "" keeps it in memory only.
	CallbackKeyFile string
	// CallbackPublicKeyURL is the absolute URL of this endpoint's
	// /-/callback_pub_key_v1.pem, sent base64-encoded in x-oss-pub-key-url.
	CallbackPublicKeyURL string
	// CallbackTimeout bounds each callback (default DefaultCallbackTimeout,
	// OSS's fixed 5 s).
	CallbackTimeout time.Duration
	// CallbackRootCAs verifies https callback servers; nil means the
	// system roots.
	CallbackRootCAs *x509.CertPool
}

// Handler is the local OSS endpoint.
type Handler struct {
	cfg         Config
	log         *slog.Logger
	stats       *Stats
	callbackKey *callbackKey
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Keys == nil {
		return nil, errors.New("ossserver: Store and Keys are required")
	}
	if cfg.Region == "" {
		return nil, errors.New("ossserver: Region is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 15 * time.Minute
	}
	if cfg.BodyIdleTimeout == 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if cfg.CallbackTimeout == 0 {
		cfg.CallbackTimeout = DefaultCallbackTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, log: log, stats: newStats(), callbackKey: &callbackKey{file: cfg.CallbackKeyFile}}, nil
}

// Stats returns the endpoint's request counters.
func (h *Handler) Stats() *Stats { return h.stats }

// call is one request in flight.
type call struct {
	w  http.ResponseWriter
	r  *http.Request
	op *op
	// address is the bucket, key and level the request resolved to.
	address
	query     url.Values
	requestID string
	hostID    string
	now       time.Time
	// body is the buffered, Content-MD5-checked body of a non-streaming op.
	body      []byte
	principal *Principal
	bucketCfg *ossstore.Bucket
	// bodyBytes counts request body bytes read, for stats.
	bodyBytes *atomic.Int64
	// idle bounds the waits for the request body; nil without a body.
	idle    *idleBody
	errCode string
}

const adminPrefix = "/-/"

// maxBufferedBody bounds the XML bodies the endpoint reads into memory
// (a Complete list of 10000 parts is about 1 MB).
const maxBufferedBody = 4 << 20

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	c := &call{
		w:         rec,
		r:         r,
		requestID: newRequestID(),
		now:       h.cfg.Now(),
		bodyBytes: new(atomic.Int64),
	}
	if r.Body != nil && r.Body != http.NoBody {
		c.idle = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: h.cfg.BodyIdleTimeout}
		r.Body = c.idle
	}
	hdr := rec.Header()
	hdr.Set("x-oss-request-id", c.requestID)
	hdr.Set("Server", "AliyunOSS")

	// On a virtual host, /-/... is an object key ("-/x"), not the admin API.
	if _, virtual := h.virtualBucket(r.Host); !virtual && strings.HasPrefix(r.URL.Path, adminPrefix) {
		h.serveAdmin(rec, r)
		return
	}
	h.serve(c)
	if c.idle != nil {
		c.idle.finish()
	}

	opName := "-"
	if c.op != nil {
		opName = c.op.Name
		h.stats.record(opName, rec.status)
	}
	attrs := []any{
		"request_id", c.requestID, "op", opName, "method", r.Method, "bucket", c.bucket,
		"key", c.key, "status", rec.status, "bytes_in", c.bodyBytes.Load(),
		"bytes_out", rec.written, "duration_ms", time.Since(start).Milliseconds(),
	}
	if c.principal != nil {
		// An access key id identifies a credential but grants nothing; secrets,
		// tokens and signatures are never logged.
		attrs = append(attrs, "access_key_id", c.principal.AccessKeyID)
	}
	if c.errCode != "" {
		attrs = append(attrs, "error", c.errCode)
	}
	h.log.Info("oss request", attrs...)
}

func (h *Handler) serve(c *call) {
	r := c.r
	var err error
	c.address, err = h.resolve(r)
	c.hostID = hostOnly(r.Host)
	if err != nil {
		h.fail(c, err)
		return
	}
	if c.level >= levelBucket {
		c.bucketCfg, err = h.cfg.Store.Bucket(c.bucket)
		if err != nil && !isCode(err, "NoSuchBucket") {
			h.fail(c, err)
			return
		}
	}
	if c.bucketCfg != nil {
		corsVary(c.w.Header(), c.bucketCfg)
	}
	if r.Header.Get("Origin") != "" && c.bucketCfg != nil {
		if r.Method == http.MethodOptions {
			h.preflight(c)
			return
		}
		applyCORS(c.w.Header(), c.bucketCfg.CORS, r.Header.Get("Origin"), r.Method)
	}
	if r.Method == http.MethodOptions {
		if c.level == levelService {
			h.fail(c, osserr.New(http.StatusBadRequest, "InvalidRequest", "CORS preflight needs a bucket."))
			return
		}
		if c.bucketCfg == nil {
			h.fail(c, osserr.NoSuchBucket(c.bucket))
			return
		}
		h.fail(c, corsDenied())
		return
	}

	c.query, err = url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(c, osserr.New(http.StatusBadRequest, "InvalidArgument", "The query string is malformed."))
		return
	}
	c.op = resolveOp(r.Method, c.level, c.query, r.Header)
	if !c.op.implemented() {
		h.fail(c, osserr.New(http.StatusNotImplemented, "NotImplemented", c.op.Name+" is not implemented by the local OSS."))
		return
	}
	if r.Body != nil {
		op := c.op.Name
		r.Body = &countingBody{ReadCloser: r.Body, n: c.bodyBytes, add: func(n int64) { h.stats.addBytes(op, n) }}
	}

	if h.cfg.Faults != nil {
		w, handled := h.cfg.Faults.Apply(c.op.Name, c.w, r, c.requestID)
		if handled {
			return
		}
		c.w = w
	}

	if c.bucketCfg == nil && c.op != opPutBucket && c.op.Level != levelService {
		h.fail(c, osserr.NoSuchBucket(c.bucket))
		return
	}
	if err := h.authenticate(c); err != nil {
		h.fail(c, err)
		return
	}
	if !c.op.Streaming {
		// Buffered first: some permissions depend on the body (the keys of
		// DeleteMultipleObjects, the tags of PutObjectTagging).
		if err := readBody(c); err != nil {
			h.fail(c, err)
			return
		}
	}
	if err := h.authorize(c); err != nil {
		h.fail(c, err)
		return
	}
	if err := c.op.handle(h, c); err != nil {
		h.fail(c, err)
	}
}

// fail writes err as an OSS error response.
func (h *Handler) fail(c *call, err error) {
	if c.idle != nil && c.idle.timedOut {
		err = errRequestTimeout()
	}
	e := osserr.As(err)
	if e.Code == "InternalError" {
		h.log.Error("oss internal error", "request_id", c.requestID, "err", err)
	}
	c.errCode = e.Code
	osserr.Write(c.w, c.r, e, c.requestID, c.hostID, c.now)
}

func isCode(err error, code string) bool {
	var e *osserr.Error
	return errors.As(err, &e) && e.Code == code
}

// authenticate parses and verifies the request's signature and resolves the
// principal it acts as.
func (h *Handler) authenticate(c *call) error {
	a, err := ossauth.Parse(c.r)
	if err != nil {
		return err
	}
	if a.Version == 0 {
		return nil // anonymous: authorize decides from the ACLs
	}
	secret, p, err := h.cfg.Keys.Lookup(a.AccessKeyID, a.SecurityToken, c.now)
	if err != nil {
		return err
	}
	err = a.Verify(c.r, c.bucket, c.key, secret, ossauth.VerifyOptions{
		Now: c.now, MaxSkew: h.cfg.MaxSkew, Region: h.cfg.Region,
	})
	if err != nil {
		return err
	}
	c.principal = p
	return nil
}

// readBody buffers a non-streaming op's body and checks Content-MD5.
func readBody(c *call) error {
	if c.r.Body == nil {
		c.body = nil
	} else {
		b, err := io.ReadAll(io.LimitReader(c.r.Body, maxBufferedBody+1))
		if err != nil {
			return osserr.New(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		}
		if len(b) > maxBufferedBody {
			return osserr.New(http.StatusBadRequest, "InvalidArgument", "The request body is too large for this operation.")
		}
		c.body = b
	}
	want, err := contentMD5(c.r.Header)
	if err != nil {
		return err
	}
	if want != nil {
		got := md5.Sum(c.body)
		if !bytes.Equal(got[:], want) {
			return invalidDigest()
		}
	}
	return nil
}

// contentMD5 decodes the Content-MD5 header: nil when absent.
func contentMD5(h http.Header) ([]byte, error) {
	v := h.Get("Content-MD5")
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != md5.Size {
		return nil, invalidDigest()
	}
	return b, nil
}

func invalidDigest() *osserr.Error {
	return osserr.New(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
}

// newRequestID returns an id in the form OSS uses: 24 upper-case hex digits.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

type countingBody struct {
	io.ReadCloser
	n   *atomic.Int64
	add func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n.Add(int64(n))
		b.add(int64(n))
	}
	return n, err
}
