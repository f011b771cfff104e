package stsserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	signatureAlgorithm = "ACS3-HMAC-SHA256"
	// maxClockSkew is how far x-acs-date may be from the service clock; nonces
	// are remembered for as long as a request carrying them could be accepted.
	maxClockSkew  = 15 * time.Minute
	acsDateLayout = "2006-01-02T15:04:05Z"
)

// requiredSignedHeaders must be covered by every signature: without them a
// captured request could be re-dated, re-nonced or re-targeted.
var requiredSignedHeaders = []string{
	"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date",
	"x-acs-signature-nonce", "x-acs-version",
}

// authorization is a parsed ACS3 Authorization header.
type authorization struct {
	accessKeyID   string
	signedHeaders []string
	signature     []byte
}

func parseAuthorization(h string) (authorization, *apiError) {
	var a authorization
	if h == "" {
		return a, errIncompleteSignature("The Authorization header is missing.")
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != signatureAlgorithm {
		return a, errIncompleteSignature("Only " + signatureAlgorithm + " is supported.")
	}
	var sig, signed string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return a, errIncompleteSignature("The Authorization header is malformed.")
		}
		seen[k] = true
		switch k {
		case "Credential":
			a.accessKeyID = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	if a.accessKeyID == "" || signed == "" || sig == "" {
		return a, errIncompleteSignature("Credential, SignedHeaders and Signature are required.")
	}
	var err error
	if a.signature, err = hex.DecodeString(sig); err != nil || len(a.signature) != sha256.Size {
		return a, errIncompleteSignature("The Signature is not a hex SHA-256 value.")
	}
	a.signedHeaders = strings.Split(signed, ";")
	for i, name := range a.signedHeaders {
		a.signedHeaders[i] = strings.ToLower(strings.TrimSpace(name))
	}
	slices.Sort(a.signedHeaders)
	a.signedHeaders = slices.Compact(a.signedHeaders)
	for _, name := range requiredSignedHeaders {
		if _, found := slices.BinarySearch(a.signedHeaders, name); !found {
			return a, errIncompleteSignature("SignedHeaders must include " + name + ".")
		}
	}
	return a, nil
}

// canonicalRequest rebuilds the string the darabonba SDK signs
// (openapiutil.GetAuthorization): method, URI, canonical query, canonical
// headers, signed header list and the hex SHA-256 of the body.
func canonicalRequest(r *http.Request, query url.Values, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteString("\n/\n")
	b.WriteString(canonicalQuery(query))
	b.WriteByte('\n')
	for _, name := range signed {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			for _, v := range r.Header.Values(name) {
				vals = append(vals, strings.TrimSpace(v))
			}
			slices.Sort(vals)
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(vals, ","))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalQuery mirrors the SDK: keys sorted bytewise and left as they are,
// values query-escaped, then "+", "*" and "%7E" rewritten over the whole
// string. Each key has one value (duplicates are rejected earlier).
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		if v := q.Get(k); v != "" {
			b.WriteString(url.QueryEscape(v))
		}
	}
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(b.String())
}

func signCanonical(secret, canonical string) (stringToSign string, sig []byte) {
	h := sha256.Sum256([]byte(canonical))
	stringToSign = signatureAlgorithm + "\n" + hex.EncodeToString(h[:])
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return stringToSign, m.Sum(nil)
}

// authenticate verifies the ACS3 signature of r and returns the caller's
// access key id. body is the request body already read.
func (s *Service) authenticate(r *http.Request, query url.Values, body []byte) (string, *apiError) {
	auth, aerr := parseAuthorization(r.Header.Get("Authorization"))
	if aerr != nil {
		return "", aerr
	}
	// Every x-acs-* header must be signed, so none (a security token, say) can
	// be slipped into a captured request.
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-acs-") {
			if _, found := slices.BinarySearch(auth.signedHeaders, lower); !found {
				return "", errIncompleteSignature("Header " + lower + " is not signed.")
			}
		}
	}
	secret, ok := s.keys[auth.accessKeyID]
	if !ok {
		return "", errAccessKeyNotFound()
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if !strings.EqualFold(r.Header.Get("x-acs-content-sha256"), payloadHash) {
		return "", errSignatureDoesNotMatch("x-acs-content-sha256 does not match the request body.")
	}
	canonical := canonicalRequest(r, query, auth.signedHeaders, r.Header.Get("x-acs-content-sha256"))
	stringToSign, want := signCanonical(secret, canonical)
	if !hmac.Equal(want, auth.signature) {
		return "", errSignatureDoesNotMatch("server string to sign is:" + stringToSign)
	}

	now := s.now()
	date, err := time.Parse(acsDateLayout, r.Header.Get("x-acs-date"))
	if err != nil {
		return "", errTimeStampFormat()
	}
	if d := now.Sub(date); d > maxClockSkew || d < -maxClockSkew {
		return "", errTimeStampExpired()
	}
	nonce := r.Header.Get("x-acs-signature-nonce")
	if nonce == "" {
		return "", errMissing("SignatureNonce")
	}
	if !s.nonces.use(auth.accessKeyID+"\x00"+nonce, now, date.Add(maxClockSkew)) {
		return "", errNonceUsed()
	}
	return auth.accessKeyID, nil
}

// nonceCache remembers signature nonces until the request that carried them
// could no longer pass the date check.
type nonceCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time // nonce -> forget after
	lastSweep time.Time
}

// use records a nonce and reports whether it was fresh.
func (c *nonceCache) use(nonce string, now, forgetAfter time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	if now.Sub(c.lastSweep) > time.Minute || now.Before(c.lastSweep) {
		for n, until := range c.seen {
			if now.After(until) {
				delete(c.seen, n)
			}
		}
		c.lastSweep = now
	}
	if until, ok := c.seen[nonce]; ok && !now.After(until) {
		return false
	}
	c.seen[nonce] = forgetAfter
	return true
}
