//go:build js && wasm

// Command worker is the ossup backend as a Cloudflare Worker: the same Echo
// application as the native server (server.NewWorkerApp), behind a small
// glue of our own (worker/glue/worker.mjs, cmd/worker/glue), which
// starts this program once per isolate and hands it many requests.
// Configuration comes from the Worker's variables and secrets, under the
// same names as the native server's environment variables; every outbound
// call goes through the Workers fetch API.
//
// `make worker` builds it into worker/build beside worker/wrangler.toml;
// the README's "Deploying to Cloudflare Workers" says how to deploy it.
package main

import (
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/ossup/ossup/cmd/worker/glue"
	"github.com/ossup/ossup/server"
)

func main() {
	boot, err := glue.Take()
	if err != nil {
		panic(err)
	}
	a := &app{boot: boot}
	boot.Serve(a.handler)
}

// app builds the application on first use and keeps it. A build that fails
// is not kept: the next request tries again, so that a JWKS endpoint down
// for a moment does not fail every later request of this instance. (The
// first build may wait for the network, the JWKS of OSSUP_AUTH=jwt, which
// is why it is not done in main: the glue expects the registration while
// it starts the instance.)
type app struct {
	boot *glue.Boot
	mu   sync.Mutex
	h    http.Handler
}

func (a *app) handler() http.Handler {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.h != nil {
		return a.h
	}
	cfg, err := server.LoadConfig(a.getenv)
	if err != nil {
		return failed(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level(cfg.LogLevel)}))
	e, err := server.NewWorkerApp(cfg, a.boot.Fetch, log)
	if err != nil {
		return failed(err)
	}
	a.h = e
	return e
}

// getenv reads the Worker's bindings under the native server's variable
// names. A worker is always in cloud mode, so that is the default here.
func (a *app) getenv(name string) string {
	v, _ := a.boot.Binding(name)
	if name == "OSSUP_MODE" && v == "" {
		return string(server.ModeCloud)
	}
	return v
}

func level(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}

// failed answers a request with 500 and logs why: a worker has no start-up
// log a deployer would read. The errors name variables and quote only
// non-secret values (LoadConfig, userauth), so the log stays free of
// secrets.
func failed(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		slog.Error("ossup worker misconfigured", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"code":"misconfigured","message":"the worker's configuration is invalid; see its log"}}` + "\n"))
	})
}
