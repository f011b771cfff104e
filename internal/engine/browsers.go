package engine

import "strings"

// KeepsReads reports whether the browser whose navigator.userAgent is ua
// should send the bytes a part was read into for its CRC-64 (one read of the
// file per byte) rather than a fresh Blob slice of the file (the browser
// reads the part a second time, off the worker thread). It is a per-engine
// choice because the figures differ by engine, and the user agent is the only
// way to tell them apart. Measured with bench/browser -engine-b, 8 MiB × 4
// parts, the same run alternating both bodies (2026-12-03, 2-core VM):
//   - WebKitGTK 2.50: 102 → 121 MB/s at 256 MiB and 110 → 132 at 1 GiB
//     (the read-limit: 125 and 108), browser CPU 13.8 → 11.6 and
//     12.5 → 10.3 s/GiB, content-process RSS 50-100 MiB higher: kept.
//   - Firefox 153: 190 → 137 MB/s, 6.0 → 10.2 s/GiB: sending an ArrayBuffer
//     costs Firefox far more than streaming a Blob.
//   - Chromium 156: a wash (123 → 128 MB/s at 256 MiB, 116 → 113 at 1 GiB,
//     CPU within 0.6 s/GiB): XHR.send of an ArrayBuffer costs the worker
//     thread about 3.7 s/GiB (its CPU profile), what the browser's IO and file
//     threads save. A Blob keeps the worker's thread free for the engine.
//
// Every browser on iOS is WebKit (Chrome there says CriOS/, not Chrome/).
func KeepsReads(ua string) bool {
	return strings.Contains(ua, "AppleWebKit/") && !strings.Contains(ua, "Chrome/") && !strings.Contains(ua, "Chromium/")
}
