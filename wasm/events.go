//go:build js && wasm

package main

import (
	"errors"
	"strconv"

	"github.com/ossup/ossup/internal/engine"
)

// eventJS turns an engine event into the plain object the page receives
// (see web/ossup.d.ts, UploadEvent).
func eventJS(ev engine.Event) map[string]any {
	p := ev.Progress
	out := map[string]any{
		"kind":           string(ev.Kind),
		"state":          string(p.State),
		"bytesConfirmed": float64(p.BytesConfirmed),
		"bytesSending":   float64(p.BytesSending),
		"total":          float64(p.Total),
		"bytesPerSec":    p.BytesPerSec,
		"etaSeconds":     p.ETA.Seconds(),
	}
	if ev.Kind == engine.EventRetry {
		out["op"] = ev.Op
		out["attempt"] = ev.Attempt
		out["delaySeconds"] = ev.Delay.Seconds()
	}
	if ev.Kind == engine.EventWarning {
		// The same shape as the worker glue's own warnings (app.warn).
		out["warning"] = map[string]any{"code": ev.Code, "message": ev.Message}
	}
	if ev.Err != nil {
		out["error"] = errorJS(ev.Err)
	}
	if r := ev.Result; r != nil {
		out["result"] = map[string]any{
			"bucket": r.Bucket, "key": r.Key, "size": float64(r.Size),
			"crc64": strconv.FormatUint(r.CRC64, 10), "etag": r.ETag,
		}
	}
	return out
}

// errorJS keeps what a person needs to act on a failure: the OSS (or
// backend) code, the message, and the request id to quote to support.
func errorJS(err error) map[string]any {
	out := map[string]any{"message": err.Error()}
	var ue *engine.UploadError
	if errors.As(err, &ue) {
		out["op"] = ue.Op
		out["code"] = ue.Code
		out["requestId"] = ue.RequestID
		out["attempts"] = ue.Attempts
		if ue.Hint != "" {
			out["hint"] = ue.Hint
		}
	}
	if errors.Is(err, engine.ErrCORS) {
		out["code"] = "CORSExposeHeaders"
	}
	var ce *codedError
	if _, set := out["code"]; !set && errors.As(err, &ce) {
		out["code"] = ce.code
	}
	if _, set := out["code"]; !set {
		if c := engine.CodeOf(err); c != "" {
			out["code"] = c // the engine's sentinels: too_late, already_uploading...
		}
	}
	// A JS exception the engine could not retry names itself, not the
	// generic ClientError.
	if c, _ := out["code"].(string); (c == "" || c == "ClientError") && errors.Is(err, ErrJS) {
		out["code"] = "js_exception"
	}
	return out
}
