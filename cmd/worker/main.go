//go:build js && wasm

// Command worker is the ossup backend as a Cloudflare Worker: the same Echo
// application as the native server (server.NewWorkerApp), served by
// github.com/syumai/workers. Configuration comes from the Worker's variables
// and secrets, under the same names as the native server's environment
// variables; every outbound call goes through the Workers fetch API.
//
// `make worker` builds it into worker/build beside worker/wrangler.toml;
// the README's "Deploying to Cloudflare Workers" says how to deploy it.
package main

import (
	"log/slog"
	"net/http"
	"os"
	"syscall/js"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"

	"github.com/ossup/ossup/server"
)

func main() {
	workers.Serve(handler())
}

// handler is the application, or, when the configuration is unusable, a
// handler that says so: a worker has no start-up log a deployer would read.
func handler() http.Handler {
	cfg, err := server.LoadConfig(getenv)
	if err != nil {
		return failed(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level(cfg.LogLevel)}))
	e, err := server.NewWorkerApp(cfg, fetchDo(), log)
	if err != nil {
		return failed(err)
	}
	return e
}

// getenv reads the Worker's bindings (variables and secrets). An absent or
// null binding (workerd's fromEnvironment of an unset variable) is unset; a
// JSON variable is taken in its JavaScript string form. A worker is always in
// cloud mode, so that is the default here.
func getenv(name string) string {
	v := ""
	switch b := cloudflare.GetBinding(name); b.Type() {
	case js.TypeUndefined, js.TypeNull:
	case js.TypeString:
		v = b.String()
	default:
		v = js.Global().Get("String").Invoke(b).String()
	}
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

// failed answers every request with 500 and logs why, once per request (the
// glue runs main per request). The errors name variables and quote only
// non-secret values (LoadConfig, userauth), so the log stays free of secrets.
func failed(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		slog.Error("ossup worker misconfigured", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"code":"misconfigured","message":"the worker's configuration is invalid; see its log"}}` + "\n"))
	})
}
