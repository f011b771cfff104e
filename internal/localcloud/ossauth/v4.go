package ossauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

const (
	algorithmV4     = "OSS4-HMAC-SHA256"
	v4Terminator    = "aliyun_v4_request"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	hContentSHA256  = "x-oss-content-sha256"
	iso8601Basic    = "20060102T150405Z"
	iso8601Date     = "20060102"

	qV4Version           = "x-oss-signature-version"
	qV4Date              = "x-oss-date"
	qV4Expires           = "x-oss-expires"
	qV4Credential        = "x-oss-credential"
	qV4AdditionalHeaders = "x-oss-additional-headers"
	qV4SecurityToken     = "x-oss-security-token"
	qV4Signature         = "x-oss-signature"

	// maxPresignExpires is the longest V4 presigned validity, 7 days
	// (client_presign.go refuses more).
	maxPresignExpires = 7 * 24 * 3600
)

// parseISO8601 parses the basic format "20060102T150405Z" strictly: the raw
// string enters the string to sign, so lenient forms would only ever fail later.
func parseISO8601(s string) (time.Time, error) {
	if len(s) != len(iso8601Basic) {
		return time.Time{}, &time.ParseError{Layout: iso8601Basic, Value: s, Message: ": wrong length"}
	}
	return time.Parse(iso8601Basic, s)
}

// parseV4Header parses "OSS4-HMAC-SHA256 Credential=ak/yyyymmdd/region/oss/aliyun_v4_request
// [,AdditionalHeaders=a;b],Signature=hex". The SDK writes no space after the
// commas, the OSS documentation does; both are accepted.
func parseV4Header(r *http.Request, header, rest string) (*Auth, error) {
	malformed := errMalformed("Authorization", header, "Authorization header is invalid.")
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, value, ok := strings.Cut(f, "=")
		if !ok {
			return nil, malformed
		}
		switch name {
		case "Credential", "AdditionalHeaders", "Signature":
		default:
			return nil, malformed
		}
		if _, dup := fields[name]; dup {
			return nil, malformed
		}
		fields[name] = strings.TrimSpace(value)
	}
	cred, haveCred := fields["Credential"]
	if !haveCred || fields["Signature"] == "" {
		return nil, malformed
	}

	a := &Auth{Version: 4, signature: fields["Signature"], SecurityToken: r.Header.Get(hSecurityToken)}
	if err := a.setCredential(cred, "Authorization"); err != nil {
		return nil, err
	}
	a.additional = splitAdditionalHeaders(fields["AdditionalHeaders"])

	// The request time is x-oss-date when present, else Date: the OSS Go SDK
	// v1 (aliyun-oss-go-sdk 3.0.2, oss/auth.go getSignedStrV4) and ossutil
	// 1.7.19 sign V4 with Date only, and put that header's own RFC 1123
	// text on the string to sign's timestamp line.
	var err error
	if v := r.Header.Get(hOSSDate); v != "" {
		err = a.setDate(v, "Authorization")
	} else {
		err = a.setHTTPDate(r.Header.Get("Date"))
	}
	if err != nil {
		return nil, err
	}

	// OSS accepts only unsigned payloads for V4 (EC 0002-00000214). A missing
	// header signs as UNSIGNED-PAYLOAD, which is what the SDK signer does.
	if v := r.Header.Get(hContentSHA256); v != "" && v != unsignedPayload {
		return nil, osserr.InvalidArgument("x-oss-content-sha256 is invalid, it must be UNSIGNED-PAYLOAD.",
			hContentSHA256, v).WithEC(ecV4ContentSHA256)
	}
	return a, nil
}

// parseV4Query parses a V4 presigned URL.
func parseV4Query(r *http.Request, params []queryParam) (*Auth, error) {
	if v, _ := firstQueryValue(params, qV4Version); v != algorithmV4 {
		return nil, errMalformed(qV4Version, v, "x-oss-signature-version is missing or unsupported.")
	}
	sig, _ := firstQueryValue(params, qV4Signature)
	if sig == "" {
		return nil, errMalformed(qV4Signature, sig, "x-oss-signature is missing or empty.")
	}
	a := &Auth{Version: 4, Presigned: true, signature: sig}
	cred, _ := firstQueryValue(params, qV4Credential)
	if err := a.setCredential(cred, qV4Credential); err != nil {
		return nil, err
	}
	date, _ := firstQueryValue(params, qV4Date)
	if err := a.setDate(date, qV4Credential); err != nil {
		return nil, err
	}
	exp, _ := firstQueryValue(params, qV4Expires)
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || n < 0 || n > maxPresignExpires {
		return nil, errExpiresInvalid(exp)
	}
	a.Expires = a.SignedAt.Add(time.Duration(n) * time.Second)
	addl, _ := firstQueryValue(params, qV4AdditionalHeaders)
	a.additional = splitAdditionalHeaders(addl)
	if tok, ok := firstQueryValue(params, qV4SecurityToken); ok {
		a.SecurityToken = tok
	} else {
		a.SecurityToken = r.Header.Get(hSecurityToken)
	}
	return a, nil
}

// setCredential parses "<ak>/<yyyymmdd>/<region>/<product>/aliyun_v4_request".
func (a *Auth) setCredential(cred, argName string) error {
	parts := strings.Split(cred, "/")
	n := len(parts)
	if n < 5 || parts[n-1] != v4Terminator {
		return errCredential(argName, cred)
	}
	ak := strings.Join(parts[:n-4], "/")
	date, region, product := parts[n-4], parts[n-3], parts[n-2]
	if ak == "" || region == "" || product == "" {
		return errCredential(argName, cred)
	}
	if _, err := time.Parse(iso8601Date, date); err != nil || len(date) != len(iso8601Date) {
		return osserr.InvalidArgument("Invalid signing date in "+argName+".", argName, cred).WithEC(ecV4CredentialDate)
	}
	a.AccessKeyID, a.scopeDate, a.Region, a.product = ak, date, region, product
	return nil
}

// setDate records x-oss-date and checks the credential scope was made for
// the same day.
func (a *Auth) setDate(value, argName string) error {
	if value == "" {
		return errDateMissing()
	}
	t, err := parseISO8601(value)
	if err != nil {
		return errDateInvalid()
	}
	if t.Format(iso8601Date) != a.scopeDate {
		return osserr.InvalidArgument("Invalid signing date in "+argName+": the credential date does not match x-oss-date.",
			argName, a.scopeDate).WithEC(ecV4CredentialDate)
	}
	a.dateValue, a.SignedAt = value, t
	return nil
}

// setHTTPDate records a V4 request's Date header (RFC 1123, as the SDK
// formats it with http.TimeFormat) and checks the credential scope was made
// for the same day.
func (a *Auth) setHTTPDate(value string) error {
	if value == "" {
		return errDateMissing()
	}
	t, err := time.Parse(http.TimeFormat, value)
	if err != nil {
		return errDateInvalid()
	}
	if t.UTC().Format(iso8601Date) != a.scopeDate {
		return osserr.InvalidArgument("Invalid signing date in Authorization: the credential date does not match Date.",
			"Authorization", a.scopeDate).WithEC(ecV4CredentialDate)
	}
	a.dateValue, a.SignedAt = value, t
	return nil
}

func splitAdditionalHeaders(v string) []string {
	var out []string
	for _, h := range strings.Split(v, ";") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// checkScope refuses a credential scope for another product or region.
func (a *Auth) checkScope(region, product string) error {
	arg := "Authorization"
	if a.Presigned {
		arg = qV4Credential
	}
	if a.product != product {
		return osserr.InvalidArgument("Invalid signing product in "+arg+", expected "+product+".", arg, a.product).
			WithEC(ecV4CredentialInvalid)
	}
	if region != "" && a.Region != region {
		return osserr.InvalidArgument("Invalid signing region in "+arg+", expected "+region+".", arg, a.Region).
			WithEC(ecV4CredentialInvalid)
	}
	return nil
}

// canonicalRequestV4 is signer/v4.go calcCanonicalRequest, rebuilt from the
// received request.
func (a *Auth) canonicalRequestV4(r *http.Request, bucket, key string) string {
	skip := ""
	if a.Presigned {
		skip = qV4Signature
	}
	query := canonicalQueryV4(splitRawQuery(rawQuery(r)), skip)

	lines := headerLines(r.Header)
	additional := make(map[string]bool, len(a.additional))
	for _, h := range a.additional {
		additional[h] = true
	}
	if additional["host"] && r.Host != "" {
		// A server's r.Header never holds Host; Go moves it to r.Host.
		lines["host"] = []string{strings.TrimSpace(r.Host)}
	}
	var names []string
	for n := range lines {
		if isOSSHeader(n) || n == "content-type" || n == "content-md5" || additional[n] {
			names = append(names, n)
		}
	}

	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(escape(resourcePath(bucket, key), true))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(canonicalHeaders(lines, names))
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.additional, ";"))
	b.WriteByte('\n')
	// Header auth was checked in Parse to be UNSIGNED-PAYLOAD (or absent);
	// presigned URLs are always unsigned.
	b.WriteString(unsignedPayload)
	return b.String()
}

func (a *Auth) scope() string {
	return a.scopeDate + "/" + a.Region + "/" + a.product + "/" + v4Terminator
}

func (a *Auth) stringToSignV4(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return algorithmV4 + "\n" + a.dateValue + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// signV4 derives the signing key from "aliyun_v4"+secret over date, region,
// product and the terminator, and signs stringToSign with it.
func signV4(secret, date, region, product, stringToSign string) string {
	k := hmacSHA256([]byte("aliyun_v4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, product)
	k = hmacSHA256(k, v4Terminator)
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}
