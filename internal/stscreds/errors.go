package stscreds

import "fmt"

// STSError is a failed AssumeRole call as reported by STS. Natively it wraps
// the SDK's *tea.SDKError (reachable with errors.As); it never carries the
// backend's secret: it holds only the response's code, message and data.
type STSError struct {
	// StatusCode is the HTTP status of the STS response (0 if none).
	StatusCode int
	// Code is the STS error code, e.g. "EntityNotExist.Role",
	// "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound".
	Code string
	// Message is the SDK's rendering of STS's answer:
	// "code: <status>, <message> request id: <id>".
	Message string
	// Err is the SDK's error; nil in the js/wasm build, which makes the call
	// without the SDK.
	Err error
}

func (e *STSError) Error() string {
	return fmt.Sprintf("stscreds: AssumeRole failed: STS %s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

func (e *STSError) Unwrap() error { return e.Err }
