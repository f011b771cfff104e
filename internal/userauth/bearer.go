package userauth

import (
	"net/http"
	"strings"
)

// maxBearerLen bounds the credential we are willing to parse or hash; real JWTs are a few KB at most.
const maxBearerLen = 8192

// bearerToken extracts the RFC 6750 bearer credential from r. The returned *Error never quotes the header.
func bearerToken(scheme string, r *http.Request) (string, *Error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", &Error{Scheme: scheme, Reason: "missing bearer token", missing: true}
	case 1:
	default:
		// Two headers could be read differently by a proxy and by us; refuse rather than pick one.
		return "", unauthenticated(scheme, "multiple Authorization headers")
	}
	v := strings.TrimSpace(values[0])
	if v == "" {
		return "", &Error{Scheme: scheme, Reason: "missing bearer token", missing: true}
	}
	authScheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(authScheme, "Bearer") {
		return "", unauthenticated(scheme, "Authorization scheme is not Bearer")
	}
	token := strings.TrimLeft(rest, " ")
	switch {
	case token == "":
		return "", unauthenticated(scheme, "empty bearer token")
	case len(token) > maxBearerLen:
		return "", unauthenticated(scheme, "bearer token too long")
	case !isB64Token(token):
		return "", unauthenticated(scheme, "malformed bearer token")
	}
	return token, nil
}

// isB64Token reports whether s matches RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
// *"=". Restricting the alphabet keeps whitespace, commas and control bytes out of everything downstream.
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/':
		default:
			return false
		}
	}
	return true
}
