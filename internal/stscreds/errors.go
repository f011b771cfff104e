package stscreds

import (
	"errors"
	"fmt"

	"github.com/alibabacloud-go/tea/tea"
)

// STSError is a failed AssumeRole call as reported by STS. It wraps the
// SDK's *tea.SDKError (reachable with errors.As) and never carries the
// backend's secret: the SDK's errors hold only the response's code, message
// and data.
type STSError struct {
	// StatusCode is the HTTP status of the STS response (0 if none).
	StatusCode int
	// Code is the STS error code, e.g. "EntityNotExist.Role",
	// "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound".
	Code string
	// Message is STS's human-readable message.
	Message string
	// Err is the SDK's error.
	Err error
}

func (e *STSError) Error() string {
	return fmt.Sprintf("stscreds: AssumeRole failed: STS %s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

func (e *STSError) Unwrap() error { return e.Err }

// wrapSTSError turns an SDK failure into an *STSError when STS answered, and
// otherwise (network, timeout, cancellation) into a wrapped transport error.
func wrapSTSError(err error) error {
	var se *tea.SDKError
	if errors.As(err, &se) && se.Code != nil && *se.Code != "" {
		return &STSError{
			StatusCode: tea.IntValue(se.StatusCode),
			Code:       tea.StringValue(se.Code),
			Message:    tea.StringValue(se.Message),
			Err:        err,
		}
	}
	return fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
}
