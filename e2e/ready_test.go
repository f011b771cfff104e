package e2e

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/browser"
	"github.com/ossup/ossup/server/loopback"
)

// TestReadyWaitsForBackend: the backend is down for 30 s when the page
// loads. ready does not reject; an upload started meanwhile waits; once the
// backend is up, ready resolves and the upload completes.
func TestReadyWaitsForBackend(t *testing.T) {
	inEngines(t, browser.Engines, testReadyWaitsForBackend)
}

func testReadyWaitsForBackend(t *testing.T, e browser.Engine) {
	page := servePage(t, "127.0.0.1")
	// The backend's address, free until it starts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	pg := launch(t, e, browser.Options{}, 4*time.Minute)
	if err := pg.navigate(page.url(page.Origin+"/web/ossup.js", "http://"+addr, "dev")); err != nil {
		t.Fatal(err)
	}
	waitApp(pg, t, `a.uploader`, true, 30*time.Second)
	path, data := writeFile(t, t.TempDir(), "early.bin", 700_000)
	pickFiles(pg, t, path)
	time.Sleep(30 * time.Second) // the outage, not an assertion
	a := readApp(pg, t)
	if a.Version != "" || len(a.Errors) > 0 || len(a.Results) > 0 {
		t.Fatalf("with the backend down: version %q, errors %v, results %v", a.Version, a.Errors, a.Results)
	}

	lb, err := loopback.Start(map[string]string{
		"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_API_ONLY": "true", "OSSUP_ADDR": addr, "OSSUP_CORS_ORIGINS": page.Origin,
		"OSSUP_PART_SIZE": strconv.Itoa(256 << 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	a = waitApp(pg, t, `a.version && a.results.length`, true, 90*time.Second)
	checkObject(t, lb.Server, a.Results[0], data)
}

// TestReadyRefusals: ready rejects, with a code, only for answers no retry
// can fix: a URL that is no ossup backend (404), a dev backend on another
// origin that refuses cookies (OSSUP_CORS_ORIGINS=*), and a token the
// backend refuses (unauthenticated; the upload then waits in that state).
func TestReadyRefusals(t *testing.T) {
	inEngines(t, browser.Engines, testReadyRefusals)
}

func testReadyRefusals(t *testing.T, e browser.Engine) {
	page := servePage(t, "127.0.0.1")
	star, err := loopback.Start(map[string]string{"OSSUP_DATA_DIR": t.TempDir(), "OSSUP_API_ONLY": "true", "OSSUP_CORS_ORIGINS": "*"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { star.Close() })
	env := jwtEnv()
	env["OSSUP_DATA_DIR"], env["OSSUP_API_ONLY"], env["OSSUP_CORS_ORIGINS"] = t.TempDir(), "true", "*"
	jwtBackend, err := loopback.Start(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jwtBackend.Close() })
	pg := launch(t, e, browser.Options{}, 4*time.Minute)
	for _, c := range []struct{ name, backend, auth, code string }{
		{"no ossup backend", page.Origin + "/nothing", "dev", "backend_not_found"},
		{"dev backend refusing cookies", star.Base, "dev", "credentials_refused"},
		{"token refused", jwtBackend.Base, "jwt", "unauthenticated"},
	} {
		if c.auth == "jwt" {
			page.failTokens.Store(false)
			page.setTTL(-time.Hour) // expired: the backend refuses it
		}
		if err := pg.navigate(page.url(page.Origin+"/web/ossup.js", c.backend, c.auth)); err != nil {
			t.Fatal(err)
		}
		a := waitApp(pg, t, `a.errors.length`, false, time.Minute)
		if len(a.Errors) != 1 || a.Errors[0]["stage"] != "ready" || a.Errors[0]["code"] != c.code {
			t.Errorf("%s: errors %v, want ready rejected with code %s", c.name, a.Errors, c.code)
		}
		t.Logf("%s: %v", c.name, a.Errors[0]["message"])
	}
	// Options no call can fix are refused at once, before a worker starts.
	for _, c := range []struct{ opts, want string }{
		{`{ credentials: 'always' }`, `TypeError: ossup: credentials must be "auto", "include" or "omit", not "always"`},
		{`{ headers: 'Bearer x' }`, `TypeError: ossup: headers must be an object, a Headers, pairs or a function returning one, not a string`},
		{`{ headers: { Authorization: 42 } }`, `TypeError: ossup: header Authorization must be a string, got number`},
	} {
		got, err := evalAs[string](pg, `import('`+page.Origin+`/web/ossup.js').then(m => { try { m.createUploader(`+c.opts+`); return 'accepted'; } catch (e) { return e.name + ': ' + e.message; } })`)
		if err != nil || got != c.want {
			t.Errorf("createUploader(%s): %q (%v), want %q", c.opts, got, err, c.want)
		}
	}

	// An upload picked while the token is refused waits in state
	// unauthenticated, and goes up once the token is good again.
	path, data := writeFile(t, t.TempDir(), "later.bin", 300_000)
	pickFiles(pg, t, path)
	waitApp(pg, t, `(a.states['later.bin'] || []).includes('unauthenticated')`, false, 30*time.Second)
	page.setTTL(time.Minute)
	a := waitApp(pg, t, `a.results.length`, false, time.Minute)
	checkObject(t, jwtBackend.Server, a.Results[0], data)
}
