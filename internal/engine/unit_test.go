package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/checkpoint"
)

func TestCRCCombine(t *testing.T) {
	tab := crc64.MakeTable(crc64.ECMA)
	if got := crc64.Checksum([]byte("123456789"), tab); got != 0x995DC9BBDF1939FA {
		t.Fatalf("table is not CRC-64/XZ: %x", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for range 200 {
		a := r.IntN(len(data) + 1)
		b := a + r.IntN(len(data)-a+1)
		// Three pieces, folded in order, as parts are.
		c := crcCombine(crcCombine(crc64.Checksum(data[:a], tab), crc64.Checksum(data[a:b], tab), uint64(b-a)),
			crc64.Checksum(data[b:], tab), uint64(len(data)-b))
		if want := crc64.Checksum(data, tab); c != want {
			t.Fatalf("split %d/%d: %x, want %x", a, b, c, want)
		}
	}
	if crcCombine(42, 0, 0) != 42 {
		t.Fatal("combining an empty piece changed the CRC")
	}
}

type bytesSource []byte

func (s bytesSource) Identity() checkpoint.FileIdentity {
	return checkpoint.FileIdentity{Size: int64(len(s))}
}
func (s bytesSource) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	return copy(p, s[off:]), nil
}
func (s bytesSource) Slice(off, n int64) Body { return nil }

// windowSource is a ChunkedSource over bytes that reads windows of 5
// pieces, as the browser's blobSource reads 8 MiB windows, and counts its
// reads.
type windowSource struct {
	bytesSource
	reads, readAts int
}

func (s *windowSource) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	s.readAts++
	return s.bytesSource.ReadAt(ctx, p, off)
}

func (s *windowSource) ReadChunks(_ context.Context, off, n int64, buf []byte, fn func(p []byte) error) error {
	if off+n > int64(len(s.bytesSource)) {
		return io.ErrUnexpectedEOF
	}
	window := 5 * int64(len(buf))
	for done := int64(0); done < n; {
		s.reads++
		w := s.bytesSource[off+done : off+done+min(window, n-done)]
		for len(w) > 0 {
			p := buf[:copy(buf, w)]
			if err := fn(p); err != nil {
				return err
			}
			w = w[len(p):]
		}
		done += min(window, n-done)
	}
	return nil
}

func TestCRCOfRangeChunked(t *testing.T) {
	data := make([]byte, 12*crcChunk+3)
	for i := range data {
		data[i] = byte(i * 13)
	}
	src := &windowSource{bytesSource: data}
	got, err := crcOfRange(context.Background(), src, 1, int64(len(data)-1), make([]byte, crcChunk))
	if err != nil {
		t.Fatal(err)
	}
	if want := crc64.Checksum(data[1:], crcTable); got != want {
		t.Fatalf("%x, want %x", got, want)
	}
	if src.reads != 3 || src.readAts != 0 {
		t.Fatalf("%d window reads and %d ReadAt calls, want 3 and 0", src.reads, src.readAts)
	}
	if _, err := crcOfRange(context.Background(), src, 0, int64(len(data))+1, make([]byte, crcChunk)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading past the end: %v", err)
	}
}

func TestCRCOfRangeBoundedReads(t *testing.T) {
	data := make([]byte, 3*crcChunk+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	buf := make([]byte, crcChunk)
	got, err := crcOfRange(context.Background(), bytesSource(data), 5, int64(len(data)-10), buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := crc64.Checksum(data[5:len(data)-5], crcTable); got != want {
		t.Fatalf("%x, want %x", got, want)
	}
	if _, err := crcOfRange(context.Background(), bytesSource(data[:10]), 0, 20, buf); err == nil {
		t.Fatal("a short file read without error")
	}
}

func TestBudget(t *testing.T) {
	b := newBudget(100)
	ctx := context.Background()
	h1, _ := b.acquire(ctx, 60)
	// Larger than the whole budget: clamped, runs alone once free.
	got := make(chan int64, 1)
	go func() { h, _ := b.acquire(ctx, 500); got <- h }()
	time.Sleep(20 * time.Millisecond)
	// FIFO: a small request behind the big one waits too.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(cctx, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("small request overtook the queue: %v", err)
	}
	select {
	case <-got:
		t.Fatal("granted while 60 of 100 held")
	default:
	}
	b.release(h1)
	if h := <-got; h != 100 {
		t.Fatalf("held %d, want the clamp 100", h)
	}
	b.release(100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var cur, peak int64
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := b.acquire(ctx, int64(1+i%40))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			cur += h
			peak = max(peak, cur)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			cur -= h
			mu.Unlock()
			b.release(h)
		}()
	}
	wg.Wait()
	if peak > 100 {
		t.Fatalf("peak %d over the budget", peak)
	}
	if b.cur != 0 || b.waiters.Len() != 0 {
		t.Fatalf("budget not back to empty: %d held, %d waiting", b.cur, b.waiters.Len())
	}
}

func TestTargetURLAndSigning(t *testing.T) {
	tests := []struct {
		endpoint  string
		pathStyle bool
		want      string
	}{
		{"http://127.0.0.1:9000", true, "http://127.0.0.1:9000/b-1/dir/a%20b%2Bc%E2%82%AC.txt?partNumber=3&uploadId=U1"},
		{"https://oss-cn-hangzhou.aliyuncs.com", false, "https://b-1.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc%E2%82%AC.txt?partNumber=3&uploadId=U1"},
		{"oss-cn-hangzhou.aliyuncs.com", false, "https://b-1.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc%E2%82%AC.txt?partNumber=3&uploadId=U1"},
	}
	for _, tc := range tests {
		tg, err := newTarget(tc.endpoint, "b-1", "dir/a b+c€.txt", "cn-hangzhou", tc.pathStyle)
		if err != nil {
			t.Fatal(err)
		}
		cr := &Credentials{AccessKeyID: "STS.id", AccessKeySecret: "secret", SecurityToken: "tok"}
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		req, err := tg.sign(http.MethodPut, []param{{"uploadId", "U1"}, {"partNumber", "3"}}, Header{"Content-Type": {"application/octet-stream"}}, cr, now)
		if err != nil {
			t.Fatal(err)
		}
		if req.URL != tc.want {
			t.Errorf("URL %s, want %s", req.URL, tc.want)
		}
		for _, h := range []string{"Date", "Content-Length", "Host"} {
			if req.Header.Get(h) != "" {
				t.Errorf("forbidden header %s set", h)
			}
		}
		if req.Header.Get("x-oss-date") != "20260102T030405Z" || req.Header.Get("x-oss-security-token") != "tok" ||
			req.Header.Get("x-oss-content-sha256") != "UNSIGNED-PAYLOAD" ||
			!strings.HasPrefix(req.Header.Get("Authorization"), "OSS4-HMAC-SHA256 Credential=STS.id/20260102/cn-hangzhou/oss/aliyun_v4_request,Signature=") {
			t.Errorf("signed headers %v", req.Header)
		}
	}
	if _, err := newTarget("ftp://x", "b", "k", "r", true); err == nil {
		t.Error("ftp endpoint accepted")
	}
}

func TestOSSErrorParsing(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>gone</Message><RequestId>R1</RequestId><HostId>h</HostId><EC>0042-00000002</EC></Error>`
	e := ossError(&Response{Status: 404, Header: Header{}, Body: []byte(doc)})
	if e.Code != "NoSuchUpload" || e.Message != "gone" || e.RequestID != "R1" || e.EC != "0042-00000002" {
		t.Fatalf("%+v", e)
	}
	// HEAD: no body, the document base64 in x-oss-err.
	h := Header{"X-Oss-Err": {base64.StdEncoding.EncodeToString([]byte(doc))}}
	if e := ossError(&Response{Status: 404, Header: h}); e.Code != "NoSuchUpload" || e.RequestID != "R1" {
		t.Fatalf("HEAD: %+v", e)
	}
	// Not OSS at all (a proxy).
	e = ossError(&Response{Status: 502, Header: Header{"X-Oss-Request-Id": {"R2"}}, Body: []byte("Bad gateway")})
	if e.Code != "HTTP502" || e.RequestID != "R2" || classify(e) != transient {
		t.Fatalf("proxy: %+v", e)
	}
	for code, want := range map[string]kind{"SecurityTokenExpired": authFail, "InvalidAccessKeyId": authFail, "AccessDenied": terminal} {
		if k := classify(&OSSError{Status: 403, Code: code}); k != want {
			t.Errorf("%s: kind %d, want %d", code, k, want)
		}
	}
	if classify(&APIError{Status: 429}) != transient || classify(&APIError{Status: 403, Code: "ticket_expired"}) != terminal {
		t.Error("backend errors misclassified")
	}
}

func TestEventQueueCoalescesProgress(t *testing.T) {
	q := newEventQueue(nil, "")
	q.push(Event{Kind: EventState, Progress: Progress{State: StateUploading}})
	for i := range 100 {
		q.push(Event{Kind: EventProgress, Progress: Progress{BytesConfirmed: int64(i)}})
	}
	q.push(Event{Kind: EventState, Progress: Progress{State: StateDone}})
	q.close()
	q.push(Event{Kind: EventProgress}) // after close: dropped
	var got []Event
	for ev := range q.channel() {
		got = append(got, ev)
	}
	if len(got) != 3 || got[1].Progress.BytesConfirmed != 99 || got[2].Progress.State != StateDone {
		t.Fatalf("events %+v", got)
	}
}

func TestCredSourceSingleFlight(t *testing.T) {
	ctx := context.Background()
	var fetches atomic.Int32
	release := make(chan struct{})
	fail := atomic.Bool{}
	c := newCredSource(&Credentials{AccessKeyID: "a", Expiration: time.Now().Add(time.Hour)},
		func(context.Context) (*Credentials, error) {
			fetches.Add(1)
			<-release
			if fail.Load() {
				return nil, &APIError{Status: 502, Code: "sts_unavailable"}
			}
			return &Credentials{AccessKeyID: "b", Expiration: time.Now().Add(time.Hour)}, nil
		}, time.Now, 0.8)
	first, err := c.get(ctx)
	if err != nil || first.AccessKeyID != "a" || fetches.Load() != 0 {
		t.Fatalf("fresh credentials: %v %v, %d fetches", first, err, fetches.Load())
	}
	c.reject(first)
	var wg sync.WaitGroup
	got := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr, err := c.get(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			got <- cr.AccessKeyID
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(got)
	for id := range got {
		if id != "b" {
			t.Fatalf("got %s after the refresh", id)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d refreshes for 20 waiting parts, want 1", n)
	}
	// A late rejection of the old credentials does not refresh again.
	c.reject(first)
	if cr, _ := c.get(ctx); cr.AccessKeyID != "b" || fetches.Load() != 1 {
		t.Fatal("stale rejection caused a refresh")
	}
	// Due but still valid, and the refresh fails: keep using them.
	c.mu.Lock()
	c.due = time.Now().Add(-time.Second)
	c.mu.Unlock()
	fail.Store(true)
	if cr, err := c.get(ctx); err != nil || cr.AccessKeyID != "b" {
		t.Fatalf("fallback: %v %v", cr, err)
	}
	// Rejected and the refresh fails: the error surfaces.
	cr, _ := c.get(ctx)
	c.reject(cr)
	if _, err := c.get(ctx); err == nil {
		t.Fatal("rejected credentials handed out again")
	}
}

// TestCRCCombiner folds many equal parts and a short last one, as
// combinedCRC does, and checks against the CRC of the whole.
func TestCRCCombiner(t *testing.T) {
	data := make([]byte, 37*1000+123)
	for i := range data {
		data[i] = byte(i*31 + i>>7)
	}
	var c crcCombiner
	var crc uint64
	for off := 0; off < len(data); off += 1000 {
		p := data[off:min(off+1000, len(data))]
		crc = c.add(crc, crc64.Checksum(p, crcTable), uint64(len(p)))
	}
	if want := crc64.Checksum(data, crcTable); crc != want {
		t.Fatalf("%x, want %x", crc, want)
	}
	if len(c.ops) != 2 {
		t.Fatalf("%d operators built, want 2 (the part size and the last part's)", len(c.ops))
	}
}
