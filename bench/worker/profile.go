package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/profiler"
	"golang.org/x/net/websocket"

	"github.com/ossup/ossup/internal/workertest"
)

// profile runs n create-session calls, then n/4 /healthz calls, against a
// workerd started with its inspector on, under V8's sampling profiler, and
// writes the raw profiles and the functions with the most self time into
// dir. The build in buildDir should keep its wasm name section (no -s) for
// the Go functions to have names.
func profile(bin, buildDir string, env map[string]string, n int, dir string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	w, err := workertest.StartArgs(bin, buildDir, env, "--inspector-addr", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Ready(ctx); err != nil {
		return err
	}
	c, err := dialInspector(ctx, port)
	if err != nil {
		return fmt.Errorf("inspector: %w", err)
	}
	defer c.close()
	for _, m := range []string{"Profiler.enable"} {
		if _, err := c.call(m, nil); err != nil {
			return err
		}
	}
	if _, err := c.call("Profiler.setSamplingInterval", map[string]any{"interval": 100}); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"create-session", func() error {
			for i := 0; i < n; i++ {
				if _, err := timedCreate(w.URL); err != nil {
					return err
				}
			}
			return nil
		}},
		{"healthz", func() error {
			for i := 0; i < n/4; i++ {
				if _, err := get(w.URL + "/healthz"); err != nil {
					return err
				}
			}
			return nil
		}},
	} {
		if _, err := c.call("Profiler.start", nil); err != nil {
			return err
		}
		if err := step.run(); err != nil {
			return err
		}
		raw, err := c.call("Profiler.stop", nil)
		if err != nil {
			return err
		}
		var res struct{ Profile *profiler.Profile }
		if err := json.Unmarshal(raw, &res); err != nil || res.Profile == nil {
			return fmt.Errorf("Profiler.stop: %v (%.200s)", err, raw)
		}
		if err := os.WriteFile(filepath.Join(dir, step.name+".cpuprofile"), raw, 0o644); err != nil {
			return err
		}
		s := summary(res.Profile, 50)
		if err := os.WriteFile(filepath.Join(dir, step.name+".txt"), []byte(s), 0o644); err != nil {
			return err
		}
		fmt.Printf("\nProfile of %s in workerd (%s):\n%s", step.name, filepath.Join(dir, step.name+".txt"), firstLines(s, 25))
	}
	return nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// summary lists the functions with the most self time, with their share of
// the samples.
func summary(p *profiler.Profile, top int) string {
	total := float64(p.EndTime - p.StartTime)
	var samples int64
	self := map[string]int64{}
	for _, n := range p.Nodes {
		name := n.CallFrame.FunctionName
		if name == "" {
			name = "(anonymous)"
		}
		if u := n.CallFrame.URL; u != "" {
			name += "  " + u[strings.LastIndex(u, "/")+1:]
		}
		self[name] += n.HitCount
		samples += n.HitCount
	}
	type row struct {
		name string
		hits int64
	}
	var rows []row
	for k, v := range self {
		rows = append(rows, row{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].hits > rows[j].hits })
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f s profiled, %d samples, %.1f %% idle\n", total/1e6, samples, 100*float64(self["(idle)"])/float64(max(samples, 1)))
	fmt.Fprintf(&b, "%8s %7s  %s\n", "self ms", "share", "function")
	for i, r := range rows {
		if i == top {
			break
		}
		ms := total / 1e3 * float64(r.hits) / float64(max(samples, 1))
		fmt.Fprintf(&b, "%8.1f %6.1f%%  %s\n", ms, 100*float64(r.hits)/float64(max(samples, 1)), r.name)
	}
	return b.String()
}

// inspector is a minimal Chrome DevTools protocol client for workerd's
// inspector: one target, calls answered in order of their ids.
type inspector struct {
	ws *websocket.Conn
	mu sync.Mutex
	id int
}

func dialInspector(ctx context.Context, port int) (*inspector, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/json/list", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var targets []struct{ WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New("no target")
	}
	ws, err := websocket.Dial(targets[0].WebSocketDebuggerURL, "", "http://127.0.0.1/")
	if err != nil {
		return nil, err
	}
	return &inspector{ws: ws}, nil
}

func (c *inspector) close() { c.ws.Close() }

func (c *inspector) call(method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id++
	msg := map[string]any{"id": c.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := websocket.JSON.Send(c.ws, msg); err != nil {
		return nil, err
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	for {
		var m struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		var raw []byte
		if err := websocket.Message.Receive(c.ws, &raw); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		if m.ID != c.id {
			continue // an event
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	}
}
