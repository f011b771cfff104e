package faults

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// maxAdminBody bounds a configuration document.
const maxAdminBody = 1 << 20

// state is the admin GET document: the configuration, flattened, plus the
// statistics. ParseConfig ignores "stats", so the document can be PUT back.
type state struct {
	Config
	Stats map[string]FaultStats `json:"stats"`
}

// AdminHandler returns the run-time control endpoint, usable at any path:
//
//   - GET (and HEAD) returns the configuration and statistics as JSON;
//   - PUT or POST replaces the configuration with the JSON body (400 with a
//     message if it is malformed or invalid) and returns the new state;
//   - DELETE turns every fault off and returns the new state.
//
// Requests from non-loopback addresses, or for a Host that is not a loopback
// name (DNS rebinding), are refused with 403, since anyone who can reach it
// can break the endpoint.
func (i *Injector) AdminHandler() http.Handler {
	return http.HandlerFunc(i.serveAdmin)
}

func (i *Injector) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if why := LocalOnly(r); why != "" {
		http.Error(w, "faults: "+why, http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPut, http.MethodPost:
		// A JSON content type makes a cross-site page's request a non-simple
		// one, which needs a preflight this endpoint never grants: no page the
		// developer visits can switch faults on behind their back.
		if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			http.Error(w, "faults: send the configuration with Content-Type: application/json", http.StatusUnsupportedMediaType)
			return
		}
		cfg, err := readConfig(w, r)
		if err == nil {
			err = i.Set(cfg)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	case http.MethodDelete:
		_ = i.Set(Config{})
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, POST, DELETE")
		http.Error(w, "faults: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	st := state{Config: i.Config(), Stats: i.Stats()}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(marshalIndent(st))
}

// readConfig parses the request body. An empty body is refused rather than
// read as "off", which DELETE says explicitly.
func readConfig(w http.ResponseWriter, r *http.Request) (Config, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		return Config{}, fmt.Errorf("faults: read config: %w", err)
	}
	if strings.TrimSpace(string(body)) == "" {
		return Config{}, errors.New("faults: empty config; send JSON such as {\"rules\":[{\"op\":\"UploadPart\",\"resetRate\":1,\"count\":2}]}, or DELETE to turn faults off")
	}
	return ParseConfig(string(body))
}

// isLoopback reports whether a RemoteAddr ("host:port") is a loopback
// address, IPv4-mapped IPv6 included.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// LocalOnly says why r may not use a loopback-only endpoint, or "" if it
// may. The peer must be a loopback address and the Host a loopback name
// (localhost or a loopback IP): a page on another site whose DNS name was
// rebound to 127.0.0.1 reaches a loopback listener from the browser on the
// same machine, but its requests carry its own name in Host.
func LocalOnly(r *http.Request) string {
	if !isLoopback(r.RemoteAddr) {
		return "the admin endpoint answers loopback clients only"
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return ""
	}
	return "the admin endpoint answers requests for localhost or a loopback address only, not for Host " + strconv.Quote(r.Host)
}
