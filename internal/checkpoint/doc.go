// Package checkpoint defines the browser engine's resumable-upload record
// (file identity, upload id, part size, completed parts) with a checksum over
// its content, its validation rules, and the Store interface the engine saves
// it through (IndexedDB in wasm/, in-memory in tests).
package checkpoint
