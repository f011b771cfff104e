package stsserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Sentinel errors of Resolve. The OSS endpoint maps them onto its own error
// codes (InvalidAccessKeyId, InvalidSecurityToken, SecurityTokenExpired).
var (
	// ErrUnknownAccessKey: the key id is not a temporary ("STS.") key, or the
	// token presented with it was minted for a different key id.
	ErrUnknownAccessKey = errors.New("stsserver: unknown temporary access key")
	// ErrInvalidToken: the token was not minted by this service (wrong sealing
	// key, tampered, truncated), or its role is no longer configured.
	ErrInvalidToken = errors.New("stsserver: invalid security token")
	// ErrTokenExpired: the token is genuine but past its expiration.
	ErrTokenExpired = errors.New("stsserver: security token expired")
)

// apiError is an STS error response. Codes follow the real service; where the
// real HTTP status is not documented the choice is noted at the constructor.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("sts: %d %s: %s", e.status, e.code, e.message)
}

func newAPIError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// The POP gateway's common errors. Messages are the documented ones.
func errIncompleteSignature(detail string) *apiError {
	return newAPIError(http.StatusBadRequest, "IncompleteSignature", "%s",
		withDetail("The request signature does not conform to Aliyun standards.", detail))
}

func errSignatureDoesNotMatch(detail string) *apiError {
	// 400, as the POP gateway answers; MNS/OSS use 403 but STS is a POP API.
	return newAPIError(http.StatusBadRequest, "SignatureDoesNotMatch", "%s",
		withDetail("Specified signature does not match our calculation.", detail))
}

func errAccessKeyNotFound() *apiError {
	// 404 is unverified; POP documentation also shows 400 for this code.
	return newAPIError(http.StatusNotFound, "InvalidAccessKeyId.NotFound",
		"Specified access key is not found.")
}

func errNonceUsed() *apiError {
	return newAPIError(http.StatusBadRequest, "SignatureNonceUsed",
		"Specified signature nonce was used already.")
}

func errTimeStampExpired() *apiError {
	return newAPIError(http.StatusBadRequest, "InvalidTimeStamp.Expired",
		"Specified time stamp or date value is expired.")
}

func errTimeStampFormat() *apiError {
	return newAPIError(http.StatusBadRequest, "InvalidTimeStamp.Format",
		"Specified time stamp or date value is not well formatted.")
}

func errMissing(param string) *apiError {
	return newAPIError(http.StatusBadRequest, "Missing"+param,
		"%s is mandatory for this action.", param)
}

func errInvalidParam(param, message string) *apiError {
	return newAPIError(http.StatusBadRequest, "InvalidParameter."+param, "%s", message)
}

// withDetail appends a diagnostic to a documented message, keeping the
// documented sentence first so that clients matching on it still work.
func withDetail(msg, detail string) string {
	if detail == "" {
		return msg
	}
	return msg + " " + detail
}

// errorBody is the JSON error document of POP APIs.
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func writeError(w http.ResponseWriter, r *http.Request, requestID string, e *apiError) {
	body := errorBody{
		RequestID: requestID,
		HostID:    r.Host,
		Code:      e.code,
		Message:   e.message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.code) +
			"&product=Sts&requestId=" + url.QueryEscape(requestID),
	}
	writeJSON(w, requestID, e.status, body)
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs of strings are marshalled here.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("x-acs-request-id", requestID)
	// Responses carry credentials; keep them out of any cache.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
