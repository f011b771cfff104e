// Package ossauth verifies the authentication of OSS requests on the server
// side: Signature V1 ("OSS ak:signature") and V4 ("OSS4-HMAC-SHA256"), each
// in the Authorization header or in a presigned URL, computed exactly as the
// official SDKs (alibabacloud-oss-go-sdk-v2 signer/v1.go and signer/v4.go,
// ali-oss) compute them.
//
// The endpoint calls Parse to learn who is asking, looks up the secret for
// Auth.AccessKeyID (and checks Auth.SecurityToken), then calls Verify with
// the bucket and key it resolved from the request.
package ossauth

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// Auth is the credential information carried by a request, parsed but not yet verified.
type Auth struct {
	Version       int // 0 = anonymous (no Authorization header and no signature query), 1 or 4
	Presigned     bool
	AccessKeyID   string
	SecurityToken string    // from x-oss-security-token header, V4 query x-oss-security-token, or V1 query security-token
	Region        string    // V4 credential scope region ("" for V1)
	SignedAt      time.Time // V4: x-oss-date, else Date; V1 header: Date header, falling back to x-oss-date; V1 presigned: zero
	Expires       time.Time // presigned only: deadline

	signature  string   // as provided by the client
	dateValue  string   // raw date string that enters the string to sign (V1 DATE line, V4 x-oss-date or Date)
	scopeDate  string   // V4 credential scope date, yyyymmdd
	product    string   // V4 credential scope product ("oss", "oss-cloudbox")
	additional []string // V4 AdditionalHeaders, lowercase, in the client's order
}

// Parse extracts the credentials from r without checking the signature.
// Anonymous requests return Version 0 and nil error. Malformed auth returns
// *osserr.Error: InvalidArgument (400) for a malformed Authorization header
// or credential, AccessDenied (403) for a missing or invalid date, as OSS
// does. An Authorization header takes precedence over signature parameters
// in the query.
func Parse(r *http.Request) (*Auth, error) {
	if r == nil {
		return nil, osserr.InternalError("ossauth: nil request")
	}
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		algo, rest, _ := strings.Cut(h, " ")
		switch algo {
		case algorithmV4:
			return parseV4Header(r, h, rest)
		case "OSS":
			return parseV1Header(r, h, rest)
		default:
			return nil, errMalformed("Authorization", h, "Authorization header is invalid or uses an unsupported signature version.")
		}
	}
	params := splitRawQuery(rawQuery(r))
	switch {
	case hasQuery(params, qV4Version) || hasQuery(params, qV4Credential) || hasQuery(params, qV4Signature):
		return parseV4Query(r, params)
	case hasQuery(params, qV1AccessKeyID) || hasQuery(params, qV1Signature):
		return parseV1Query(r, params)
	}
	return &Auth{}, nil
}

func rawQuery(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

// VerifyOptions controls time checks.
type VerifyOptions struct {
	Now     time.Time     // zero = time.Now()
	MaxSkew time.Duration // zero = 15 minutes
	Region  string        // if non-empty, a V4 scope with another region is refused
	Product string        // zero = "oss"
}

// DefaultMaxSkew is how far header-signed requests may be from the server
// clock, as on OSS.
const DefaultMaxSkew = 15 * time.Minute

// Verify checks r's signature with secret, for the resource bucket/key as the
// OSS endpoint resolved it from path-style or virtual-hosted-style addressing
// (bucket "" = service level, key "" = bucket level), and its time validity.
// Returns *osserr.Error: SignatureDoesNotMatch (403, with OSSAccessKeyId,
// SignatureProvided, StringToSign, StringToSignBytes and, for V4,
// CanonicalRequest), RequestTimeTooSkewed (403, header auth more than MaxSkew
// from Now, with RequestTime), AccessDenied (403, "Request has expired." for
// an expired presigned URL, with Expires; or for an anonymous Auth),
// InvalidArgument (400, V4 scope with a refused region or product).
//
// ServerTime is deliberately not added to error fields: osserr.Render always
// writes it, and a second element would break ali-oss's clock correction.
func (a *Auth) Verify(r *http.Request, bucket, key, secret string, opts VerifyOptions) error {
	if r == nil {
		return osserr.InternalError("ossauth: nil request")
	}
	if a == nil || (a.Version != 1 && a.Version != 4) {
		return osserr.AccessDenied("You have no right to access this object because of bucket acl.")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	skew := opts.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	product := opts.Product
	if product == "" {
		product = "oss"
	}

	if a.Version == 4 {
		if err := a.checkScope(opts.Region, product); err != nil {
			return err
		}
	}
	if err := a.checkTime(now, skew); err != nil {
		return err
	}

	var stringToSign, canonicalRequest, want string
	if a.Version == 1 {
		stringToSign = stringToSignV1(r, bucket, key, a.dateValue)
		want = signV1(secret, stringToSign)
	} else {
		canonicalRequest = a.canonicalRequestV4(r, bucket, key)
		stringToSign = a.stringToSignV4(canonicalRequest)
		want = signV4(secret, a.scopeDate, a.Region, a.product, stringToSign)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return errSignature(a, stringToSign, canonicalRequest)
	}
	return nil
}

// checkTime applies the skew window to header auth and the deadline to
// presigned URLs; a presigned URL may legitimately be used long after it was
// signed, so only its deadline matters.
func (a *Auth) checkTime(now time.Time, skew time.Duration) error {
	if a.Presigned {
		if now.After(a.Expires) {
			return errExpired(a.Expires)
		}
		return nil
	}
	d := now.Sub(a.SignedAt)
	if d > skew || d < -skew {
		return errSkewed(a.dateValue)
	}
	return nil
}
