package web

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// protocol is web/protocol.json: the contract between the page module, the
// worker glue and the engine, declared once.
type protocol struct {
	PageToWorker map[string][]string `json:"pageToWorker"`
	WorkerToPage map[string][]string `json:"workerToPage"`
	Engine       []string            `json:"engine"`
	EventKinds   []string            `json:"eventKinds"`
	ErrorCodes   map[string]string   `json:"errorCodes"`
	WarningCodes map[string]string   `json:"warningCodes"`
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// matches returns the distinct first groups of re in s, sorted.
func matches(re, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// literalKeys are the keys of the object literal that starts at s[0] ('{'):
// "a: 1, b, ...c" gives a, b (spreads are skipped).
func literalKeys(s string) []string {
	depth, start := 0, 1
	var parts []string
	for i, c := range s {
		switch c {
		case '{', '(', '[':
			depth++
		case '}', ')', ']':
			depth--
			if depth == 0 {
				parts = append(parts, s[start:i])
				goto done
			}
		case ',':
			if depth == 1 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
done:
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "...") {
			continue
		}
		k, _, _ := strings.Cut(p, ":")
		out = append(out, strings.TrimSpace(k))
	}
	return out
}

// posted maps each message type that src posts with an object literal
// (postMessage({ type: 'x', ... }) or _post({ type: 'x', ... })) to the
// literal's other keys, and each _call('x', { ... }) to reqId and its keys.
func posted(t *testing.T, src string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(typ string, ks []string) {
		for _, k := range ks {
			if k != "type" && !slices.Contains(out[typ], k) {
				out[typ] = append(out[typ], k)
			}
		}
		if out[typ] == nil {
			out[typ] = []string{}
		}
	}
	for _, m := range regexp.MustCompile(`(?:postMessage|_post)\(\{\s*type:\s*'(\w+)'`).FindAllStringSubmatchIndex(src, -1) {
		open := strings.LastIndex(src[:m[1]], "{")
		add(src[m[2]:m[3]], literalKeys(src[open:]))
	}
	for _, m := range regexp.MustCompile(`_call\('(\w+)',\s*\{`).FindAllStringSubmatchIndex(src, -1) {
		add(src[m[2]:m[3]], append([]string{"reqId"}, literalKeys(src[m[1]-1:])...))
	}
	return out
}

// switchCases are the case labels of the switch in the function that
// starts with header in src.
func switchCases(t *testing.T, src, header string) []string {
	t.Helper()
	i := strings.Index(src, header)
	if i < 0 {
		t.Fatalf("no %q", header)
	}
	body := src[i:]
	if j := strings.Index(body, "\n}\n"); j >= 0 {
		body = body[:j]
	}
	if j := strings.Index(body, "\n  }\n\n"); j >= 0 {
		body = body[:j]
	}
	return matches(`case '(\w+)':`, body)
}

// TestProtocolAgrees: the page module, the worker glue and the engine send
// and handle exactly the messages, engine functions, event kinds and codes
// web/protocol.json declares, with the declared fields, and ossup.d.ts
// documents every code.
func TestProtocolAgrees(t *testing.T) {
	var p protocol
	if err := json.Unmarshal([]byte(readFile(t, "protocol.json")), &p); err != nil {
		t.Fatal(err)
	}
	page, worker := readFile(t, "ossup.js"), readFile(t, "ossup-worker.js")
	wasmMain, wasmEvents := readFile(t, "../wasm/main.go"), readFile(t, "../wasm/events.go")
	dts := readFile(t, "ossup.d.ts")
	engineEvents := readFile(t, "../internal/engine/events.go")

	check := func(what string, got, want []string) {
		t.Helper()
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, protocol.json declares %v", what, got, want)
		}
	}
	checkFields := func(what string, got map[string][]string, want map[string][]string) {
		t.Helper()
		check(what+" message types", keys(got), keys(want))
		for typ, fields := range got {
			for _, f := range fields {
				if !slices.Contains(want[typ], f) {
					t.Errorf("%s: %s carries %s, which protocol.json does not declare (%v)", what, typ, f, want[typ])
				}
			}
		}
	}

	checkFields("ossup.js posts", posted(t, page), p.PageToWorker)
	check("ossup-worker.js handles", switchCases(t, worker, "function handle(m)"), keys(p.PageToWorker))
	checkFields("ossup-worker.js posts", posted(t, worker), p.WorkerToPage)
	check("ossup.js handles", switchCases(t, page, "  _message(m) {"), keys(p.WorkerToPage))

	// The fields the worker reads of each message it handles.
	handleBody := worker[strings.Index(worker, "function handle(m)"):]
	for _, c := range regexp.MustCompile(`case '(\w+)':([^\n]*)`).FindAllStringSubmatch(handleBody, -1) {
		for _, f := range matches(`m\.(\w+)`, c[2]) {
			if f != "type" && !slices.Contains(p.PageToWorker[c[1]], f) {
				t.Errorf("ossup-worker.js reads %s of %s, which protocol.json does not declare", f, c[1])
			}
		}
	}

	check("engine functions wasm/main.go publishes", slices.DeleteFunc(matches(`api\.Set\("(\w+)"`, wasmMain), func(s string) bool { return s == "version" }), p.Engine)
	for _, f := range matches(`engine\.(\w+)\(`, worker) {
		if !slices.Contains(p.Engine, f) {
			t.Errorf("ossup-worker.js calls engine.%s, which protocol.json does not declare", f)
		}
	}

	kinds := matches(`Event\w+\s+EventKind = "(\w+)"`, engineEvents)
	kinds = append(kinds, matches(`"kind":\s*"(\w+)"`, wasmMain+wasmEvents)...)
	kinds = append(kinds, matches(`kind:\s*'(\w+)'`, worker+page)...)
	for _, k := range kinds {
		if !slices.Contains(p.EventKinds, k) {
			t.Errorf("event kind %q is sent but not declared", k)
		}
	}
	for _, k := range p.EventKinds {
		if !strings.Contains(dts, `"`+k+`"`) {
			t.Errorf("ossup.d.ts does not name event kind %q", k)
		}
	}

	errCodes := matches(`coded\("(\w+)"`, wasmMain+readFile(t, "../wasm/source.go")+readFile(t, "../wasm/kv.go"))
	errCodes = append(errCodes, matches(`code: '(\w+)'`, page+worker)...)
	errCodes = append(errCodes, matches(`out\["code"\] = "(\w+)"`, wasmEvents)...)
	warnCodes := matches(`a\.warn\([^,]+,\s*"(\w+)"`, wasmMain)
	// The engine's own warnings and codes reach the page unchanged.
	engineCode := readFile(t, "../internal/engine/lifecycle.go") + readFile(t, "../internal/engine/keeper.go") +
		readFile(t, "../internal/engine/run.go")
	warnCodes = append(warnCodes, matches(`u\.warn\("(\w+)"`, engineCode)...)
	errCodes = append(errCodes, matches(`Code: "(\w+)"`, engineCode)...)
	errCodes = append(errCodes, matches(`return "(\w+)"`, readFile(t, "../internal/engine/errors.go"))...)
	slices.Sort(warnCodes)
	warnCodes = slices.Compact(warnCodes)
	for _, c := range errCodes {
		if _, ok := p.ErrorCodes[c]; !ok && c != "CORSExposeHeaders" {
			t.Errorf("error code %q is used but not declared", c)
		}
	}
	check("warning codes wasm/main.go sends", warnCodes, keys(p.WarningCodes))
	for _, c := range append(keys(p.ErrorCodes), keys(p.WarningCodes)...) {
		if !strings.Contains(dts, c) {
			t.Errorf("ossup.d.ts does not document code %q", c)
		}
	}
}
