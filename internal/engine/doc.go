// Package engine is the browser upload engine's logic in pure Go: it uploads
// one file per Upload to Alibaba Cloud OSS with credentials from the signing
// backend (/api/v1/uploads), as one PutObject or as a multipart upload whose
// parts go up concurrently, verified end to end with CRC-64/ECMA, resumable
// from a checkpoint after a crash or a reload.
//
// The engine is kept apart from the platform through narrow interfaces, so
// the same code runs natively (tests, benchmarks) and in WebAssembly:
//
//   - [Source] is the file: ReadAt for bounded reads (hashing, fingerprint)
//     and Slice for zero-copy request bodies (a Blob slice in the browser, a
//     file section natively: [FileSource]).
//   - [Transport] sends one HTTP request and must abort it when its context
//     ends (fetch with an AbortSignal in the browser; [HTTPTransport]
//     natively).
//   - checkpoint.Store keeps resumable state (IndexedDB in the browser).
//
// Planning (partplan), buffering (the shared budget of bytes in flight) and
// concurrency (workers per upload, uploads per engine) are separate pieces,
// in the style of aws-sdk-go-v2's feature/s3/manager.
//
// OSS requests are signed with the OSS SDK's V4 signer on a synthesized
// *http.Request (headers only), and headers a browser refuses to send
// (Date, Content-Length) are never set: the transport derives the length
// from the body.
package engine
