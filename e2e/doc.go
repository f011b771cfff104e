// Package e2e holds the browser tests: real browsers from Debian's
// packages (Chromium, Firefox, WebKitGTK), driven through internal/browser,
// load pages from the real backend (with its local cloud) over loopback
// and run the wasm engine in its Web Worker. Each scenario runs as one
// subtest per engine, named for the engine and its version.
package e2e
