package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc64"
)

// IDPrefix starts every ID, so checkpoints can share a key space (an
// IndexedDB object store, localStorage) with other data.
const IDPrefix = "ossup:"

// ID is the store key for a file identity: IDPrefix and the hex SHA-256 of
// the JSON array [name, size, lastModified, type], with the path appended
// when there is one (so IDs of files outside folders are what they always
// were). The fingerprint is left out so a re-picked file is found by what
// File exposes for free; its fingerprint is then compared with
// Record.Matches.
func ID(f FileIdentity) string {
	// Marshalling strings and integers cannot fail; JSON keeps the fields
	// unambiguous whatever the name contains.
	fields := []any{f.Name, f.Size, f.LastModified, f.Type}
	if f.Path != "" {
		fields = append(fields, f.Path)
	}
	b, _ := json.Marshal(fields)
	sum := sha256.Sum256(b)
	return IDPrefix + hex.EncodeToString(sum[:])
}

// fingerprintChunk is the length of each sampled range.
const fingerprintChunk = 64 << 10

// FingerprintRanges are the byte ranges [start, end) that Fingerprint reads,
// in file order: the first, middle and last 64 KiB, the middle one starting
// at size/2 - 32 KiB. Overlapping or touching ranges are merged, so a file
// of at most 192 KiB is one range covering it whole. An empty (or negative)
// size has no ranges.
//
// Sampling keeps fingerprinting a multi-gigabyte file at 192 KiB of reads;
// the ends and the middle catch appends, truncations, re-encodings and
// header rewrites, and size plus lastModified catch most other edits.
func FingerprintRanges(size int64) [][2]int64 {
	if size <= 0 {
		return nil
	}
	mid := size/2 - fingerprintChunk/2
	candidates := [][2]int64{
		{0, fingerprintChunk},
		{mid, mid + fingerprintChunk},
		{size - fingerprintChunk, size},
	}
	var out [][2]int64
	for _, c := range candidates {
		c[0], c[1] = max(c[0], 0), min(c[1], size)
		if c[0] >= c[1] {
			continue
		}
		if n := len(out); n > 0 && c[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], c[1])
			continue
		}
		out = append(out, c)
	}
	return out
}

var ecmaTable = crc64.MakeTable(crc64.ECMA)

// Fingerprint computes CRC-64/ECMA (the polynomial OSS uses for
// x-oss-hash-crc64ecma) over FingerprintRanges(size) in order, as if they
// were concatenated. read must fill p with the file's bytes at off or return
// an error; in the browser it reads a Blob slice.
func Fingerprint(size int64, read func(off int64, p []byte) error) (uint64, error) {
	if size < 0 {
		return 0, fmt.Errorf("checkpoint: fingerprint: negative size %d", size)
	}
	var crc uint64
	var buf []byte
	for _, r := range FingerprintRanges(size) {
		n := int(r[1] - r[0])
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		p := buf[:n]
		if err := read(r[0], p); err != nil {
			return 0, fmt.Errorf("checkpoint: fingerprint: read %d bytes at %d: %w", n, r[0], err)
		}
		crc = crc64.Update(crc, ecmaTable, p)
	}
	return crc, nil
}
