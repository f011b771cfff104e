package userauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"
)

// jwksStore is the key set published at a JWKS URL, as a jwkset.Storage for
// keyfunc. It does for us what jwkset's HTTP storage (NewStorageFromHTTP
// under NewHTTPClient) did: the first fetch, a refresh every interval, and a
// rate-limited refresh when a token names an unknown kid. It exists because
// that storage sends through an *http.Client, and a call of (*http.Client).Do
// links net/http's native transport and TLS into the Cloudflare Workers
// build, about 0.4 MB of its 3 MB (gzip) size limit; this one sends through
// JWTConfig.HTTPDo, the Workers fetch API there.
//
// A refresh replaces the whole set only once every key in the document has
// been read, so a failed refresh leaves the last good set in use.
type jwksStore struct {
	url      string
	do       func(*http.Request) (*http.Response, error)
	validate jwkset.JWKValidateOptions
	// onErr, if set, receives failed background and unknown-kid refreshes.
	onErr func(error)
	// unknownKID allows a refresh for an unknown kid; a caller waits for it
	// at most jwksTimeout, and is refused at once if that is not enough.
	unknownKID *rate.Limiter
	keys       atomic.Pointer[jwkset.MemoryJWKSet]
}

var _ jwkset.Storage = (*jwksStore)(nil)

// refresh fetches the document and, if every key in it parses, replaces the
// set. The body is capped at jwksMaxBody.
func (s *jwksStore) refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("failed to create HTTP request for JWK Set refresh: %w", err)
	}
	resp, err := s.do(req)
	if err != nil {
		return fmt.Errorf("failed to perform HTTP request for JWK Set refresh: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %d", jwkset.ErrInvalidHTTPStatusCode, resp.StatusCode)
	}
	var doc jwkset.JWKSMarshal
	if err := json.NewDecoder(&limitedBody{ReadCloser: resp.Body, left: jwksMaxBody}).Decode(&doc); err != nil {
		return fmt.Errorf("failed to decode JWK Set response: %w", err)
	}
	set := jwkset.NewMemoryStorage()
	for _, m := range doc.Keys {
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, s.validate)
		if err != nil {
			return fmt.Errorf("failed to create JWK from JWK Marshal: %w", err)
		}
		if err := set.KeyWrite(ctx, jwk); err != nil {
			return err
		}
	}
	s.keys.Store(set)
	return nil
}

// refreshEvery refreshes the set every interval until ctx ends, each fetch
// bounded by jwksTimeout.
func (s *jwksStore) refreshEvery(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			fctx, cancel := context.WithTimeout(ctx, jwksTimeout)
			err := s.refresh(fctx)
			cancel()
			s.report(err)
		}
	}
}

func (s *jwksStore) report(err error) {
	if err != nil && s.onErr != nil {
		s.onErr(err)
	}
}

// KeyRead finds kid in the set or, if the limiter allows, in a fresh copy of
// the document (the issuer may have rotated its keys).
func (s *jwksStore) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	jwk, err := s.keys.Load().KeyRead(ctx, kid)
	if !errors.Is(err, jwkset.ErrKeyNotFound) {
		return jwk, err
	}
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	if err := s.unknownKID.Wait(ctx); err != nil {
		return jwkset.JWK{}, fmt.Errorf("failed to wait for JWK Set refresh rate limiter due to error: %w", err)
	}
	if err := s.refresh(ctx); err != nil {
		s.report(err)
	} else if jwk, err := s.keys.Load().KeyRead(ctx, kid); !errors.Is(err, jwkset.ErrKeyNotFound) {
		return jwk, err
	}
	return jwkset.JWK{}, fmt.Errorf("%w %q", jwkset.ErrKeyNotFound, kid)
}

// The rest of jwkset.Storage reads or changes the current set.

func (s *jwksStore) KeyReadAll(ctx context.Context) ([]jwkset.JWK, error) {
	return s.keys.Load().KeyReadAll(ctx)
}

func (s *jwksStore) KeyDelete(ctx context.Context, kid string) (bool, error) {
	return s.keys.Load().KeyDelete(ctx, kid)
}

func (s *jwksStore) KeyWrite(ctx context.Context, jwk jwkset.JWK) error {
	return s.keys.Load().KeyWrite(ctx, jwk)
}

func (s *jwksStore) JSON(ctx context.Context) (json.RawMessage, error) {
	return s.keys.Load().JSON(ctx)
}

func (s *jwksStore) JSONPublic(ctx context.Context) (json.RawMessage, error) {
	return s.keys.Load().JSONPublic(ctx)
}

func (s *jwksStore) JSONPrivate(ctx context.Context) (json.RawMessage, error) {
	return s.keys.Load().JSONPrivate(ctx)
}

func (s *jwksStore) JSONWithOptions(ctx context.Context, m jwkset.JWKMarshalOptions, v jwkset.JWKValidateOptions) (json.RawMessage, error) {
	return s.keys.Load().JSONWithOptions(ctx, m, v)
}

func (s *jwksStore) Marshal(ctx context.Context) (jwkset.JWKSMarshal, error) {
	return s.keys.Load().Marshal(ctx)
}

func (s *jwksStore) MarshalWithOptions(ctx context.Context, m jwkset.JWKMarshalOptions, v jwkset.JWKValidateOptions) (jwkset.JWKSMarshal, error) {
	return s.keys.Load().MarshalWithOptions(ctx, m, v)
}
