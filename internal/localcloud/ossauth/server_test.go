package ossauth

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/localcloud/osserr"
)

// verifyServer is a minimal path-style OSS endpoint over real loopback HTTP:
// every request must carry a signature that Parse and Verify accept, and
// successful requests get minimal valid answers.
type verifyServer struct {
	*httptest.Server
	secrets map[string]string // access key ID -> secret

	mu    sync.Mutex
	auths []Auth // every request that passed Verify
}

func newVerifyServer(t *testing.T, secrets map[string]string) *verifyServer {
	t.Helper()
	s := &verifyServer{secrets: secrets}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// splitPathStyle resolves "/bucket/key" addressing.
func splitPathStyle(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func (s *verifyServer) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := osserr.As(err)
	w.Header().Set("x-oss-request-id", "test-request")
	w.Header().Set("X-Test-Code", e.Code)
	osserr.Write(w, r, e, "test-request", r.Host, time.Now())
}

func (s *verifyServer) serve(w http.ResponseWriter, r *http.Request) {
	bucket, key := splitPathStyle(r.URL.Path)
	a, err := Parse(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a.Version == 0 {
		s.fail(w, r, osserr.AccessDenied("anonymous access is not allowed here"))
		return
	}
	secret, ok := s.secrets[a.AccessKeyID]
	if !ok {
		s.fail(w, r, osserr.New(http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records."))
		return
	}
	if err := a.Verify(r, bucket, key, secret, VerifyOptions{Region: "cn-hangzhou"}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	s.auths = append(s.auths, *a)
	s.mu.Unlock()

	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	h.Set("x-oss-request-id", "test-request")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		type result struct {
			XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
			Bucket   string
			Key      string
			UploadId string
		}
		body, _ := xml.Marshal(result{Bucket: bucket, Key: key, UploadId: "0004B9894A22E5B1888A1E29F823"})
		h.Set("Content-Type", "application/xml")
		_, _ = w.Write(body)
	case r.Method == http.MethodGet && q.Has("uploadId"):
		type result struct {
			XMLName     xml.Name `xml:"ListPartsResult"`
			Bucket      string
			Key         string
			UploadId    string
			MaxParts    int
			IsTruncated bool
		}
		body, _ := xml.Marshal(result{Bucket: bucket, Key: key, UploadId: q.Get("uploadId"), MaxParts: 1000})
		h.Set("Content-Type", "application/xml")
		_, _ = w.Write(body)
	case r.Method == http.MethodGet && key != "":
		h.Set("Content-Type", "text/plain")
		h.Set("ETag", `"5D41402ABC4B2A76B9719D911017C592"`)
		h.Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		_, _ = io.WriteString(w, "hello")
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		h.Set("ETag", `"5D41402ABC4B2A76B9719D911017C592"`)
		w.WriteHeader(http.StatusOK)
	}
}

func (s *verifyServer) last() Auth {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.auths) == 0 {
		return Auth{}
	}
	return s.auths[len(s.auths)-1]
}

func (s *verifyServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.auths)
}
