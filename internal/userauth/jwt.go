package userauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig configures NewJWT. Exactly one of HS256Secret and JWKSURL must be set.
type JWTConfig struct {
	// HS256Secret verifies HS256 tokens; at least 32 bytes (RFC 7518 §3.2).
	HS256Secret []byte
	// JWKSURL is fetched for RS256 and ES256 (P-256) verification keys. It must be https, or http on a loopback
	// host. Keys are refreshed every JWKSRefreshInterval and, at most once per 5 minutes, when a token names an
	// unknown kid (key rotation).
	JWKSURL string
	// HTTPDo fetches the JWKS: an *http.Client's Do, say (nil = a client with a 10 s timeout; required in the js/wasm
	// build, where it is the Workers fetch API). Response bodies are capped at 1 MiB.
	HTTPDo func(*http.Request) (*http.Response, error)
	// JWKSRefreshInterval is the background refresh period (default 1 h). The refresh goroutine ends when the
	// context given to NewJWT ends.
	JWKSRefreshInterval time.Duration
	// OnJWKSError, if set, receives background and unknown-kid refresh failures (they never fail a request by
	// themselves: the last good key set stays in use).
	OnJWKSError func(error)
	// Issuer, if set, must equal the "iss" claim.
	Issuer string
	// Audience, if set, must be one of the "aud" claim values.
	Audience string
	// Leeway is the allowed clock skew for exp, nbf and iat (default 30 s).
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

const defaultLeeway = 30 * time.Second

type jwtAuth struct {
	parser   *jwt.Parser
	keys     keySource
	issuer   string
	audience string
	stop     context.CancelFunc
}

// keySource resolves the verification key for a token whose algorithm the parser already accepted.
type keySource interface {
	key(ctx context.Context, t *jwt.Token) (any, error)
}

// NewJWT returns an Authenticator for "Authorization: Bearer <jwt>" built on golang-jwt/jwt/v5. Only the configured
// algorithms are accepted: HS256 with a secret, RS256 and ES256 with a JWKS; never "none", and never an HMAC over a
// JWKS public key. exp is required, nbf and iat are honoured with Leeway, sub is required, must pass ValidUserID and
// becomes User.ID. With a JWKS, the first fetch happens here and its failure is an error; ctx bounds that fetch and
// the lifetime of the background refresh.
func NewJWT(ctx context.Context, cfg JWTConfig) (Authenticator, error) {
	if cfg.Leeway < 0 {
		return nil, errors.New("userauth: JWT leeway must not be negative")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = defaultLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &jwtAuth{issuer: cfg.Issuer, audience: cfg.Audience, stop: func() {}}
	var algs []string
	switch {
	case len(cfg.HS256Secret) > 0 && cfg.JWKSURL != "":
		return nil, errors.New("userauth: set either an HS256 secret or a JWKS URL for JWT, not both")
	case len(cfg.HS256Secret) > 0:
		if len(cfg.HS256Secret) < MinSecretLen {
			return nil, fmt.Errorf("userauth: HS256 secret is %d bytes, need at least %d", len(cfg.HS256Secret), MinSecretLen)
		}
		algs = []string{jwt.SigningMethodHS256.Alg()}
		a.keys = hmacKey(append([]byte(nil), cfg.HS256Secret...))
	case cfg.JWKSURL != "":
		ks, stop, err := newJWKSKeys(ctx, cfg)
		if err != nil {
			return nil, err
		}
		algs = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}
		a.keys, a.stop = ks, stop
	default:
		return nil, errors.New("userauth: JWT needs an HS256 secret or a JWKS URL")
	}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	return a, nil
}

func (a *jwtAuth) Scheme() string { return "jwt" }

// Close stops the background JWKS refresh early (it also stops when NewJWT's context ends).
func (a *jwtAuth) Close() error {
	a.stop()
	return nil
}

// errKeyAlgMismatch marks a key whose type cannot serve the token's algorithm (e.g. an "oct" JWK for RS256).
var errKeyAlgMismatch = errors.New("signing key does not fit the token algorithm")

func (a *jwtAuth) Authenticate(_ http.ResponseWriter, r *http.Request) (User, error) {
	raw, aerr := bearerToken(a.Scheme(), r)
	if aerr != nil {
		return User{}, aerr
	}
	var claims jwt.RegisteredClaims
	// The parser checks the algorithm against the allow-list before it calls the key function, so "not called"
	// distinguishes a refused algorithm from a bad signature.
	keyCalled := false
	var keyErr error
	_, err := a.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		keyCalled = true
		k, err := a.keys.key(r.Context(), t)
		keyErr = err
		return k, err
	})
	if err != nil {
		return User{}, unauthenticated(a.Scheme(), jwtReason(err, keyCalled, keyErr))
	}
	switch {
	case a.issuer != "" && claims.Issuer == "":
		return User{}, unauthenticated(a.Scheme(), "token has no iss claim")
	case a.issuer != "" && claims.Issuer != a.issuer:
		return User{}, unauthenticated(a.Scheme(), "issuer mismatch")
	case a.audience != "" && len(claims.Audience) == 0:
		return User{}, unauthenticated(a.Scheme(), "token has no aud claim")
	case a.audience != "" && !slices.Contains(claims.Audience, a.audience):
		return User{}, unauthenticated(a.Scheme(), "audience mismatch")
	case claims.Subject == "":
		return User{}, unauthenticated(a.Scheme(), "token has no sub claim")
	case !ValidUserID(claims.Subject):
		return User{}, unauthenticated(a.Scheme(), "sub claim is not a valid user id")
	}
	return User{ID: claims.Subject}, nil
}

// jwtReason turns a golang-jwt error into a fixed, safe phrase; the library's own messages can quote header values.
func jwtReason(err error, keyCalled bool, keyErr error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case !keyCalled:
		// Unknown ("unavailable") or not allowed algorithm, including "none".
		return "signing algorithm not allowed"
	case errors.Is(keyErr, errKeyAlgMismatch):
		return "signing key does not fit the token algorithm"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unknown signing key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "invalid signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token has no exp claim"
	default:
		return "invalid token claims"
	}
}

// hmacKey serves the HS256 secret, and only for HS256 tokens.
type hmacKey []byte

func (k hmacKey) key(_ context.Context, t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 {
		return nil, errKeyAlgMismatch
	}
	return []byte(k), nil
}
