package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiError is the JSON error every API endpoint answers with:
// {"error":{"code":"...","message":"...","requestId":"...","details":...}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newAPIError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

func (e *apiError) with(details any) *apiError {
	c := *e
	c.Details = details
	return &c
}

// errorHandler renders every error, including Echo's own (404 route, 413 body
// limit, 429 rate limit), in the API's JSON shape.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var ae *apiError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &ae):
		case errors.As(err, &he):
			ae = newAPIError(he.Code, httpCode(he.Code), messageOf(he))
		default:
			log.Error("internal error", "request_id", requestID(c), "err", err)
			ae = newAPIError(http.StatusInternalServerError, "internal", "internal error; the request id identifies it in the server log")
		}
		if ae.Status == http.StatusTooManyRequests {
			c.Response().Header().Set("Retry-After", "1")
		}
		body := map[string]any{"error": map[string]any{
			"code": ae.Code, "message": ae.Message, "requestId": requestID(c), "details": ae.Details,
		}}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(ae.Status)
			return
		}
		_ = c.JSON(ae.Status, body)
	}
}

func messageOf(he *echo.HTTPError) string {
	if s, ok := he.Message.(string); ok {
		return s
	}
	return http.StatusText(he.Code)
}

func httpCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	return "error"
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
