// Package v1 is internal/checkpoint as of commit 085b333, the first
// checkpoint format (the whole record, parts included, re-encoded and
// rewritten after every part), kept unchanged so bench/checkpoint measures
// the code that shipped rather than an imitation of it.
package v1
