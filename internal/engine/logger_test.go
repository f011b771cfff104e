//go:build !js

package engine

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ossup/ossup/internal/checkpoint"
	"github.com/ossup/ossup/internal/localcloud/faults"
)

// A *slog.Logger is an engine Logger, and every line an upload logs names
// the upload and its file, as slog's With did.
func TestUploadLogsThroughSlog(t *testing.T) {
	t.Parallel()
	env := startEnv(t, nil)
	env.setFaults(faults.Config{Rules: []faults.Rule{{Op: "UploadPart", ErrorRate: 1, Count: 1}}})
	var out bytes.Buffer
	o := fastOptions(checkpoint.NewMemoryStore())
	o.Logger = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	path, data := writeFile(t, "logged.bin", 3<<20, 21)
	res, err := wait(t, env.engine(o).start(context.Background(), openSource(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	env.checkObject(res, data)
	var retry string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "msg=retrying") {
			retry = l
		}
	}
	if retry == "" {
		t.Fatalf("no retry logged:\n%s", out.String())
	}
	if !strings.Contains(retry, "upload=") || !strings.Contains(retry, "name=logged.bin") || !strings.Contains(retry, "op=UploadPart") {
		t.Errorf("the retry line does not name the upload, its file and the operation: %s", retry)
	}
}
