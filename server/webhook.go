package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Webhook notifies the application of each verified upload with a POST of
// the object's JSON, signed like this:
//
//	X-Ossup-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The receiver recomputes the HMAC over the timestamp and the raw body and
// refuses old timestamps, which defeats replay.
type Webhook struct {
	URL    string
	Secret []byte
	// HTTPDo sends the POST (an *http.Client's Do natively).
	HTTPDo DoFunc
	Now    func() time.Time
	// Attempts is how many times a failed delivery is tried (default 3).
	Attempts int
}

// SignatureHeader is the header carrying the webhook signature.
const SignatureHeader = "X-Ossup-Signature"

// Sign returns the signature header value for body at t.
func (w *Webhook) Sign(body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, w.Secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// DeliveryHeader carries the delivery id (also the body's "id"): the same
// for every delivery about one verified object, so the receiver can drop
// repeats.
const DeliveryHeader = "X-Ossup-Delivery"

// Send delivers v as delivery id, retrying 5xx answers and network errors
// with a short backoff; a 4xx answer is final.
func (w *Webhook) Send(ctx context.Context, id string, v any) error {
	body, err := json.Marshal(map[string]any{"id": id, "type": "upload.completed", "object": v})
	if err != nil {
		return err
	}
	attempts := w.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("webhook: %w (last error: %v)", ctx.Err(), last)
			case <-time.After(time.Duration(200*i) * time.Millisecond):
			}
		}
		retry, err := w.post(ctx, id, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return last
}

func (w *Webhook) post(ctx context.Context, id string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, w.Sign(body, w.Now()))
	req.Header.Set(DeliveryHeader, id)
	resp, err := w.HTTPDo(req)
	if err != nil {
		return true, fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	return resp.StatusCode >= 500, fmt.Errorf("webhook: %s answered %d", w.URL, resp.StatusCode)
}
