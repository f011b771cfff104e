package ossauth

import (
	"net/http"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// EC diagnostic codes, from the OSS troubleshooting pages (help/en/oss/support/<EC>).
const (
	ecV1SignatureMismatch  = "0002-00000040"
	ecPresignExpired       = "0002-00000069"
	ecPresignExpiresBad    = "0002-00000070"
	ecV4SignatureMismatch  = "0002-00000201"
	ecV4CredentialInvalid  = "0002-00000213"
	ecV4ContentSHA256      = "0002-00000214"
	ecV4CredentialDate     = "0002-00000223"
	ecDateInvalid          = "0002-00000502"
	ecDateMissing          = "0002-00000503"
	ecRequestTimeTooSkewed = "0002-00000504"
)

const isoMillis = "2006-01-02T15:04:05.000Z"

func errMalformed(name, value, msg string) *osserr.Error {
	return osserr.InvalidArgument(msg, name, value)
}

func errCredential(name, value string) *osserr.Error {
	return osserr.InvalidArgument("Invalid credential in "+name+".", name, value).WithEC(ecV4CredentialInvalid)
}

func errDateMissing() *osserr.Error {
	return osserr.AccessDenied("OSS authentication requires a valid Date.").WithEC(ecDateMissing)
}

func errDateInvalid() *osserr.Error {
	return osserr.AccessDenied("OSS authentication requires a valid Date.").WithEC(ecDateInvalid)
}

func errExpiresInvalid(value string) *osserr.Error {
	return osserr.AccessDenied("Invalid Expires value: " + value + ".").WithEC(ecPresignExpiresBad)
}

// errExpired is OSS's answer to a presigned URL used after its deadline.
// ServerTime is left to osserr.Render, which always writes it.
func errExpired(deadline time.Time) *osserr.Error {
	return osserr.AccessDenied("Request has expired.").
		With("Expires", deadline.UTC().Format(isoMillis)).
		WithEC(ecPresignExpired)
}

// errSkewed reports header auth whose date is too far from the server's
// clock. ServerTime is left to osserr.Render, which always writes it.
func errSkewed(requestTime string) *osserr.Error {
	return osserr.New(http.StatusForbidden, "RequestTimeTooSkewed",
		"The difference between the request time and the current time is too large.").
		With("RequestTime", requestTime).
		WithEC(ecRequestTimeTooSkewed)
}

// errSignature is SignatureDoesNotMatch with the diagnostics OSS returns so
// that a client can compare its own string to sign.
func errSignature(a *Auth, stringToSign, canonicalRequest string) *osserr.Error {
	e := osserr.New(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.").
		With("OSSAccessKeyId", a.AccessKeyID).
		With("SignatureProvided", a.signature).
		With("StringToSign", stringToSign).
		With("StringToSignBytes", hexBytes(stringToSign))
	if a.Version == 4 {
		return e.With("CanonicalRequest", canonicalRequest).WithEC(ecV4SignatureMismatch)
	}
	return e.WithEC(ecV1SignatureMismatch)
}

// hexBytes renders s like OSS's StringToSignBytes: "50 55 54 0A ".
func hexBytes(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(3 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteByte(hex[s[i]>>4])
		b.WriteByte(hex[s[i]&15])
		b.WriteByte(' ')
	}
	return b.String()
}
