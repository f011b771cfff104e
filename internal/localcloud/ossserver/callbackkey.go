package ossserver

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
)

// callbackKey is the RSA key the local OSS signs callbacks with, the
// counterpart of OSS's private key behind gosspublic.alicdn.com. It is made
// on first use, not at start (a 2048-bit key takes a noticeable moment and
// most runs never call back), and kept in a file so that callback servers
// that cache the public key by URL keep verifying across restarts.
type callbackKey struct {
	file string // "" keeps the key in memory only

	once   sync.Once
	key    *rsa.PrivateKey
	pubPEM []byte
	err    error
}

func (k *callbackKey) load() error {
	k.once.Do(func() { k.key, k.err = k.readOrCreate() })
	if k.err != nil {
		return k.err
	}
	if k.pubPEM == nil {
		der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
		if err != nil {
			return err
		}
		k.pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	return nil
}

func (k *callbackKey) readOrCreate() (*rsa.PrivateKey, error) {
	if k.file != "" {
		b, err := os.ReadFile(k.file)
		if err == nil {
			blk, _ := pem.Decode(b)
			if blk == nil || blk.Type != "PRIVATE KEY" {
				return nil, fmt.Errorf("callback key %s: not a PEM private key", k.file)
			}
			key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("callback key %s: %w", k.file, err)
			}
			rk, ok := key.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("callback key %s: not an RSA key", k.file)
			}
			return rk, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("callback key: %w", err)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("callback key: %w", err)
	}
	if k.file == "" {
		return key, nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("callback key: %w", err)
	}
	// Written to a temp file and renamed, so a crash never leaves half a key.
	tmp, err := os.CreateTemp(filepath.Dir(k.file), ".callback-key-*")
	if err != nil {
		return nil, fmt.Errorf("callback key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("callback key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("callback key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("callback key: %w", err)
	}
	if err := os.Rename(tmp.Name(), k.file); err != nil {
		return nil, fmt.Errorf("callback key: %w", err)
	}
	return key, nil
}

// sign is OSS's callback signature: RSA PKCS #1 v1.5 over the MD5 of s.
func (k *callbackKey) sign(s []byte) ([]byte, error) {
	if err := k.load(); err != nil {
		return nil, err
	}
	sum := md5.Sum(s)
	return rsa.SignPKCS1v15(rand.Reader, k.key, crypto.MD5, sum[:])
}

// servePublicKey answers GET /-/callback_pub_key_v1.pem with the PEM public
// key, as gosspublic.alicdn.com serves OSS's.
func (h *Handler) servePublicKey(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	if err := h.callbackKey.load(); err != nil {
		h.log.Error("oss callback key", "err", err)
		http.Error(w, "the callback key is not available", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(h.callbackKey.pubPEM)
}

// callbackTLS verifies an https callback server as any client would: with
// the system roots (or Config.CallbackRootCAs) against the URL's host, or
// callbackHost when callbackSNI asks for it.
func (h *Handler) callbackTLS(cb *callbackRequest, u *url.URL) *tls.Config {
	name := u.Hostname()
	if cb.sni && cb.host != "" {
		name = hostOnly(cb.host)
	}
	return &tls.Config{ServerName: name, RootCAs: h.cfg.CallbackRootCAs, MinVersion: tls.VersionTLS12}
}
