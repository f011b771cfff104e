package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/ossup/ossup/internal/janitor"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/objectkey"
	"github.com/ossup/ossup/internal/stscreds"
	"github.com/ossup/ossup/internal/ticket"
	"github.com/ossup/ossup/internal/uploadpolicy"
	"github.com/ossup/ossup/internal/userauth"
)

// Server is the backend with, in dev mode, its in-process local cloud.
type Server struct {
	cfg     Config
	log     *slog.Logger
	echo    *echo.Echo
	cloud   *localcloud.Cloud
	api     *API
	assets  *Assets
	metrics *Metrics
	minter  *stscreds.Minter
	janitor *janitor.Janitor
}

// New builds the backend. In dev mode it starts the local cloud, creating the
// bucket with a permissive-origin CORS rule.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if cfg.Mode == ModeDev {
		cl, err := localcloud.Start(localcloud.Config{
			DataDir:         cfg.DataDir,
			OSSAddr:         cfg.LocalOSSAddr,
			STSAddr:         cfg.LocalSTSAddr,
			Region:          cfg.Region,
			AccessKeyID:     cfg.AccessKeyID,
			AccessKeySecret: cfg.AccessKeySecret,
			Bucket:          cfg.Bucket,
			RoleARN:         cfg.RoleARN,
			MinSTSDuration:  cfg.MinSTSDuration,
			Faults:          cfg.Faults,
			Logger:          log,
		})
		if err != nil {
			return nil, fmt.Errorf("start local cloud: %w", err)
		}
		s.cloud = cl
		s.cfg.OSSEndpoint = cl.OSSEndpoint
		s.cfg.STSEndpoint = cl.STSEndpoint
	}
	if err := s.build(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// build assembles the API's collaborators from the configuration.
func (s *Server) build() error {
	cfg := &s.cfg
	secret, err := s.secret()
	if err != nil {
		return err
	}
	keys := [][]byte{secret}
	if cfg.PreviousSecret != "" {
		keys = append(keys, []byte(cfg.PreviousSecret))
	}
	tickets, err := ticket.NewSigner(keys...)
	if err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	auth, err := s.authenticator(secret)
	if err != nil {
		return err
	}
	tmpl, err := objectkey.ParseTemplate(cfg.KeyTemplate)
	if err != nil {
		return fmt.Errorf("OSSUP_KEY_TEMPLATE: %w", err)
	}
	types, err := uploadpolicy.ParsePatterns(cfg.AllowedTypes)
	if err != nil {
		return fmt.Errorf("OSSUP_ALLOWED_TYPES: %w", err)
	}
	exts, err := uploadpolicy.ParseExts(cfg.AllowedExts)
	if err != nil {
		return fmt.Errorf("OSSUP_ALLOWED_EXTENSIONS: %w", err)
	}
	stsHost, stsProto := splitEndpoint(cfg.STSEndpoint, "https")
	s.minter, err = stscreds.New(stscreds.Config{
		Endpoint: stsHost, Protocol: stsProto, AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret,
		RoleARN: cfg.RoleARN, Bucket: cfg.Bucket, Duration: cfg.STSDuration, Scope: cfg.CredentialScope,
		Logger: s.log.With("component", "sts"),
	})
	if err != nil {
		return fmt.Errorf("sts: %w", err)
	}
	ossHost, ossProto := splitEndpoint(cfg.OSSEndpoint, "https")
	endpoint := ossProto + "://" + ossHost
	pathStyle := isLocalHost(ossHost)
	client := oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(endpoint).WithRegion(cfg.Region).WithUsePathStyle(pathStyle).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.AccessKeySecret)))
	s.metrics = NewMetrics(s.minter.Stats)
	var hook *Webhook
	if cfg.WebhookURL != "" {
		hook = &Webhook{URL: cfg.WebhookURL, Secret: []byte(cfg.WebhookSecret), Client: &http.Client{Timeout: 10 * time.Second}, Now: time.Now}
	}
	s.api = &API{
		Auth: auth, Tickets: tickets, Keys: tmpl,
		Policy:   uploadpolicy.Policy{MaxSize: cfg.MaxSize, AllowedTypes: types, AllowedExts: exts},
		Minter:   s.minter,
		Objects:  &ossObjects{client: client, bucket: cfg.Bucket},
		Webhook:  hook,
		Target:   Target{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: endpoint, PathStyle: pathStyle},
		PartSize: cfg.PartSize, Concurrency: cfg.Concurrency, TicketTTL: cfg.TicketTTL,
		Now: time.Now, Log: s.log, Metrics: s.metrics,
	}
	if cfg.JanitorInterval > 0 {
		s.janitor, err = janitor.New(janitor.Config{
			Client: client, Bucket: cfg.Bucket, Prefix: tmpl.Prefix(), MaxAge: cfg.JanitorMaxAge,
			Interval: cfg.JanitorInterval, Logger: s.log.With("component", "janitor"),
		})
		if err != nil {
			return fmt.Errorf("janitor: %w", err)
		}
	}
	if s.assets, err = LoadAssets(cfg.WebDir); err != nil {
		return err
	}
	s.echo = s.routes()
	return nil
}

// secret is the key that signs tickets and dev cookies. Dev mode keeps a
// random one in the data dir so restarts keep tickets valid; cloud mode
// requires OSSUP_SECRET, the same on every replica.
func (s *Server) secret() ([]byte, error) {
	if s.cfg.Secret != "" {
		return []byte(s.cfg.Secret), nil
	}
	if s.cfg.Mode != ModeDev {
		return nil, errors.New("OSSUP_SECRET is required")
	}
	p := filepath.Join(s.cfg.DataDir, "server.secret")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return b, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	b := []byte(hex.EncodeToString(raw))
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	return b, nil
}

func (s *Server) authenticator(secret []byte) (userauth.Authenticator, error) {
	switch s.cfg.Auth {
	case "dev":
		return userauth.NewDev(secret)
	case "token":
		tokens, err := userauth.ParseTokens(s.cfg.AuthTokens)
		if err != nil {
			return nil, fmt.Errorf("OSSUP_AUTH_TOKENS: %w", err)
		}
		return userauth.NewTokens(tokens)
	case "jwt":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a, err := userauth.NewJWT(ctx, userauth.JWTConfig{
			HS256Secret: []byte(s.cfg.JWTSecret), JWKSURL: s.cfg.JWTJWKSURL,
			Issuer: s.cfg.JWTIssuer, Audience: s.cfg.JWTAudience,
		})
		if err != nil {
			return nil, fmt.Errorf("jwt auth: %w", err)
		}
		return a, nil
	}
	return nil, fmt.Errorf("OSSUP_AUTH: %q is not one of dev, token, jwt", s.cfg.Auth)
}

// splitEndpoint accepts "host:port", "http://host:port" or "https://host".
func splitEndpoint(ep, defProto string) (host, proto string) {
	if u, err := url.Parse(ep); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u.Host, u.Scheme
	}
	return ep, defProto
}

// isLocalHost reports an IP or localhost endpoint, which OSS clients must
// address path-style (there is no DNS for <bucket>.<ip>).
func isLocalHost(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	return net.ParseIP(h) != nil || h == "localhost"
}

// Cloud is the in-process local cloud (nil in cloud mode).
func (s *Server) Cloud() *localcloud.Cloud { return s.cloud }

// Config is the effective configuration (endpoints resolved).
func (s *Server) Config() Config { return s.cfg }

// Handler is the backend's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Assets are the served web files.
func (s *Server) Assets() *Assets { return s.assets }

// Minter is the STS credential minter (for its statistics).
func (s *Server) Minter() *stscreds.Minter { return s.minter }

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if s.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		// X-Forwarded-For is client-controlled unless a proxy owns it: rate
		// limits must not be evadable by a header.
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Use(requestIDs)
	e.Use(middleware.Recover())
	e.Use(s.accessLog)
	e.Use(s.metrics.middleware)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.ready)
	e.GET("/metrics", s.metrics.handler())

	api := e.Group("/api/v1")
	api.Use(s.cors())
	api.Use(rateLimit("ip", s.cfg.RateLimitIP, func(c echo.Context) string { return c.RealIP() }))
	api.Use(middleware.BodyLimit("16K"))
	api.Use(middleware.ContextTimeout(30 * time.Second))
	api.Use(s.api.authenticate)
	api.Use(rateLimit("user", s.cfg.RateLimitUser, func(c echo.Context) string { return userOf(c).ID }))
	s.api.register(api)

	e.GET("/*", s.assets.handler)
	e.HEAD("/*", s.assets.handler)
	return e
}

// cors answers the API's CORS from the configured allowlist; any other
// origin gets no CORS headers at all, so the browser refuses the response.
func (s *Server) cors() echo.MiddlewareFunc {
	wildcard := false
	for _, o := range s.cfg.CORSOrigins {
		wildcard = wildcard || o == "*"
	}
	allowed := map[string]bool{}
	for _, o := range s.cfg.CORSOrigins {
		allowed[o] = true
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc: func(origin string) (bool, error) { return wildcard || allowed[origin], nil },
		AllowMethods:    []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowHeaders:    []string{echo.HeaderContentType, echo.HeaderAuthorization},
		ExposeHeaders:   []string{echo.HeaderXRequestID, "Retry-After"},
		// Cookies (dev identities) only travel to explicitly listed origins.
		AllowCredentials: !wildcard,
		MaxAge:           600,
	})
}

// rateLimit is a token bucket per identity (client IP, or user id after
// authentication), answering 429 with Retry-After.
func rateLimit(kind string, perSecond float64, id func(echo.Context) string) echo.MiddlewareFunc {
	burst := int(perSecond * 2)
	if burst < 1 {
		burst = 1
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(perSecond), Burst: burst, ExpiresIn: 5 * time.Minute,
	})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return id(c), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return newAPIError(http.StatusTooManyRequests, "rate_limited", "too many requests from this "+kind+"; retry after a second")
		},
	})
}

// requestIDs gives every request a fresh id; a client-sent X-Request-Id is
// not trusted, since it would let a caller forge log correlation.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		c.Response().Header().Set(echo.HeaderXRequestID, hex.EncodeToString(b))
		return next(c)
	}
}

// accessLog writes one structured line per request. It never logs bodies,
// query strings, Authorization, cookies or tickets.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		var ae *apiError
		if errors.As(err, &ae) {
			status = ae.Status
		} else if he, ok := err.(*echo.HTTPError); ok {
			status = he.Code
		}
		attrs := []any{"request_id", requestID(c), "method", c.Request().Method, "route", c.Path(),
			"status", status, "duration_ms", time.Since(start).Milliseconds(), "ip", c.RealIP()}
		if u := userOf(c); u.ID != "" {
			attrs = append(attrs, "user", u.ID)
		}
		s.log.Info("http request", attrs...)
		return err
	}
}

// ready reports whether the backend can serve uploads: in dev mode, whether
// the local OSS answers.
func (s *Server) ready(c echo.Context) error {
	if s.cloud == nil {
		return c.String(http.StatusOK, "ok\n")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cloud.OSSEndpoint+"/-/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c.String(http.StatusServiceUnavailable, "local OSS unreachable\n")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.String(http.StatusServiceUnavailable, fmt.Sprintf("local OSS answered %d\n", resp.StatusCode))
	}
	return c.String(http.StatusOK, "ok\n")
}

// Listen opens the backend's listener.
func (s *Server) Listen() (net.Listener, error) {
	return net.Listen("tcp", s.cfg.Addr)
}

// Serve serves on ln until ctx ends, then shuts down gracefully. The janitor
// runs alongside.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	jctx, stopJanitor := context.WithCancel(ctx)
	defer stopJanitor()
	if s.janitor != nil {
		go s.janitor.Run(jctx)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// Close stops the local cloud, if any.
func (s *Server) Close() error {
	if s.cloud != nil {
		return s.cloud.Close()
	}
	return nil
}

// Banner is what `make run` prints: where everything is and, in dev mode,
// the dev keys (which are public and grant access to the local cloud only).
func (s *Server) Banner(addr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ossup backend (%s mode, %s auth)\n", s.cfg.Mode, s.cfg.Auth)
	fmt.Fprintf(&b, "  demo page         http://%s/\n", addr)
	fmt.Fprintf(&b, "  API               http://%s/api/v1/uploads\n", addr)
	if s.cloud != nil {
		fmt.Fprintf(&b, "  local OSS         %s   (bucket %s, region %s; path style, or virtual-hosted as http://%s.localhost:%s)\n",
			s.cloud.OSSEndpoint, s.cfg.Bucket, s.cfg.Region, s.cfg.Bucket, portOf(s.cloud.OSSEndpoint))
		fmt.Fprintf(&b, "  local STS         %s\n", s.cloud.STSEndpoint)
		fmt.Fprintf(&b, "  admin (loopback)  %s/-/faults  %s/-/stats\n", s.cloud.OSSEndpoint, s.cloud.OSSEndpoint)
		fmt.Fprintf(&b, "  data dir          %s\n", s.cfg.DataDir)
		if s.cfg.AccessKeyID == localcloud.DevAccessKeyID {
			fmt.Fprintf(&b, "  dev keys          OSS_ACCESS_KEY_ID=%s OSS_ACCESS_KEY_SECRET=%s (local cloud only)\n",
				localcloud.DevAccessKeyID, localcloud.DevAccessKeySecret)
		} else {
			fmt.Fprintf(&b, "  keys              OSS_ACCESS_KEY_ID=%s (secret from OSS_ACCESS_KEY_SECRET, not shown)\n", s.cfg.AccessKeyID)
		}
		fmt.Fprintf(&b, "  role              %s\n", s.cfg.RoleARN)
	} else {
		fmt.Fprintf(&b, "  OSS               %s (bucket %s)\n  STS               %s\n", s.cfg.OSSEndpoint, s.cfg.Bucket, s.cfg.STSEndpoint)
	}
	return b.String()
}

func portOf(u string) string {
	i := strings.LastIndex(u, ":")
	if i < 0 {
		return ""
	}
	return u[i+1:]
}
