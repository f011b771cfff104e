// Command sessions measures the backend's create-session call on loopback:
// latency (p50/p99) and throughput, with per-object credentials (one
// AssumeRole per upload) and with per-user-prefix credentials cached until
// 80 % of their lifetime. The two modes run alternately, round by round, so
// drift on a shared machine affects both alike.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ossup/ossup/server/loopback"
)

func main() {
	n := flag.Int("n", 400, "create calls per mode per round")
	rounds := flag.Int("rounds", 3, "rounds (each runs every mode)")
	workers := flag.Int("c", 8, "concurrent clients for the throughput figure")
	flag.Parse()
	if err := run(*n, *rounds, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "sessions:", err)
		os.Exit(1)
	}
}

const token = "bench-token-0123456789abcdef"

type mode struct {
	name, scope string
	base        string
	stop        func()
	lat         []time.Duration
	tput        []float64
	calls       func() (int64, int64)
}

func start(scope string) (*mode, error) {
	dir, err := os.MkdirTemp("", "ossup-bench-sessions-")
	if err != nil {
		return nil, err
	}
	web, _ := os.MkdirTemp(dir, "web")
	srv, err := loopback.Start(map[string]string{
		"OSSUP_DATA_DIR": dir, "OSSUP_WEB_DIR": web, "OSSUP_AUTH": "token", "OSSUP_AUTH_TOKENS": token + "=bench",
		"OSSUP_CREDENTIAL_SCOPE": scope, "OSSUP_RATE_LIMIT_IP": "1000000", "OSSUP_RATE_LIMIT_USER": "1000000",
	})
	if err != nil {
		return nil, err
	}
	return &mode{
		scope: scope, base: srv.Base, calls: srv.Minter().Stats,
		stop: func() { srv.Close(); os.RemoveAll(dir) },
	}, nil
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func create(base string) error {
	body, _ := json.Marshal(map[string]any{"name": "photo.jpg", "size": 123456, "type": "image/jpeg"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/uploads", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(b, []byte(`"securityToken"`)) {
		return fmt.Errorf("create answered %d: %.200s", resp.StatusCode, b)
	}
	return nil
}

// sequential measures the latency of n calls one after another.
func (m *mode) sequential(n int) error {
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := create(m.base); err != nil {
			return err
		}
		m.lat = append(m.lat, time.Since(t))
	}
	return nil
}

// parallel measures calls per second with c clients.
func (m *mode) parallel(n, c int) error {
	var wg sync.WaitGroup
	errs := make(chan error, c)
	per := n / c
	t := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := create(m.base); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	m.tput = append(m.tput, float64(per*c)/time.Since(t).Seconds())
	return nil
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

func run(n, rounds, workers int) error {
	var modes []*mode
	for _, sc := range []string{"object", "prefix"} {
		m, err := start(sc)
		if err != nil {
			return err
		}
		defer m.stop()
		m.name = map[string]string{"object": "per-object credentials (AssumeRole per upload)", "prefix": "per-user-prefix credentials, cached"}[sc]
		modes = append(modes, m)
	}
	for _, m := range modes { // warm-up
		if err := m.sequential(20); err != nil {
			return err
		}
		m.lat = nil
	}
	for r := 0; r < rounds; r++ {
		for _, m := range modes {
			if err := m.sequential(n); err != nil {
				return err
			}
			if err := m.parallel(n, workers); err != nil {
				return err
			}
		}
	}
	fmt.Printf("\nCreate-session on loopback (backend + local STS in one process), %d sequential + %d parallel calls (%d clients) per mode per round, %d rounds, alternating.\n\n", n, n, workers, rounds)
	fmt.Println("| mode | p50 ms | p99 ms | throughput calls/s (min / median / max) | AssumeRole calls |")
	fmt.Println("|---|---:|---:|---|---:|")
	for _, m := range modes {
		t := slices.Clone(m.tput)
		sort.Float64s(t)
		calls, _ := m.calls()
		fmt.Printf("| %s | %.2f | %.2f | %.0f / %.0f / %.0f | %d |\n", m.name,
			ms(pct(m.lat, 0.5)), ms(pct(m.lat, 0.99)), t[0], t[len(t)/2], t[len(t)-1], calls)
	}
	p50o, p50p := pct(modes[0].lat, 0.5), pct(modes[1].lat, 0.5)
	fmt.Printf("\nCaching cuts the median latency by %.1f× here; against real STS (tens of ms per AssumeRole over the internet) the saving is larger, and it keeps a busy site under STS's rate limits.\n", float64(p50o)/float64(p50p))
	fmt.Printf("Machine: nproc %d, %s %s/%s, %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format(time.RFC3339))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
