package ossserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ossup/ossup/internal/localcloud/faults"
)

// Stats counts requests per operation. Tests of the browser engine read it to
// prove how many bytes a resume sent again.
type Stats struct {
	mu  sync.Mutex
	ops map[string]*OpStats
}

// OpStats are the counters of one operation.
type OpStats struct {
	Requests int64 `json:"requests"`
	// BytesIn is the request body bytes the endpoint has read, whatever the
	// outcome, counted as they arrive.
	BytesIn int64 `json:"bytesIn"`
	// Errors counts responses with status >= 400.
	Errors int64 `json:"errors"`
}

func newStats() *Stats { return &Stats{ops: map[string]*OpStats{}} }

// record counts a finished request. Its body bytes were counted as they
// arrived (addBytes).
func (s *Stats) record(op string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.op(op)
	o.Requests++
	if status >= 400 {
		o.Errors++
	}
}

// addBytes counts body bytes as the endpoint reads them, so a request still
// streaming (or draining after its client went away) shows in BytesIn now,
// not only when it ends.
func (s *Stats) addBytes(op string, n int64) {
	s.mu.Lock()
	s.op(op).BytesIn += n
	s.mu.Unlock()
}

func (s *Stats) op(name string) *OpStats {
	o := s.ops[name]
	if o == nil {
		o = &OpStats{}
		s.ops[name] = o
	}
	return o
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() map[string]OpStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]OpStats, len(s.ops))
	for k, v := range s.ops {
		out[k] = *v
	}
	return out
}

// Reset clears the counters.
func (s *Stats) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = map[string]*OpStats{}
}

// serveAdmin answers the loopback-only test endpoints under /-/:
// /-/faults (fault injection), /-/stats (counters), /-/health, and
// /-/lifecycle (POST: apply the lifecycle rules now; the answer is the
// run's report as JSON) and /-/callback_pub_key_v1.pem (the public key of
// upload callback signatures).
func (h *Handler) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if why := faults.LocalOnly(r); why != "" {
		http.Error(w, why, http.StatusForbidden)
		return
	}
	switch path := strings.TrimPrefix(r.URL.Path, adminPrefix); path {
	case "health":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	case "stats":
		switch r.Method {
		case http.MethodGet:
			snap := h.stats.Snapshot()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ops": snap})
		case http.MethodDelete:
			h.stats.Reset()
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "use GET or DELETE", http.StatusMethodNotAllowed)
		}
	case "lifecycle":
		h.serveLifecycleRun(w, r)
	case callbackPublicKeyRef:
		h.servePublicKey(w, r)
	case "faults":
		if h.cfg.Faults == nil {
			http.Error(w, "fault injection is not enabled on this endpoint", http.StatusNotFound)
			return
		}
		h.cfg.Faults.AdminHandler().ServeHTTP(w, r)
	default:
		http.Error(w, "unknown admin path; try /-/stats, /-/faults, /-/lifecycle or /-/health", http.StatusNotFound)
	}
}

// serveLifecycleRun answers POST /-/lifecycle. POST only, and only with a
// JSON content type (an empty JSON object as body): a cross-site page
// cannot send that without a preflight, which this endpoint never grants,
// so no page the developer visits can delete their objects.
func (h *Handler) serveLifecycleRun(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Lifecycle == nil {
		http.Error(w, "lifecycle rules are not run by this endpoint", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "use POST to run the lifecycle rules", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		http.Error(w, "send Content-Type: application/json (body {})", http.StatusUnsupportedMediaType)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	rep, err := h.cfg.Lifecycle.Run(ctx)
	if err != nil {
		h.log.Error("lifecycle run failed", "err", err)
		http.Error(w, "lifecycle run failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(rep)
}
