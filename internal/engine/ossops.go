package engine

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// ossCall is one OSS request before signing.
type ossCall struct {
	op         string
	method     string
	query      []param
	header     Header
	body       Body
	bytes      []byte
	onProgress func(int64)
}

// ossDo signs and sends one OSS request with the upload's current
// credentials. Non-2xx answers become *OSSError; a refusal of the
// credentials marks them stale so the retry signs with fresh ones.
func (u *Upload) ossDo(ctx context.Context, c ossCall) (*Response, error) {
	cr, err := u.creds.get(ctx)
	if err != nil {
		return nil, &opError{op: "backend.refresh", err: err}
	}
	h := Header{}
	for k, vs := range c.header {
		h[k] = vs
	}
	if c.bytes != nil {
		sum := md5.Sum(c.bytes)
		h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	req, err := u.tgt.sign(c.method, c.query, h, cr, u.e.ossNow())
	if err != nil {
		return nil, err
	}
	req.Body, req.Bytes, req.OnProgress = c.body, c.bytes, c.onProgress
	resp, err := u.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Status/100 != 2 {
		oe := ossError(resp)
		if classify(oe) == authFail {
			u.creds.reject(cr)
		}
		return nil, oe
	}
	return resp, nil
}

var errStalled = errors.New("request made no progress within the stall timeout")

// send runs one request through the transport. Transport failures become
// *netError (worth a retry) unless ctx itself ended.
func (u *Upload) send(ctx context.Context, req *Request) (*Response, error) {
	rctx, stop := u.watchStall(ctx, req)
	resp, err := u.e.t.Do(rctx, req)
	stalled := stop()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case stalled:
		return nil, &netError{err: errStalled}
	case err != nil:
		return nil, &netError{err: err, noAnswer: true}
	}
	if resp.Header == nil {
		resp.Header = Header{}
	}
	return resp, nil
}

// watchStall aborts req (through the returned context) when it reports no
// progress for StallTimeout. stop ends the watch and tells whether it
// fired.
func (u *Upload) watchStall(ctx context.Context, req *Request) (context.Context, func() (stalled bool)) {
	o := &u.e.o
	if o.StallTimeout < 0 {
		return ctx, func() bool { return false }
	}
	rctx, cancel := context.WithCancel(ctx)
	var last atomic.Int64
	touch := func() { last.Store(o.Clock.Now().UnixNano()) }
	touch()
	onp := req.OnProgress
	req.OnProgress = func(n int64) {
		touch()
		if onp != nil {
			onp(n)
		}
	}
	var stalled atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := max(o.StallTimeout/4, time.Millisecond)
		for {
			select {
			case <-rctx.Done():
				return
			case <-o.Clock.After(tick):
			}
			if o.Clock.Now().Sub(time.Unix(0, last.Load())) >= o.StallTimeout {
				stalled.Store(true)
				cancel()
				return
			}
		}
	}()
	return rctx, func() bool {
		cancel()
		<-done
		return stalled.Load()
	}
}

// objectHeader is the header of op, a request that creates the object:
// exactly the headers the backend decided for it (its complete refuses an
// object stored with any other), and always an explicit Content-Type so
// the browser never adds one of its own (from a Blob's type) that the
// signature does not cover. Without a decision (an older backend) the
// file's type is sent.
func (u *Upload) objectHeader(op string) Header {
	h := Header{}
	if oh := u.hdrs.Load(); oh != nil {
		var m map[string]string
		switch op {
		case "PutObject":
			m = oh.PutObject
		case "InitiateMultipartUpload":
			m = oh.InitiateMultipartUpload
		case "CompleteMultipartUpload":
			m = oh.CompleteMultipartUpload
		}
		for k, v := range m {
			h.Set(k, v)
		}
	}
	switch {
	case op == "CompleteMultipartUpload":
		h.Set("Content-Type", "application/xml")
	case h.Get("Content-Type") == "":
		ct := u.ident.Type
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
	}
	return h
}

// checkedHeaders reads ETag and the CRC from a successful data response;
// if either is missing the browser hid it (CORS).
func checkedHeaders(op string, resp *Response, needETag bool) (etag string, crc uint64, err error) {
	etag = resp.Header.Get("ETag")
	crcs := resp.Header.Get("x-oss-hash-crc64ecma")
	var missing []string
	if needETag && etag == "" {
		missing = append(missing, "ETag")
	}
	if crcs == "" {
		missing = append(missing, "x-oss-hash-crc64ecma")
	}
	if len(missing) > 0 {
		return "", 0, corsError(op, missing...)
	}
	crc, ok := parseCRC(crcs)
	if !ok {
		return "", 0, &netError{err: fmt.Errorf("%s: malformed x-oss-hash-crc64ecma %q", op, crcs)}
	}
	return etag, crc, nil
}

// putObject sends the whole file in one request.
func (u *Upload) putObject(ctx context.Context, crc uint64) error {
	size := u.ident.Size
	return u.retrier().do(ctx, "PutObject", func(ctx context.Context) error {
		held, err := u.e.budget.acquire(ctx, size)
		if err != nil {
			return err
		}
		defer u.e.budget.release(held)
		defer u.setSending(1, 0)
		resp, err := u.ossDo(ctx, ossCall{
			op: "PutObject", method: methodPut, header: u.objectHeader("PutObject"),
			body: u.src.Slice(0, size), onProgress: func(n int64) { u.setSending(1, n) },
		})
		var oe *OSSError
		if errors.As(err, &oe) && oe.Code == "FileAlreadyExists" {
			// The backend decides a key of its own for every session and
			// forbids overwriting it, so the object there was stored by an
			// earlier attempt whose answer was lost (or whose CRC header
			// was damaged on the way). The backend's complete checks its
			// size and CRC-64 against ours, and removes it if they differ.
			u.logger().Info("object already stored by an earlier attempt; verifying it")
			return nil
		}
		if err != nil {
			return err
		}
		_, got, err := checkedHeaders("PutObject", resp, true)
		if err != nil {
			return err
		}
		if got != crc {
			return fmt.Errorf("PutObject: %w: local %d, OSS %d", errCRCMismatch, crc, got)
		}
		return nil
	})
}

// initiate starts the multipart upload and returns its id.
func (u *Upload) initiate(ctx context.Context) (string, error) {
	var id string
	err := u.retrier().do(ctx, "InitiateMultipartUpload", func(ctx context.Context) error {
		resp, err := u.ossDo(ctx, ossCall{
			op: "InitiateMultipartUpload", method: methodPost, query: []param{{"uploads", ""}},
			header: u.objectHeader("InitiateMultipartUpload"),
		})
		if err != nil {
			return err
		}
		var doc struct {
			UploadID string `xml:"UploadId"`
		}
		if err := xml.Unmarshal(resp.Body, &doc); err != nil || doc.UploadID == "" {
			return &netError{err: fmt.Errorf("InitiateMultipartUpload: malformed answer (%v)", err)}
		}
		id = doc.UploadID
		return nil
	})
	return id, err
}

// uploadPart sends part n once its CRC is known; it returns the ETag. kept,
// if not nil, holds the bytes the CRC was computed from: the first attempt
// sends them, later attempts a fresh Slice (a retried part may be sent long
// after, and its CRC check catches a file changed meanwhile). uploadPart
// releases kept in every case.
func (u *Upload) uploadPart(ctx context.Context, n int, off, length int64, crc uint64, kept KeptBody) (string, error) {
	if kept != nil {
		defer kept.Release()
	}
	var etag string
	st := u.stg.Load()
	var reported int64 // bytes of this part the stagger counted
	err := u.retrier().do(ctx, "UploadPart", func(ctx context.Context) error {
		held, err := u.e.budget.acquire(ctx, length)
		if err != nil {
			return err
		}
		defer u.e.budget.release(held)
		defer u.setSending(n, 0)
		var body Body
		if kept != nil {
			// Only the first attempt sends the kept bytes; they are
			// freed when it ends rather than after every retry.
			body = kept
			defer kept.Release()
			kept = nil
		} else {
			body = u.src.Slice(off, length)
		}
		resp, err := u.ossDo(ctx, ossCall{
			op: "UploadPart", method: methodPut,
			query:  []param{{"partNumber", strconv.Itoa(n)}, {"uploadId", u.rec.UploadID}},
			header: Header{"Content-Type": {"application/octet-stream"}},
			body:   body, onProgress: func(sent int64) {
				u.setSending(n, sent)
				st.add(sent - reported)
				reported = max(reported, sent)
			},
		})
		if err == nil {
			st.add(length - reported) // a transport that reports no progress
			reported = length
		}
		if err != nil {
			return err
		}
		tag, got, err := checkedHeaders("UploadPart", resp, true)
		if err != nil {
			return err
		}
		if got != crc {
			return fmt.Errorf("UploadPart %d: %w: local %d, OSS %d", n, errCRCMismatch, crc, got)
		}
		etag = tag
		return nil
	})
	return etag, err
}

// serverPart is a part as ListParts reports it.
type serverPart struct {
	ETag string
	CRC  uint64
	Size int64
}

// listParts pages through every part OSS holds for the upload.
func (u *Upload) listParts(ctx context.Context) (map[int]serverPart, error) {
	parts := map[int]serverPart{}
	marker := 0
	for {
		var doc struct {
			IsTruncated          bool `xml:"IsTruncated"`
			NextPartNumberMarker int  `xml:"NextPartNumberMarker"`
			Parts                []struct {
				PartNumber    int    `xml:"PartNumber"`
				ETag          string `xml:"ETag"`
				HashCrc64ecma string `xml:"HashCrc64ecma"`
				Size          int64  `xml:"Size"`
			} `xml:"Part"`
		}
		err := u.retrier().do(ctx, "ListParts", func(ctx context.Context) error {
			q := []param{{"uploadId", u.rec.UploadID}, {"max-parts", "1000"}}
			if marker > 0 {
				q = append(q, param{"part-number-marker", strconv.Itoa(marker)})
			}
			resp, err := u.ossDo(ctx, ossCall{op: "ListParts", method: methodGet, query: q})
			if err != nil {
				return err
			}
			doc.Parts = nil
			if err := xml.Unmarshal(resp.Body, &doc); err != nil {
				return &netError{err: fmt.Errorf("ListParts: malformed answer: %w", err)}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, p := range doc.Parts {
			crc, ok := parseCRC(p.HashCrc64ecma)
			if !ok {
				// Without a CRC the part cannot be trusted: leave it out
				// so it is sent again.
				continue
			}
			parts[p.PartNumber] = serverPart{ETag: p.ETag, CRC: crc, Size: p.Size}
		}
		if !doc.IsTruncated {
			return parts, nil
		}
		if doc.NextPartNumberMarker <= marker {
			return nil, uploadError("ListParts", errors.New("ListParts: truncated answer without progress"), 1)
		}
		marker = doc.NextPartNumberMarker
	}
}

// completeMultipart completes the upload with every part and returns the
// object's CRC as OSS reports it (ok false if the upload turned out to be
// completed already by an earlier attempt whose answer was lost).
func (u *Upload) completeMultipart(ctx context.Context) (crc uint64, ok bool, err error) {
	var buf bytes.Buffer
	buf.WriteString("<CompleteMultipartUpload>")
	for _, p := range u.rec.Parts {
		fmt.Fprintf(&buf, "<Part><PartNumber>%d</PartNumber><ETag>", p.Number)
		_ = xml.EscapeText(&buf, []byte(p.ETag))
		buf.WriteString("</ETag></Part>")
	}
	buf.WriteString("</CompleteMultipartUpload>")
	body := buf.Bytes()
	err = u.retrier().do(ctx, "CompleteMultipartUpload", func(ctx context.Context) error {
		sent := u.completeSent
		u.completeSent = true
		resp, err := u.ossDo(ctx, ossCall{
			op: "CompleteMultipartUpload", method: methodPost, query: []param{{"uploadId", u.rec.UploadID}},
			header: u.objectHeader("CompleteMultipartUpload"), bytes: body,
		})
		var oe *OSSError
		if sent && errors.As(err, &oe) && oe.Code == "NoSuchUpload" {
			// An earlier attempt completed it; the backend's check of
			// size and CRC tells whether the object is right.
			ok = false
			return nil
		}
		if err != nil {
			return err
		}
		_, crc, err = checkedHeaders("CompleteMultipartUpload", resp, false)
		if err != nil {
			return err
		}
		ok = true
		return nil
	})
	return crc, ok, err
}
