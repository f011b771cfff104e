package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/localcloud/faults"
	"github.com/ossup/ossup/internal/workertest"
	"github.com/ossup/ossup/server"
)

// The JWT settings of the token-auth backends: a page-side function gets
// its tokens from the page's own /token, as an app gets them from its
// identity provider.
const (
	jwtSecret   = "origins-test-secret-0123456789abcdef"
	jwtIssuer   = "https://idp.test"
	jwtAudience = "ossup"
)

func jwtEnv() map[string]string {
	return map[string]string{"OSSUP_AUTH": "jwt", "OSSUP_JWT_SECRET": jwtSecret, "OSSUP_JWT_ISSUER": jwtIssuer, "OSSUP_JWT_AUDIENCE": jwtAudience}
}

// originsPage is a page that loads ossup.js from ?module=, uploads to
// ?backend= and, with ?auth=jwt, authenticates with a headers function
// fetching /token. It exposes window.app to the test.
const originsPage = `<!doctype html>
<meta charset="utf-8"><title>origins</title>
<input type="file" id="files" multiple>
<script type="module">
const q = new URLSearchParams(location.search);
const app = { version: null, handles: [], results: [], errors: [], pending: null, tokenCalls: 0, states: {} };
window.app = app;
try {
  const { createUploader } = await import(q.get('module'));
  const opts = { backend: q.get('backend') };
  if (q.get('skewMs')) opts.testClockOffsetMs = Number(q.get('skewMs'));
  if (q.get('auth') === 'jwt') {
    // As an app's token getter does: the cached token until shortly
    // before it expires (?ttl= seconds), then a new one.
    let token = null, renewAt = 0;
    const ttl = Number(q.get('ttl') || 60) * 1000;
    opts.headers = async () => {
      app.tokenCalls++;
      if (!token || Date.now() >= renewAt) {
        const r = await fetch('/token', { cache: 'no-store' });
        if (!r.ok) throw new Error('the token endpoint answered ' + r.status);
        token = await r.text();
        renewAt = Date.now() + ttl - 5000;
      }
      return { Authorization: 'Bearer ' + token };
    };
  }
  const up = createUploader(opts);
  app.uploader = up;
  up.ready.then(async (v) => { app.version = v; app.pending = await up.pending(); },
    (err) => app.errors.push({ stage: 'ready', message: err.message, code: err.code }));
  document.getElementById('files').addEventListener('change', (e) => {
    for (const file of e.target.files) {
      const h = up.upload(file);
      app.handles.push(h);
      app.states[file.name] = [];
      h.addEventListener('state', () => app.states[file.name].push(h.state));
      h.done.then((r) => app.results.push({ name: file.name, ...r }),
        (err) => app.errors.push({ name: file.name, message: err.message, code: err.code }));
    }
  });
} catch (e) {
  app.errors.push({ stage: 'load', message: String((e && e.message) || e) });
}
</script>
`

// pageSite is the page's origin: the page, a copy of the web assets under
// /web/ (when the page serves ossup.js itself) and /token.
type pageSite struct {
	Origin string
	// ttl is the lifetime of the tokens /token mints (default 60 s).
	ttl atomic.Int64
	// failTokens makes /token answer 503, as an identity provider that
	// cannot renew the session.
	failTokens atomic.Bool
	minted     atomic.Int64
}

// servePage serves the page on a free port of host (127.0.0.1, or
// localhost for another site than the backend's 127.0.0.1).
func servePage(t testing.TB, host string) *pageSite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &pageSite{Origin: "http://" + host + ":" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
	s.setTTL(time.Minute)
	mux := http.NewServeMux()
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(originsPage))
	})
	mux.Handle("/web/", http.StripPrefix("/web/", http.FileServer(http.Dir(builtWeb(t)))))
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if s.failTokens.Load() {
			http.Error(w, "the identity provider is down", http.StatusServiceUnavailable)
			return
		}
		now := time.Now()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "alice", "iss": jwtIssuer, "aud": jwtAudience,
			"iat": now.Unix(), "exp": now.Add(time.Duration(s.ttl.Load())).Unix(),
		}).SignedString([]byte(jwtSecret))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.minted.Add(1)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(tok))
	})
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	return s
}

// url is the page's address for a module URL, a backend and an auth mode.
func (s *pageSite) url(module, backend, auth string) string {
	return s.Origin + "/page.html?" + url.Values{"module": {module}, "backend": {backend}, "auth": {auth},
		"ttl": {strconv.Itoa(int(time.Duration(s.ttl.Load()) / time.Second))}}.Encode()
}

// setTTL sets the lifetime of the tokens minted from now on.
func (s *pageSite) setTTL(d time.Duration) { s.ttl.Store(int64(d)) }

// appState is window.app as JSON.
type appState struct {
	Version    string
	Results    []pageResult
	Errors     []map[string]any
	Pending    []map[string]any
	TokenCalls int
	States     map[string][]string
}

func readApp(pg *tab, t testing.TB) appState {
	t.Helper()
	raw, err := evalAs[string](pg, `(a => JSON.stringify(a ? { version: a.version, results: a.results, errors: a.errors, pending: a.pending, tokenCalls: a.tokenCalls, states: a.states } : {}))(window.app)`)
	if err != nil {
		t.Fatal(err)
	}
	var a appState
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitApp polls window.app until cond (a JS expression over a) holds, and
// fails the test with the app's state otherwise, or as soon as the app
// records an error and errorsEnd is set.
func waitApp(pg *tab, t testing.TB, cond string, errorsEnd bool, d time.Duration) appState {
	t.Helper()
	js := `(a => a && ((` + strconv.FormatBool(errorsEnd) + ` && a.errors.length) || (` + cond + `)) ? true : null)(window.app)`
	if _, err := pollAs[bool](pg, js, d); err != nil {
		t.Fatalf("waiting for %s: %v; app %+v", cond, err, readApp(pg, t))
	}
	a := readApp(pg, t)
	if errorsEnd && len(a.Errors) > 0 {
		t.Fatalf("the page failed: %v", a.Errors)
	}
	return a
}

// checkObject reads r's object back and compares it with data.
func checkObject(t testing.TB, srv *server.Server, r pageResult, data []byte) {
	t.Helper()
	got := readBack(t, srv, r.Key)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("%s: object differs: %d bytes stored, %d sent", r.Name, len(got), len(data))
	}
}

func setBandwidth(t testing.TB, srv *server.Server, bps int64) {
	t.Helper()
	if err := srv.Cloud().Faults.Set(faults.Config{BandwidthBytesPerSec: bps}); err != nil {
		t.Fatal(err)
	}
}

// cloudClient is an OSS client with the local cloud's root keys.
func cloudClient(cl *localcloud.Cloud) *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
}

// setCloudCORS sets the bucket's one CORS rule, allowing origin.
func setCloudCORS(t testing.TB, cl *localcloud.Cloud, origin string, expose ...string) {
	t.Helper()
	rule := &oss.CORSConfiguration{CORSRules: []oss.CORSRule{{
		AllowedOrigins: []string{origin}, AllowedMethods: []string{"GET", "PUT", "POST", "DELETE", "HEAD"},
		AllowedHeaders: []string{"*"}, ExposeHeaders: expose, MaxAgeSeconds: oss.Ptr(int64(600)),
	}}}
	if _, err := cloudClient(cl).PutBucketCors(context.Background(), &oss.PutBucketCorsRequest{Bucket: oss.Ptr(cl.Config.Bucket), CORSConfiguration: rule}); err != nil {
		t.Fatal(err)
	}
}

func setCloudBandwidth(t testing.TB, cl *localcloud.Cloud, bps int64) {
	t.Helper()
	if err := cl.Faults.Set(faults.Config{BandwidthBytesPerSec: bps}); err != nil {
		t.Fatal(err)
	}
}

// checkCloudObject reads r's object back and compares it with data.
func checkCloudObject(t testing.TB, cl *localcloud.Cloud, r pageResult, data []byte) {
	t.Helper()
	res, err := cloudClient(cl).GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(r.Key)})
	if err != nil {
		t.Fatalf("read back %s: %v", r.Key, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("%s: object differs: %d bytes stored, %d sent", r.Name, len(got), len(data))
	}
}

// workerBackend runs the Workers build of the backend in workerd with the
// backend settings of env (OSSUP_*), against a local cloud of its own with
// the write-once rule an operator sets up once, and returns the cloud and
// the Worker's URL.
func workerBackend(t testing.TB, env map[string]string) (*localcloud.Cloud, string) {
	t.Helper()
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if _, err := cloudClient(cl).InvokeOperation(context.Background(), &oss.OperationInput{
		OpName: "PutBucketOverwriteConfig", Method: http.MethodPut, Bucket: oss.Ptr(cl.Config.Bucket),
		Parameters: map[string]string{"overwriteConfig": ""}, Headers: map[string]string{"Content-Type": "application/xml"},
		Body: bytes.NewReader(server.WriteOnceConfigXML("uploads/", cl.Config.RoleARN)),
	}); err != nil {
		t.Fatal(err)
	}
	root, dir := builtWorker(t)
	bin, err := workertest.Workerd(root)
	if err != nil {
		t.Fatal(err)
	}
	wenv := map[string]string{
		"OSS_ACCESS_KEY_ID": cl.Config.AccessKeyID, "OSS_ACCESS_KEY_SECRET": cl.Config.AccessKeySecret,
		"OSSUP_ROLE_ARN": cl.Config.RoleARN, "OSSUP_SECRET": strings.Repeat("w", 40),
		"OSSUP_OSS_ENDPOINT": cl.OSSEndpoint, "OSSUP_STS_ENDPOINT": cl.STSEndpoint,
	}
	for k, v := range env {
		switch k {
		case "OSSUP_DATA_DIR", "OSSUP_WEB_DIR", "OSSUP_API_ONLY":
			// native-only settings
		default:
			wenv[k] = v
		}
	}
	w, err := workertest.Start(bin, dir, wenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if t.Failed() {
			t.Logf("workerd output:\n%s", w.Output())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return cl, w.URL
}
