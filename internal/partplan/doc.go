// Package partplan computes the part plan of a multipart upload within OSS's
// limits (1 to 10000 parts, 100 KB minimum for all parts but the last, 5 GB
// maximum) and the single-PutObject threshold. Pure Go, shared by the
// browser engine and the benchmarks.
package partplan
