package objectkey

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const (
	maxUserLen    = 64
	maxSessionLen = 64
	minSessionLen = 2
	// hashLen hex digits (64 bits) disambiguate changed or truncated ids:
	// finding a second id with the same suffix is a 2^64 search.
	hashLen = 16
)

// SanitizeUserID maps a user id into one key segment of at most 64 bytes.
// An id made only of [A-Za-z0-9._@-], 1..64 bytes and not "." or "..", is
// kept as is. Anything else has each other character replaced by '_', is
// cut to 47 bytes and gets "~" and 16 hex digits of the id's SHA-256
// appended. Unchanged ids never contain '~' and changed ones always do, so
// distinct ids map to distinct segments (up to a 64-bit hash collision):
// one user's prefix never covers another's.
func SanitizeUserID(id string) string {
	return mapID(id, maxUserLen, 1, '~', func(s string) bool { return s != "." && s != ".." })
}

// SessionName derives an STS RoleSessionName (2..64 characters of
// [A-Za-z0-9.@_-]) from a user id, deterministically: the id itself when it
// already qualifies, otherwise its mapped, truncated form plus "-" and 16
// hex digits of its SHA-256. It names sessions in audit logs; it is not
// used for authorisation.
func SessionName(userID string) string {
	return mapID(userID, maxSessionLen, minSessionLen, '-', nil)
}

func mapID(id string, maxLen, minLen int, marker byte, ok func(string) bool) string {
	mapped := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._@-", r) {
			return r
		}
		return '_'
	}, id)
	if mapped == id && len(id) >= minLen && len(id) <= maxLen && (ok == nil || ok(id)) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	// mapped is ASCII, so a byte cut is a rune cut.
	prefix := mapped[:min(len(mapped), maxLen-1-hashLen)]
	return prefix + string(marker) + hex.EncodeToString(sum[:])[:hashLen]
}
