package userauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// MinTokenLen is the shortest static bearer token accepted; shorter ones are guessable.
const MinTokenLen = 16

// tokenEqual is the comparison used for static tokens; a variable only so tests can prove it is the constant-time
// one and that every configured token is compared on every request.
var tokenEqual = subtle.ConstantTimeCompare

type tokenEntry struct {
	hash [sha256.Size]byte
	user string
}

type tokenAuth struct {
	entries []tokenEntry
}

// NewTokens returns an Authenticator for static bearer tokens ("Authorization: Bearer <token>"), mapping each
// token to a user id. Tokens must be RFC 6750 b64token syntax, at least 16 and at most 8192 characters; user ids
// must pass ValidUserID. The presented token is hashed with SHA-256 and compared with every configured hash in
// constant time, so neither the matching position nor the token length leaks through timing.
//
// Errors quote neither tokens nor user ids: with the two swapped by mistake, the "user id" is the secret.
func NewTokens(tokens map[string]string) (Authenticator, error) {
	if len(tokens) == 0 {
		return nil, errors.New("userauth: no bearer tokens configured")
	}
	a := &tokenAuth{entries: make([]tokenEntry, 0, len(tokens))}
	for token, user := range tokens {
		if err := checkTokenEntry(token, user); err != nil {
			return nil, fmt.Errorf("userauth: bearer token list: %w", err)
		}
		a.entries = append(a.entries, tokenEntry{hash: sha256.Sum256([]byte(token)), user: user})
	}
	return a, nil
}

func checkTokenEntry(token, user string) error {
	switch {
	case len(token) < MinTokenLen:
		return fmt.Errorf("a token is %d characters, need at least %d", len(token), MinTokenLen)
	case len(token) > maxBearerLen:
		return fmt.Errorf("a token is longer than %d characters", maxBearerLen)
	case !isB64Token(token):
		return errors.New("a token has characters outside A-Z a-z 0-9 - . _ ~ + / (and trailing '=')")
	case !ValidUserID(user):
		return fmt.Errorf("a user id is invalid (want 1-%d printable bytes, no '/', not . or ..)", MaxUserIDLen)
	}
	return nil
}

func (a *tokenAuth) Scheme() string { return "token" }

func (a *tokenAuth) Authenticate(_ http.ResponseWriter, r *http.Request) (User, error) {
	token, aerr := bearerToken(a.Scheme(), r)
	if aerr != nil {
		return User{}, aerr
	}
	h := sha256.Sum256([]byte(token))
	match := -1
	for i := range a.entries {
		// No early exit: the loop costs the same wherever (or whether) the token matches.
		if tokenEqual(h[:], a.entries[i].hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return User{}, unauthenticated(a.Scheme(), "unknown token")
	}
	return User{ID: a.entries[match].user}, nil
}

// ParseTokens parses the environment form "token1=user1,token2=user2". Whitespace around entries is ignored. Each
// entry is split at its last '=', so tokens may end in base64 '=' padding but user ids given this way cannot
// contain '=' or ','. Entries are checked with NewTokens' rules; errors give the entry's position, never its text.
func ParseTokens(spec string) (map[string]string, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("userauth: token list is empty (want token1=user1,token2=user2)")
	}
	out := make(map[string]string)
	for i, entry := range strings.Split(spec, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("userauth: token list entry %d is empty (stray comma?)", n)
		}
		eq := strings.LastIndexByte(entry, '=')
		if eq < 0 {
			return nil, fmt.Errorf("userauth: token list entry %d has no '=' (want token=user)", n)
		}
		token, user := strings.TrimSpace(entry[:eq]), strings.TrimSpace(entry[eq+1:])
		switch {
		case token == "":
			return nil, fmt.Errorf("userauth: token list entry %d has an empty token", n)
		case user == "":
			return nil, fmt.Errorf("userauth: token list entry %d has an empty user id", n)
		}
		if err := checkTokenEntry(token, user); err != nil {
			return nil, fmt.Errorf("userauth: token list entry %d: %w", n, err)
		}
		if _, dup := out[token]; dup {
			return nil, fmt.Errorf("userauth: token list entry %d repeats an earlier token", n)
		}
		out[token] = user
	}
	return out, nil
}
