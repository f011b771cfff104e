//go:build !js

package server

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
)

// devKeysFile holds the local cloud's root keys in the data dir.
const devKeysFile = "root-keys.json"

// devKeys are the local cloud's root keys.
type devKeys struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
}

// devRootKeys returns the data dir's root keys, generating them at its first
// start. They are random per data dir: fixed, published keys would let any
// web page the developer visits sign requests to the local cloud.
func devRootKeys(dataDir string) (devKeys, error) {
	p := filepath.Join(dataDir, devKeysFile)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		var k devKeys
		if err := json.Unmarshal(b, &k); err != nil || k.AccessKeyID == "" || len(k.AccessKeySecret) < 20 {
			return devKeys{}, fmt.Errorf("dev root keys: %s is damaged; delete it to generate new keys", p)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return devKeys{}, fmt.Errorf("dev root keys: %w", err)
	}
	// The shapes of real keys: LTAI5t + 18 characters, a 30-character secret.
	k := devKeys{AccessKeyID: "LTAI5t" + randomAlnum(18), AccessKeySecret: randomAlnum(30)}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return devKeys{}, fmt.Errorf("dev root keys: %w", err)
	}
	b, _ = json.MarshalIndent(k, "", "  ")
	// O_EXCL: two servers starting on one fresh data dir agree on one pair.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return devRootKeys(dataDir)
	}
	if err != nil {
		return devKeys{}, fmt.Errorf("dev root keys: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return devKeys{}, fmt.Errorf("dev root keys: %w", err)
	}
	return k, f.Close()
}

func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		var r [1]byte
		for {
			_, _ = rand.Read(r[:])
			// 248 = 4 × 62: no modulo bias.
			if r[0] < 248 {
				break
			}
		}
		b[i] = alphabet[int(r[0])%len(alphabet)]
	}
	return string(b)
}

// devOrigins are the page origins the dev bucket's CORS rule allows: the
// demo page's own (under each loopback name it can be reached by, when it
// listens on loopback) and the configured OSSUP_CORS_ORIGINS ("*" among
// them allows every origin, as the operator asked).
func devOrigins(addr string, configured []string) []string {
	var out []string
	if h, port, err := net.SplitHostPort(addr); err == nil {
		ip := net.ParseIP(h)
		switch {
		case loopbackHost(h):
			out = append(out, "http://127.0.0.1:"+port, "http://localhost:"+port, "http://[::1]:"+port)
		case h != "" && (ip == nil || !ip.IsUnspecified()):
			out = append(out, "http://"+net.JoinHostPort(h, port))
		}
	}
	for _, o := range configured {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}
