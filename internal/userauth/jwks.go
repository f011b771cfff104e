package userauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

const (
	jwksTimeout         = 10 * time.Second
	jwksMaxBody         = 1 << 20
	jwksRefreshInterval = time.Hour
	// jwksUnknownKIDEvery rate-limits refreshes triggered by unknown kids, so tokens with made-up kids cannot turn
	// us into a request amplifier against the identity provider.
	jwksUnknownKIDEvery = 5 * time.Minute
	minRSABits          = 2048
)

type jwksKeys struct {
	kf keyfunc.Keyfunc
}

// newJWKSKeys builds the key storage for cfg.JWKSURL, performs the first fetch and starts the refresh, which ends
// with ctx or the returned cancel.
func newJWKSKeys(ctx context.Context, cfg JWTConfig) (*jwksKeys, context.CancelFunc, error) {
	if err := checkJWKSURL(cfg.JWKSURL); err != nil {
		return nil, nil, err
	}
	do := cfg.HTTPDo
	if do == nil {
		do = defaultJWKSDo()
	}
	interval := cfg.JWKSRefreshInterval
	if interval <= 0 {
		interval = jwksRefreshInterval
	}
	store := &jwksStore{
		url: cfg.JWKSURL,
		do:  do,
		// jwkset v0.8.0's validation re-marshals keys and panics on an EC coordinate longer than the curve size
		// (fixed upstream in jwkset PR #66); in the refresh goroutine that would crash the process. Our own
		// checks (keyFits: RSA ≥ 2048 bits, EC on P-256) and crypto/ecdsa's point validation stand in for it.
		validate:   jwkset.JWKValidateOptions{SkipAll: true},
		unknownKID: rate.NewLimiter(rate.Every(jwksUnknownKIDEvery), 1),
	}
	if cfg.OnJWKSError != nil {
		store.onErr = func(err error) { cfg.OnJWKSError(fmt.Errorf("userauth: JWKS refresh: %w", err)) }
	}
	first, cancelFirst := context.WithTimeout(ctx, jwksTimeout)
	err := store.refresh(first)
	cancelFirst()
	if err != nil {
		return nil, nil, fmt.Errorf("userauth: fetching JWKS %s: failed to perform first HTTP request for JWK Set: %w", cfg.JWKSURL, err)
	}
	all, err := store.KeyReadAll(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("userauth: reading JWKS %s: %w", cfg.JWKSURL, err)
	}
	usable := 0
	for _, k := range all {
		if keyFitsAny(publicKey(k.Key())) {
			usable++
		}
	}
	if usable == 0 {
		return nil, nil, fmt.Errorf("userauth: JWKS %s has no RS256 (RSA ≥ %d bits) or ES256 (P-256) key", cfg.JWKSURL, minRSABits)
	}
	ctx, cancel := context.WithCancel(ctx)
	kf, err := keyfunc.New(keyfunc.Options{
		Ctx:     ctx,
		Storage: store,
		// Encryption keys ("use":"enc") never verify signatures; keys without "use" are the common case.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("userauth: JWKS keyfunc: %w", err)
	}
	go store.refreshEvery(ctx, interval)
	return &jwksKeys{kf: kf}, cancel, nil
}

// checkJWKSURL insists on https so keys cannot be swapped in transit; plain http is allowed only on loopback
// (tests, a sidecar).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("userauth: JWKS URL: %w", err)
	}
	switch {
	case u.Host == "":
		return errors.New("userauth: JWKS URL must be absolute (https://host/path)")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return errors.New("userauth: JWKS URL must use https (plain http only on a loopback host)")
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (k *jwksKeys) key(ctx context.Context, t *jwt.Token) (any, error) {
	got, err := k.kf.KeyfuncCtx(ctx)(t)
	if err != nil {
		return nil, err
	}
	alg := t.Method.Alg()
	// keyfunc hands back whatever the JWKS holds (an "oct" key would be a []byte); only keys of the right type
	// for the already allow-listed algorithm go on to verification.
	if set, ok := got.(jwt.VerificationKeySet); ok {
		var fit jwt.VerificationKeySet
		for _, key := range set.Keys {
			if keyFits(alg, key) {
				fit.Keys = append(fit.Keys, key)
			}
		}
		if len(fit.Keys) == 0 {
			return nil, errKeyAlgMismatch
		}
		return fit, nil
	}
	if !keyFits(alg, got) {
		return nil, errKeyAlgMismatch
	}
	return got, nil
}

func keyFits(alg string, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == jwt.SigningMethodRS256.Alg() && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return alg == jwt.SigningMethodES256.Alg() && k.Curve == elliptic.P256()
	}
	return false
}

func keyFitsAny(key any) bool {
	return keyFits(jwt.SigningMethodRS256.Alg(), key) || keyFits(jwt.SigningMethodES256.Alg(), key)
}

// publicKey mirrors keyfunc: a JWKS may carry private halves, verification uses the public one.
func publicKey(key any) any {
	if pk, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return pk.Public()
	}
	return key
}

var errJWKSTooLarge = fmt.Errorf("JWKS document larger than %d bytes", jwksMaxBody)

// limitedBody caps a JWKS response body, so a broken or hostile endpoint cannot make the decoder buffer without
// bound.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte past the limit distinguishes "too large" from "exactly at the limit".
		var one [1]byte
		if n, _ := b.ReadCloser.Read(one[:]); n > 0 {
			return 0, errJWKSTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
