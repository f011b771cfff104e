// Package callbacktest is an OSS upload-callback receiver for tests: an HTTP
// server on loopback that verifies each callback as OSS's documentation
// tells application servers to (fetch the public key from the base64 URL in
// x-oss-pub-key-url, check the base64 RSA signature in authorization over
// MD5(url_decode(path) + query + "\n" + body)), records what it received
// and answers as the test says.
package callbacktest

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Received is one callback request as the server saw it.
type Received struct {
	Method, Path, RawQuery, Host, ContentType string
	Header                                    http.Header
	Body                                      []byte
	// Verified is true when the signature checked out with the public key
	// downloaded from x-oss-pub-key-url; VerifyErr says why not otherwise.
	Verified  bool
	VerifyErr error
	// PublicKeyURL is the decoded x-oss-pub-key-url.
	PublicKeyURL string
}

// Answer is what the server replies to a callback.
type Answer struct {
	Status int
	Body   string
	// Delay is waited before answering.
	Delay time.Duration
	// Redirect, if set, answers 301 to this location.
	Redirect string
}

// Server is a running callback receiver.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	received []Received
	answer   func(Received) Answer
}

// New starts a server that answers 200 {"Status":"OK"} to verified
// callbacks and 400 to the others, until SetAnswer changes it.
func New() *Server {
	s := &Server{}
	s.answer = func(r Received) Answer {
		if !r.Verified {
			return Answer{Status: http.StatusBadRequest, Body: `{"Status":"signature rejected"}`}
		}
		return Answer{Status: http.StatusOK, Body: `{"Status":"OK"}`}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetAnswer sets how the server answers.
func (s *Server) SetAnswer(f func(Received) Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = f
}

// Received returns the callbacks received so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := Received{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Host: r.Host,
		ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone(), Body: body,
	}
	rec.PublicKeyURL, rec.VerifyErr = Verify(r, body)
	rec.Verified = rec.VerifyErr == nil
	s.mu.Lock()
	s.received = append(s.received, rec)
	answer := s.answer
	s.mu.Unlock()
	a := answer(rec)
	if a.Delay > 0 {
		select {
		case <-time.After(a.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.Redirect != "" {
		http.Redirect(w, r, a.Redirect, http.StatusMovedPermanently)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, a.Body)
}

// Verify checks an OSS callback request whose body has been read into body,
// returning the public key URL it used. The key URL must be a loopback
// http(s) URL (a real server would insist on gosspublic.alicdn.com).
func Verify(r *http.Request, body []byte) (string, error) {
	rawURL, err := base64.StdEncoding.DecodeString(r.Header.Get("x-oss-pub-key-url"))
	if err != nil || len(rawURL) == 0 {
		return "", errors.New("callbacktest: no base64 x-oss-pub-key-url")
	}
	keyURL := string(rawURL)
	u, err := url.Parse(keyURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return keyURL, fmt.Errorf("callbacktest: bad public key URL %q", keyURL)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err != nil || !ip.IsLoopback() {
		return keyURL, fmt.Errorf("callbacktest: public key URL %q is not on loopback", keyURL)
	}
	key, err := fetchKey(keyURL)
	if err != nil {
		return keyURL, err
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get("authorization"))
	if err != nil || len(sig) == 0 {
		return keyURL, errors.New("callbacktest: no base64 authorization header")
	}
	return keyURL, VerifySignature(key, r.URL.EscapedPath(), r.URL.RawQuery, body, sig)
}

// VerifySignature checks sig over OSS's string to sign for a request to
// escapedPath?rawQuery with body.
func VerifySignature(key *rsa.PublicKey, escapedPath, rawQuery string, body, sig []byte) error {
	path, err := url.PathUnescape(escapedPath)
	if err != nil {
		return fmt.Errorf("callbacktest: path %q: %w", escapedPath, err)
	}
	s := path
	if rawQuery != "" {
		s += "?" + rawQuery
	}
	s += "\n" + string(body)
	sum := md5.Sum([]byte(s))
	if err := rsa.VerifyPKCS1v15(key, crypto.MD5, sum[:], sig); err != nil {
		return fmt.Errorf("callbacktest: signature does not verify: %w", err)
	}
	return nil
}

func fetchKey(keyURL string) (*rsa.PublicKey, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(keyURL)
	if err != nil {
		return nil, fmt.Errorf("callbacktest: fetch public key: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("callbacktest: fetch public key: status %d, %v", resp.StatusCode, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || !strings.Contains(blk.Type, "PUBLIC KEY") {
		return nil, fmt.Errorf("callbacktest: public key is not PEM: %q", b)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("callbacktest: public key: %w", err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("callbacktest: public key is not RSA")
	}
	return rk, nil
}
