//go:build !js

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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/labstack/echo/v4"

	"github.com/ossup/ossup/internal/janitor"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/stscreds"
	"github.com/ossup/ossup/web"
)

// Server is the backend with, in dev mode, its in-process local cloud.
type Server struct {
	cfg     Config
	log     *slog.Logger
	echo    *echo.Echo
	cloud   *localcloud.Cloud
	app     *app
	assets  *Assets
	metrics *Metrics
	minter  *stscreds.Minter
	janitor *janitor.Janitor
	devKeys bool // the root keys are the data dir's generated ones
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
		lc, generated, err := DevCloudConfig(cfg, log)
		if err != nil {
			return nil, err
		}
		s.cfg.AccessKeyID, s.cfg.AccessKeySecret, s.devKeys = lc.AccessKeyID, lc.AccessKeySecret, generated
		cl, err := localcloud.Start(lc)
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
	if s.cloud != nil {
		if err := s.protectDevBucket(); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

// DevCloudConfig is the local cloud dev mode runs (the backend's, and
// cmd/localcloud's alone): root keys OSS_ACCESS_KEY_* or else the data
// dir's random ones (generated reports which; generated at its first
// start), and a bucket CORS rule naming the demo page's origins and
// OSSUP_CORS_ORIGINS only. Fixed, published keys or an any-origin rule
// would let any web page the developer visits sign requests to it and
// read what it answers.
func DevCloudConfig(cfg Config, log *slog.Logger) (lc localcloud.Config, generated bool, err error) {
	lc = localcloud.Config{
		DataDir: cfg.DataDir, OSSAddr: cfg.LocalOSSAddr, STSAddr: cfg.LocalSTSAddr, Region: cfg.Region,
		AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret, Bucket: cfg.Bucket,
		CORSOrigins: devOrigins(cfg.Addr, cfg.CORSOrigins), RoleARN: cfg.RoleARN,
		MinSTSDuration: cfg.MinSTSDuration, Faults: cfg.Faults, Logger: log,
	}
	if lc.AccessKeyID == "" {
		k, err := devRootKeys(cfg.DataDir)
		if err != nil {
			return lc, false, err
		}
		lc.AccessKeyID, lc.AccessKeySecret, generated = k.AccessKeyID, k.AccessKeySecret, true
	}
	return lc, generated, nil
}

// protectDevBucket gives the dev bucket the overwrite rule uploads need
// (writeonce.go), keeping any other rule a developer put there.
func (s *Server) protectDevBucket() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	objects := s.app.api.Objects.(*signedObjects)
	rules, err := objects.OverwriteRules(ctx)
	if err != nil {
		return fmt.Errorf("dev bucket overwrite rule: %w", err)
	}
	rules = slices.DeleteFunc(rules, func(r OverwriteRule) bool { return r.ID == overwriteRuleID })
	rules = append(rules, WriteOnceRule(s.app.api.Keys.Prefix(), s.cfg.RoleARN))
	if err := objects.SetOverwriteRules(ctx, rules); err != nil {
		return fmt.Errorf("dev bucket overwrite rule: %w", err)
	}
	return nil
}

// build assembles the application around the shared app (app.go): the
// native server adds the janitor, metrics and the web assets.
func (s *Server) build() error {
	cfg := &s.cfg
	secret, err := s.secret()
	if err != nil {
		return err
	}
	// The metrics read the minter's statistics at scrape time, after build.
	s.metrics = NewMetrics(func() (int64, int64) { return s.app.minter.Stats() })
	if s.app, err = newApp(*cfg, secret, nil, s.log, s.metrics); err != nil {
		return err
	}
	s.minter = s.app.minter
	if cfg.JanitorInterval > 0 {
		ossHost, ossProto := splitEndpoint(cfg.OSSEndpoint, "https")
		client := oss.NewClient(oss.LoadDefaultConfig().
			WithEndpoint(ossProto + "://" + ossHost).WithRegion(cfg.Region).WithUsePathStyle(isLocalHost(ossHost)).
			WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.AccessKeySecret)))
		s.janitor, err = janitor.New(janitor.Config{
			Client: client, Bucket: cfg.Bucket, Prefix: s.app.api.Keys.Prefix(), MaxAge: cfg.JanitorMaxAge,
			Interval: cfg.JanitorInterval, Logger: s.log.With("component", "janitor"),
			UnverifiedMaxAge: cfg.UnverifiedMaxAge, VerifiedTag: VerifiedTag, VerifiedValue: VerifiedValue,
		})
		if err != nil {
			return fmt.Errorf("janitor: %w", err)
		}
	}
	if !cfg.APIOnly {
		if s.assets, err = loadWeb(cfg.WebDir); err != nil {
			return err
		}
		s.assets.SetConnectSrc(ossOrigin(s.app.api.Target))
	}
	s.echo = s.routes()
	return nil
}

// loadWeb reads the web files to serve: OSSUP_WEB_DIR when set, else the
// ones embedded in the binary (make build), else ./web (a `go run` in the
// checkout).
func loadWeb(dir string) (*Assets, error) {
	if dir == "" && web.FS != nil {
		return LoadAssetsFS(web.FS, "the files embedded in the binary")
	}
	if dir == "" {
		a, err := LoadAssets("./web")
		if err != nil {
			return nil, fmt.Errorf("%w (this binary embeds no web files: build it with make build, or set OSSUP_WEB_DIR, or OSSUP_API_ONLY=true)", err)
		}
		return a, nil
	}
	return LoadAssets(dir)
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

// Cloud is the in-process local cloud (nil in cloud mode).
func (s *Server) Cloud() *localcloud.Cloud { return s.cloud }

// Config is the effective configuration (endpoints resolved).
func (s *Server) Config() Config { return s.cfg }

// Handler is the backend's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Assets are the served web files (nil with OSSUP_API_ONLY).
func (s *Server) Assets() *Assets { return s.assets }

// Minter is the STS credential minter (for its statistics).
func (s *Server) Minter() *stscreds.Minter { return s.minter }

// routes is the shared application plus the native server's own routes:
// metrics and the web assets.
func (s *Server) routes() *echo.Echo {
	e := s.app.routes(s.ready, s.metrics.middleware)
	e.GET("/metrics", s.metrics.handler(), AdminGuard(AdminGuardConfig{Token: s.cfg.MetricsToken, What: "metrics"}))
	if s.assets == nil {
		// API only: every other path is the JSON 404 of an unknown route.
		return e
	}
	e.GET("/*", s.assets.handler)
	e.HEAD("/*", s.assets.handler)
	return e
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

// Listen opens the backend's listener. In dev mode the bucket's CORS rule
// then names the demo page's origin with the port actually bound.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil || s.cloud == nil {
		return ln, err
	}
	if err := s.cloud.SetCORSOrigins(devOrigins(ln.Addr().String(), s.cfg.CORSOrigins)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("dev bucket CORS: %w", err)
	}
	return ln, nil
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
	if s.assets != nil {
		fmt.Fprintf(&b, "  demo page         http://%s/\n", addr)
	} else {
		fmt.Fprintf(&b, "  demo page         none (OSSUP_API_ONLY)\n")
	}
	fmt.Fprintf(&b, "  API               http://%s/api/v1/uploads\n", addr)
	if s.cloud != nil {
		fmt.Fprintf(&b, "  local OSS         %s   (bucket %s, region %s; path style, or virtual-hosted as http://%s.localhost:%s)\n",
			s.cloud.OSSEndpoint, s.cfg.Bucket, s.cfg.Region, s.cfg.Bucket, portOf(s.cloud.OSSEndpoint))
		fmt.Fprintf(&b, "  local STS         %s\n", s.cloud.STSEndpoint)
		fmt.Fprintf(&b, "  admin (loopback)  %s/-/faults  %s/-/stats\n", s.cloud.OSSEndpoint, s.cloud.OSSEndpoint)
		fmt.Fprintf(&b, "  data dir          %s\n", s.cfg.DataDir)
		if s.devKeys {
			fmt.Fprintf(&b, "  root keys         OSS_ACCESS_KEY_ID=%s OSS_ACCESS_KEY_SECRET=%s (this data dir's, local cloud only: %s)\n",
				s.cfg.AccessKeyID, s.cfg.AccessKeySecret, filepath.Join(s.cfg.DataDir, devKeysFile))
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

// ossOrigin is the origin browsers send OSS requests to: the endpoint, or
// for virtual-hosted addressing the bucket's host under it.
func ossOrigin(t Target) string {
	if t.PathStyle {
		return t.Endpoint
	}
	scheme, host, _ := strings.Cut(t.Endpoint, "://")
	return scheme + "://" + t.Bucket + "." + host
}
