package stsserver

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

const (
	// tokenPrefix imitates real STS tokens, which all start with "CAIS".
	tokenPrefix   = "CAIS"
	tokenVersion  = 1
	stsKeyPrefix  = "STS."
	keyIDRandLen  = 22 // base62 characters after "STS."
	secretLen     = 43 // base62 characters of HMAC-SHA256 output
	maxTokenChars = 16 << 10
)

// tokenAAD binds sealed tokens to this format, so a blob sealed for any other
// purpose with the same key cannot be passed off as a token.
var tokenAAD = []byte("localsts security token v1")

// claims is what a sealed token carries. The secret is not in it: it is
// derived from the sealing key and the key id whenever it is needed.
type claims struct {
	Version        int    `json:"v"`
	KeyID          string `json:"k"`
	RoleARN        string `json:"r"`
	SessionName    string `json:"n"`
	Expiration     int64  `json:"x"`
	IssuedAt       int64  `json:"i"`
	Policy         string `json:"p,omitempty"`
	SourceIdentity string `json:"s,omitempty"`
}

// sealer mints and opens tokens with keys derived from the persisted master
// key: one for AES-256-GCM sealing, one for deriving access key secrets.
type sealer struct {
	aead      cipher.AEAD
	secretKey []byte
}

func newSealer(master []byte) (*sealer, error) {
	block, err := aes.NewCipher(deriveKey(master, "localsts/v1/token-seal"))
	if err != nil {
		return nil, fmt.Errorf("stsserver: token cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("stsserver: token cipher: %w", err)
	}
	return &sealer{aead: aead, secretKey: deriveKey(master, "localsts/v1/access-key-secret")}, nil
}

func deriveKey(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// secretFor derives the AccessKeySecret of a temporary key id.
func (s *sealer) secretFor(keyID string) string {
	m := hmac.New(sha256.New, s.secretKey)
	m.Write([]byte(keyID))
	return base62(m.Sum(nil), secretLen)
}

func (s *sealer) seal(c claims) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("stsserver: encode token: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead()+1)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("stsserver: token nonce: %w", err)
	}
	blob := append([]byte{tokenVersion}, s.aead.Seal(nonce, nonce, plain, tokenAAD)...)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(blob), nil
}

func (s *sealer) open(token string) (claims, error) {
	var c claims
	if len(token) > maxTokenChars {
		return c, errors.New("token too long")
	}
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return c, errors.New("not a token of this service")
	}
	blob, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return c, errors.New("token is not well-formed")
	}
	ns := s.aead.NonceSize()
	if len(blob) < 1+ns+s.aead.Overhead() || blob[0] != tokenVersion {
		return c, errors.New("token is not well-formed")
	}
	plain, err := s.aead.Open(nil, blob[1:1+ns], blob[1+ns:], tokenAAD)
	if err != nil {
		return c, errors.New("token was not minted by this service or was altered")
	}
	if err := json.Unmarshal(plain, &c); err != nil || c.Version != tokenVersion {
		return c, errors.New("token payload is not valid")
	}
	return c, nil
}

// base62 renders b in [0-9a-zA-Z], left-padded with '0' to n characters.
func base62(b []byte, n int) string {
	s := new(big.Int).SetBytes(b).Text(62)
	if len(s) < n {
		s = strings.Repeat("0", n-len(s)) + s
	}
	return s[:n]
}

func newKeyID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("stsserver: access key id: %w", err)
	}
	return stsKeyPrefix + base62(b, keyIDRandLen), nil
}

// Session is what a minted security token stands for.
type Session struct {
	AccessKeyID, AccessKeySecret string
	Expiration                   time.Time
	RoleARN, SessionName         string
	// Policies are the role's current policy and, if one was given to
	// AssumeRole, the session policy: a request must be allowed by all of them
	// (rampolicy.AllowedByAll).
	Policies []*rampolicy.Policy
}

// Resolve authenticates a temporary key presented to the OSS endpoint: the key
// id must start with "STS.", the token must be one this service minted for
// that key id (possibly before a restart with the same DataDir), and it must
// not be expired at now (a zero now means the service clock). Errors wrap
// ErrUnknownAccessKey, ErrInvalidToken or ErrTokenExpired.
func (s *Service) Resolve(accessKeyID, securityToken string, now time.Time) (*Session, error) {
	if !strings.HasPrefix(accessKeyID, stsKeyPrefix) {
		return nil, fmt.Errorf("%w: %q is not a temporary access key id", ErrUnknownAccessKey, accessKeyID)
	}
	c, err := s.sealer.open(securityToken)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if !hmac.Equal([]byte(c.KeyID), []byte(accessKeyID)) {
		return nil, fmt.Errorf("%w: the security token belongs to another access key id", ErrUnknownAccessKey)
	}
	if now.IsZero() {
		now = s.now()
	}
	exp := time.Unix(c.Expiration, 0).UTC()
	if !now.Before(exp) {
		return nil, fmt.Errorf("%w: expired at %s", ErrTokenExpired, exp.Format(time.RFC3339))
	}
	role, ok := s.roles[c.RoleARN]
	if !ok {
		return nil, fmt.Errorf("%w: role %s is no longer configured", ErrInvalidToken, c.RoleARN)
	}
	sess := &Session{
		AccessKeyID:     c.KeyID,
		AccessKeySecret: s.sealer.secretFor(c.KeyID),
		Expiration:      exp,
		RoleARN:         c.RoleARN,
		SessionName:     c.SessionName,
		Policies:        []*rampolicy.Policy{role.policy},
	}
	if c.Policy != "" {
		p, err := rampolicy.Parse([]byte(c.Policy))
		if err != nil {
			return nil, fmt.Errorf("%w: session policy: %v", ErrInvalidToken, err)
		}
		sess.Policies = append(sess.Policies, p)
	}
	return sess, nil
}
