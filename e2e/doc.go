// Package e2e holds the browser tests: the real Debian Chromium, driven
// headless through chromedp, loads pages from the real backend (with its
// local cloud) over loopback and runs the wasm engine in its Web Worker.
package e2e
