package ossauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	qV1AccessKeyID   = "OSSAccessKeyId"
	qV1Expires       = "Expires"
	qV1Signature     = "Signature"
	qV1SecurityToken = "security-token"

	hSecurityToken = "x-oss-security-token"
	hOSSDate       = "x-oss-date"
)

// requiredSignedParameters is signer/v1.go requiredSignedParametersMap:
// the query parameters V1 always signs as subresources.
var requiredSignedParameters = map[string]struct{}{
	"acl":                          {},
	"bucketInfo":                   {},
	"location":                     {},
	"stat":                         {},
	"delete":                       {},
	"append":                       {},
	"tagging":                      {},
	"objectMeta":                   {},
	"uploads":                      {},
	"uploadId":                     {},
	"partNumber":                   {},
	"security-token":               {},
	"position":                     {},
	"response-content-type":        {},
	"response-content-language":    {},
	"response-expires":             {},
	"response-cache-control":       {},
	"response-content-disposition": {},
	"response-content-encoding":    {},
	"restore":                      {},
	"callback":                     {},
	"callback-var":                 {},
	"versions":                     {},
	"versioning":                   {},
	"versionId":                    {},
	"sequential":                   {},
	"continuation-token":           {},
	"regionList":                   {},
	"cloudboxes":                   {},
	"symlink":                      {},
}

// operationSubResources are the names SDK v1.6.1 operations add to
// SigningContext.SubResource (OpMetadata signer.SubResource). A server cannot
// know the operation's list before routing, but every one of these names is
// signed by every SDK operation that sends it, so signing them whenever they
// appear gives the same string to sign.
var operationSubResources = map[string]struct{}{
	"DeleteVectorIndex": {}, "GetVectorIndex": {}, "ListVectorIndexes": {}, "PutVectorIndex": {},
	"accessPoint": {}, "accessPointConfigForObjectProcess": {}, "accessPointForObjectProcess": {},
	"accessPointPolicy": {}, "accessPointPolicyForObjectProcess": {}, "agenticBucket": {},
	"bucketArchiveDirectRead": {}, "cleanRestoredObject": {}, "cname": {}, "comp": {}, "cors": {},
	"encryption": {}, "httpsConfig": {}, "inventory": {}, "inventoryId": {}, "legalHold": {},
	"lifecycle": {}, "logging": {}, "metaQuery": {}, "metadataConfiguration": {},
	"metadataInventoryTable": {}, "metadataJournalTable": {}, "objectWorm": {}, "overwriteConfig": {},
	"policy": {}, "policyStatus": {}, "publicAccessBlock": {}, "quota": {}, "redundancyTransition": {},
	"referer": {}, "regions": {}, "replication": {}, "replicationLocation": {}, "replicationProgress": {},
	"requestPayment": {}, "resourceGroup": {}, "retention": {}, "rtc": {}, "seal": {}, "style": {},
	"styleName": {}, "transferAcceleration": {}, "userDefinedLogFieldsConfig": {}, "website": {},
	"worm": {}, "wormExtend": {}, "wormId": {},
}

func isV1SubResource(k string) bool {
	if _, ok := requiredSignedParameters[k]; ok {
		return true
	}
	if _, ok := operationSubResources[k]; ok {
		return true
	}
	return strings.HasPrefix(k, "x-oss-")
}

// parseV1Header parses "OSS <ak>:<signature>". The DATE of the string to
// sign is the Date header, or x-oss-date when there is none: ali-oss (and
// any browser, which cannot set Date) sends only x-oss-date.
func parseV1Header(r *http.Request, header, rest string) (*Auth, error) {
	rest = strings.TrimSpace(rest)
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 {
		return nil, errMalformed("Authorization", header, "Authorization header is invalid.")
	}
	a := &Auth{
		Version:       1,
		AccessKeyID:   rest[:i],
		signature:     rest[i+1:],
		SecurityToken: r.Header.Get(hSecurityToken),
	}
	date := r.Header.Get("Date")
	fromOSSDate := false
	if date == "" {
		date, fromOSSDate = r.Header.Get(hOSSDate), true
	}
	if date == "" {
		return nil, errDateMissing()
	}
	t, err := http.ParseTime(date)
	if err != nil && fromOSSDate {
		// OSS documents an ISO 8601 x-oss-date as valid for V1 too (EC 0002-00000503).
		t, err = parseISO8601(date)
	}
	if err != nil {
		return nil, errDateInvalid()
	}
	a.dateValue, a.SignedAt = date, t
	return a, nil
}

// parseV1Query parses OSSAccessKeyId/Expires/Signature[/security-token].
func parseV1Query(r *http.Request, params []queryParam) (*Auth, error) {
	ak, _ := firstQueryValue(params, qV1AccessKeyID)
	if ak == "" {
		return nil, errMalformed(qV1AccessKeyID, ak, "OSSAccessKeyId is missing or empty.")
	}
	sig, _ := firstQueryValue(params, qV1Signature)
	if sig == "" {
		return nil, errMalformed(qV1Signature, sig, "Signature is missing or empty.")
	}
	exp, _ := firstQueryValue(params, qV1Expires)
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return nil, errExpiresInvalid(exp)
	}
	a := &Auth{
		Version:     1,
		Presigned:   true,
		AccessKeyID: ak,
		signature:   sig,
		dateValue:   exp,
		Expires:     time.Unix(n, 0).UTC(),
	}
	if tok, ok := firstQueryValue(params, qV1SecurityToken); ok {
		a.SecurityToken = tok
	} else {
		a.SecurityToken = r.Header.Get(hSecurityToken)
	}
	return a, nil
}

// stringToSignV1 is signer/v1.go calcStringToSign:
// VERB\nContent-MD5\nContent-Type\nDATE\n + x-oss-* headers + resource.
func stringToSignV1(r *http.Request, bucket, key, date string) string {
	lines := headerLines(r.Header)
	var names []string
	for n := range lines {
		if isOSSHeader(n) {
			names = append(names, n)
		}
	}

	// url.ParseQuery, like the SDK's URL.Query(), drops malformed pairs; using
	// it keeps the subresource set identical to what the client signed.
	query, _ := url.ParseQuery(rawQuery(r))
	var subs []string
	for k := range query {
		if isV1SubResource(k) {
			subs = append(subs, k)
		}
	}
	sort.Strings(subs)
	resource := resourcePath(bucket, key)
	for i, k := range subs {
		if i == 0 {
			resource += "?"
		} else {
			resource += "&"
		}
		resource += k
		if v := query.Get(k); v != "" {
			resource += "=" + v
		}
	}

	return r.Method + "\n" +
		r.Header.Get("Content-MD5") + "\n" +
		r.Header.Get("Content-Type") + "\n" +
		date + "\n" +
		canonicalHeaders(lines, names) +
		resource
}

func signV1(secret, stringToSign string) string {
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
