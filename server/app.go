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
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/ossup/ossup/internal/objectkey"
	"github.com/ossup/ossup/internal/stscreds"
	"github.com/ossup/ossup/internal/ticket"
	"github.com/ossup/ossup/internal/uploadpolicy"
	"github.com/ossup/ossup/internal/userauth"
)

// app is the Echo application and its collaborators as both platforms build
// them: the native server (server.go) adds the local cloud, the janitor,
// metrics and web assets around it; the Workers build (NewWorkerApp) serves
// it as it is.
type app struct {
	cfg    Config
	log    *slog.Logger
	api    *API
	minter *stscreds.Minter
}

// newApp builds the API from cfg (endpoints resolved). secret signs tickets
// and dev cookies. hc, if not nil, carries every outbound call (STS, OSS,
// webhook, JWKS); nil gives each a client of its own over the default
// transport, which only the native server may do.
func newApp(cfg Config, secret []byte, hc DoFunc, log *slog.Logger, metrics *Metrics) (*app, error) {
	a := &app{cfg: cfg, log: log}
	keys := [][]byte{secret}
	if cfg.PreviousSecret != "" {
		keys = append(keys, []byte(cfg.PreviousSecret))
	}
	tickets, err := ticket.NewSigner(keys...)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	auth, err := authenticator(cfg, secret, hc)
	if err != nil {
		return nil, err
	}
	tmpl, err := objectkey.ParseTemplate(cfg.KeyTemplate)
	if err != nil {
		return nil, fmt.Errorf("OSSUP_KEY_TEMPLATE: %w", err)
	}
	types, err := uploadpolicy.ParsePatterns(cfg.AllowedTypes)
	if err != nil {
		return nil, fmt.Errorf("OSSUP_ALLOWED_TYPES: %w", err)
	}
	exts, err := uploadpolicy.ParseExts(cfg.AllowedExts)
	if err != nil {
		return nil, fmt.Errorf("OSSUP_ALLOWED_EXTENSIONS: %w", err)
	}
	var inline []string // nil: the default list
	switch cfg.InlineTypes {
	case "":
	case "none":
		inline = []string{}
	default:
		if inline, err = uploadpolicy.ParsePatterns(cfg.InlineTypes); err != nil {
			return nil, fmt.Errorf("OSSUP_INLINE_TYPES: %w", err)
		}
		if inline == nil {
			inline = []string{}
		}
	}
	stsHost, stsProto := splitEndpoint(cfg.STSEndpoint, "https")
	a.minter, err = stscreds.New(stscreds.Config{
		Endpoint: stsHost, Protocol: stsProto, AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret,
		RoleARN: cfg.RoleARN, Bucket: cfg.Bucket, Duration: cfg.STSDuration, Scope: cfg.CredentialScope,
		HTTPDo: hc, Logger: log.With("component", "sts"),
	})
	if err != nil {
		return nil, fmt.Errorf("sts: %w", err)
	}
	ossHost, ossProto := splitEndpoint(cfg.OSSEndpoint, "https")
	endpoint := ossProto + "://" + ossHost
	objects, err := newSignedObjects(signedObjectsConfig{
		Endpoint: endpoint, PathStyle: isLocalHost(ossHost), Region: cfg.Region, Bucket: cfg.Bucket,
		AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret, HTTPDo: hc,
	})
	if err != nil {
		return nil, fmt.Errorf("oss: %w", err)
	}
	var hook *Webhook
	if cfg.WebhookURL != "" {
		client := hc
		if client == nil {
			client = ownClient(10 * time.Second)
		}
		hook = &Webhook{URL: cfg.WebhookURL, Secret: []byte(cfg.WebhookSecret), HTTPDo: client, Now: time.Now}
	}
	metaFields, err := ParseMetaFields(cfg.MetaFields)
	if err != nil {
		return nil, fmt.Errorf("OSSUP_META_FIELDS: %w", err)
	}
	for _, f := range tmpl.MetaFields() {
		if !slices.ContainsFunc(metaFields, func(m string) bool { return strings.EqualFold(m, f) }) {
			return nil, fmt.Errorf("OSSUP_KEY_TEMPLATE: {meta.%s} names a field OSSUP_META_FIELDS does not allow (%q)", f, cfg.MetaFields)
		}
	}
	var ossCallback string
	if cfg.OSSCallbackURL != "" {
		if ossCallback, err = ossCallbackParam(cfg.OSSCallbackURL, cfg.OSSCallbackBody); err != nil {
			return nil, err
		}
	}
	a.api = &API{
		Auth: auth, Tickets: tickets, Keys: tmpl,
		Policy:   uploadpolicy.Policy{MaxSize: cfg.MaxSize, AllowedTypes: types, AllowedExts: exts, InlineTypes: inline},
		Minter:   a.minter,
		Objects:  objects,
		Webhook:  hook,
		Target:   browserTarget(cfg, endpoint),
		PartSize: cfg.PartSize, Concurrency: cfg.Concurrency, TicketTTL: cfg.TicketTTL,
		Now: time.Now, Log: log, Metrics: metrics,
		OSSCallback: ossCallback,
		MetaFields:  metaFields,
		WriteOnce:   &writeOnceGuard{objects: objects, prefix: tmpl.Prefix(), roleARN: cfg.RoleARN},
	}
	return a, nil
}

// browserTarget is where browsers upload: OSSUP_PUBLIC_OSS_ENDPOINT if set,
// else the endpoint the backend uses. The local OSS serves virtual-hosted
// requests only under localhost, so in dev mode browsers always address it
// path-style, whatever name they reach it by; real OSS is path-style only
// on an IP or localhost endpoint (there is no DNS for <bucket>.<ip>).
func browserTarget(cfg Config, endpoint string) Target {
	if cfg.PublicOSSEndpoint != "" {
		endpoint = strings.TrimSuffix(cfg.PublicOSSEndpoint, "/")
	}
	host, _ := splitEndpoint(endpoint, "https")
	return Target{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: endpoint, PathStyle: cfg.Mode == ModeDev || isLocalHost(host)}
}

func authenticator(cfg Config, secret []byte, hc DoFunc) (userauth.Authenticator, error) {
	switch cfg.Auth {
	case "dev":
		return userauth.NewDev(secret)
	case "token":
		tokens, err := userauth.ParseTokens(cfg.AuthTokens)
		if err != nil {
			return nil, fmt.Errorf("OSSUP_AUTH_TOKENS: %w", err)
		}
		return userauth.NewTokens(tokens)
	case "jwt":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a, err := userauth.NewJWT(ctx, userauth.JWTConfig{
			HS256Secret: []byte(cfg.JWTSecret), JWKSURL: cfg.JWTJWKSURL,
			Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, HTTPDo: hc,
		})
		if err != nil {
			return nil, fmt.Errorf("jwt auth: %w", err)
		}
		return a, nil
	}
	return nil, fmt.Errorf("OSSUP_AUTH: %q is not one of dev, token, jwt", cfg.Auth)
}

// routes is the Echo application: health, readiness and the API. extra
// middleware (metrics) runs inside the access log.
func (a *app) routes(ready echo.HandlerFunc, extra ...echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if a.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		// X-Forwarded-For is client-controlled unless a proxy owns it: rate
		// limits must not be evadable by a header. (In a worker, the glue,
		// cmd/worker/glue, puts CF-Connecting-IP, set by Cloudflare's
		// edge, in RemoteAddr.)
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = errorHandler(a.log)
	e.Use(requestIDs)
	e.Use(middleware.Recover())
	e.Use(a.accessLog)
	e.Use(extra...)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", ready)

	api := e.Group("/api/v1")
	api.Use(noStore)
	api.Use(a.cors())
	api.Use(rateLimit("ip", a.cfg.RateLimitIP, func(c echo.Context) string { return c.RealIP() }))
	api.Use(middleware.BodyLimit("16K"))
	api.Use(middleware.ContextTimeout(30 * time.Second))
	api.Use(a.api.authenticate)
	api.Use(rateLimit("user", a.cfg.RateLimitUser, func(c echo.Context) string { return userOf(c).ID }))
	a.api.register(api)
	return e
}

// cors answers the API's CORS from the configured allowlist (see CORS).
func (a *app) cors() echo.MiddlewareFunc {
	return CORS(CORSConfig{
		Origins:       a.cfg.CORSOrigins,
		AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowHeaders:  []string{echo.HeaderContentType, echo.HeaderAuthorization},
		ExposeHeaders: []string{echo.HeaderXRequestID, "Retry-After", userauth.DevHeader},
		MaxAge:        600,
	})
}

// noStore keeps every API answer out of caches: sessions and refreshes
// carry credentials, and the others are one user's.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
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
func (a *app) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
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
		a.log.Info("http request", attrs...)
		return err
	}
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
