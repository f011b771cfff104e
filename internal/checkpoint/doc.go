// Package checkpoint defines the browser engine's resumable-upload state and
// the Store it is kept in (IndexedDB in wasm/, in memory in tests).
//
// A Record is small and does not grow with the upload: file identity, key,
// upload id, ticket, part size, phase. Each confirmed part is a separate
// entry (Store.SavePart), one small write whatever the part count, so the
// cost of checkpointing a 10,000-part upload is linear, not quadratic.
// Records are stored in a versioned envelope (see EnvelopeVersion and
// BodyVersion): older bodies are migrated forward, newer ones are reported
// and left alone, and a damaged record still yields its upload id and
// ticket when they can be read, so the old multipart upload is aborted
// rather than orphaned. Records of the first format (before the envelope)
// are read and migrated when saved (Record.Legacy).
package checkpoint
