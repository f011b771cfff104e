package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/internal/localcloud"
	"github.com/ossup/ossup/internal/workertest"
	"github.com/ossup/ossup/server"
)

var workerBuild struct {
	once sync.Once
	root string
	dir  string
	err  error
}

// builtWorker builds the Workers version of the backend once per test run.
func builtWorker(t testing.TB) (root, dir string) {
	t.Helper()
	workerBuild.once.Do(func() {
		if workerBuild.root, workerBuild.err = workertest.Root(); workerBuild.err != nil {
			return
		}
		if workerBuild.dir, workerBuild.err = os.MkdirTemp("", "ossup-e2e-worker-"); workerBuild.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		workerBuild.err = workertest.Build(ctx, "go", workerBuild.root, workerBuild.dir)
	})
	if workerBuild.err != nil {
		t.Fatal(workerBuild.err)
	}
	return workerBuild.root, workerBuild.dir
}

// workerPage is a page of another origin than the backend: it embeds the
// uploader with a bearer token, as a site using the Worker-hosted API does.
const workerPage = `<!doctype html><meta charset="utf-8"><p id="engine-status">loading</p><input type="file" id="files" multiple>
<script type="module">
import { createUploader } from '/ossup.js';
const up = createUploader({ backend: '%BACKEND%', headers: { Authorization: 'Bearer %TOKEN%' },
  assets: { worker: '/ossup-worker.js', engine: '/engine.wasm', glue: '/wasm_exec.js' } });
const demo = { uploader: up, handles: [], results: [], errors: [] };
window.ossupDemo = demo;
up.ready.then(v => { document.getElementById('engine-status').textContent = 'engine ready ' + v; },
  e => { document.getElementById('engine-status').textContent = 'engine failed: ' + e.message; });
const input = document.getElementById('files');
input.addEventListener('change', () => {
  for (const f of input.files) {
    const h = up.upload(f);
    demo.handles.push(h);
    h.done.then(r => demo.results.push({ id: h.id, name: f.name, ...r }), e => demo.errors.push({ message: e.message, code: e.code }));
  }
});
</script>`

// TestUploadThroughWorkerBackend: a page on its own origin uploads through
// the wasm engine with the backend running as a Cloudflare Worker in local
// workerd, pointed at the local cloud; the object arrives byte-identical.
func TestUploadThroughWorkerBackend(t *testing.T) {
	inEngines(t, chromiumOnly, testUploadThroughWorkerBackend)
}

func testUploadThroughWorkerBackend(t *testing.T, e browser.Engine) {
	const token = "tok-worker-0123456789abcdef"
	cl, err := localcloud.Start(localcloud.Config{DataDir: t.TempDir(), OSSAddr: "127.0.0.1:0", STSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// An operator's one-time set-up: the write-once rule the backend
	// requires before it mints credentials (server/writeonce.go).
	admin := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	if _, err := admin.InvokeOperation(context.Background(), &oss.OperationInput{
		OpName: "PutBucketOverwriteConfig", Method: http.MethodPut, Bucket: oss.Ptr(cl.Config.Bucket),
		Parameters: map[string]string{"overwriteConfig": ""}, Headers: map[string]string{"Content-Type": "application/xml"},
		Body: bytes.NewReader(server.WriteOnceConfigXML("uploads/", cl.Config.RoleARN)),
	}); err != nil {
		t.Fatal(err)
	}

	web := builtWeb(t)
	var pageHTML string
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(web)))
	mux.HandleFunc("/worker.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, pageHTML)
	})
	page := httptest.NewServer(mux)
	defer page.Close()

	root, dir := builtWorker(t)
	bin, err := workertest.Workerd(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := workertest.Start(bin, dir, map[string]string{
		"OSSUP_AUTH": "token", "OSSUP_AUTH_TOKENS": token + "=carol",
		"OSS_ACCESS_KEY_ID": cl.Config.AccessKeyID, "OSS_ACCESS_KEY_SECRET": cl.Config.AccessKeySecret,
		"OSSUP_ROLE_ARN": cl.Config.RoleARN, "OSSUP_SECRET": strings.Repeat("w", 40),
		"OSSUP_OSS_ENDPOINT": cl.OSSEndpoint, "OSSUP_STS_ENDPOINT": cl.STSEndpoint,
		"OSSUP_CORS_ORIGINS": page.URL, "OSSUP_PART_SIZE": "1048576",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		w.Close()
		if t.Failed() {
			t.Logf("workerd output:\n%s", w.Output())
		}
	}()
	rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Ready(rctx); err != nil {
		t.Fatal(err)
	}
	pageHTML = strings.NewReplacer("%BACKEND%", w.URL, "%TOKEN%", token).Replace(workerPage)

	pg := launch(t, e, browser.Options{}, 3*time.Minute)
	if err := pg.navigate(page.URL + "/worker.html"); err != nil {
		t.Fatal(err)
	}
	status, err := pollAs[string](pg, `(t => t.startsWith('engine ready') || t.startsWith('engine failed') ? t : null)(document.getElementById('engine-status').textContent)`, 60*time.Second)
	if err != nil || !strings.HasPrefix(status, "engine ready") {
		t.Fatalf("page not ready against the worker backend: %q %v", status, err)
	}
	path, data := writeFile(t, t.TempDir(), "via-worker.bin", 3<<20+4321)
	pickFiles(pg, t, path)
	results := waitResults(pg, t, 1, 2*time.Minute)
	if !strings.HasPrefix(results[0].Key, "uploads/carol/") {
		t.Fatalf("key %q is not carol's", results[0].Key)
	}
	c := oss.NewClient(oss.LoadDefaultConfig().WithEndpoint(cl.OSSEndpoint).WithRegion(cl.Config.Region).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cl.Config.AccessKeyID, cl.Config.AccessKeySecret)))
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(cl.Config.Bucket), Key: oss.Ptr(results[0].Key)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("object differs: %d bytes stored, %d sent", len(got), len(data))
	}
}
