// Package objectkey decides OSS object keys: a key template with per-user and
// per-upload placeholders, and the sanitising of untrusted file names and
// user ids into key segments. Every key it renders is a valid, unambiguous
// OSS key: no empty, "." or ".." segments, no control or bidi characters,
// at most MaxKeyLen bytes.
package objectkey
