package engine

import (
	"context"
	"fmt"
	"hash/crc64"
	"strconv"
)

// crcTable is CRC-64/ECMA-182 as OSS computes it (x-oss-hash-crc64ecma).
var crcTable = crc64.MakeTable(crc64.ECMA)

// crcUpdate is the CRC-64/ECMA kernel every hash of the engine goes
// through: hash/crc64 natively; the browser build installs a faster one
// (SetCRCUpdate).
var crcUpdate = func(crc uint64, p []byte) uint64 { return crc64.Update(crc, crcTable, p) }

// SetCRCUpdate replaces the engine's CRC-64/ECMA kernel with f, which must
// give what crc64.Update(crc, crc64.MakeTable(crc64.ECMA), p) gives. The
// browser build calls it at start (wasm/crc.go) with wasm/crckernel, a small
// WebAssembly module of its own that hashes 1.5-2.3 times faster than Go's
// table-driven loop compiled to wasm in Chromium, Firefox and WebKit
// (bench/crc). Call it before any upload.
func SetCRCUpdate(f func(crc uint64, p []byte) uint64) { crcUpdate = f }

// crcChunk bounds every buffer the engine hashes from, so a 5 GiB part
// never needs more than one small buffer in memory (a wasm heap only
// grows).
const crcChunk = 1 << 20

// crcOfRange computes the CRC-64/ECMA of src[off, off+n) through bounded
// reads into buf, which is reused.
func crcOfRange(ctx context.Context, src Source, off, n int64, buf []byte) (uint64, error) {
	var crc uint64
	if cs, ok := src.(ChunkedSource); ok {
		err := cs.ReadChunks(ctx, off, n, buf, func(p []byte) error {
			crc = crcUpdate(crc, p)
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("read file at %d: %w", off, err)
		}
		return crc, nil
	}
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p := buf[:min(int64(len(buf)), n-done)]
		if err := readFull(ctx, src, p, off+done); err != nil {
			return 0, err
		}
		crc = crcUpdate(crc, p)
		done += int64(len(p))
	}
	return crc, nil
}

// crcOfPart is crcOfRange for a range about to be sent: from a
// KeepingSource it also returns the bytes read as the body to send (nil
// when the source keeps none). The caller owns the body.
func crcOfPart(ctx context.Context, src Source, off, n int64, buf []byte) (uint64, KeptBody, error) {
	ks, ok := src.(KeepingSource)
	if !ok {
		crc, err := crcOfRange(ctx, src, off, n, buf)
		return crc, nil, err
	}
	var crc uint64
	body, err := ks.ReadChunksKept(ctx, off, n, buf, func(p []byte) error {
		crc = crcUpdate(crc, p)
		return nil
	})
	if err != nil {
		if body != nil {
			body.Release()
		}
		return 0, nil, fmt.Errorf("read file at %d: %w", off, err)
	}
	return crc, body, nil
}

// readFull fills p from src at off; a short read is an error, because the
// file shrank since its identity was taken.
func readFull(ctx context.Context, src Source, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := src.ReadAt(ctx, p, off)
		p, off = p[n:], off+int64(n)
		if len(p) == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read file at %d: %w", off, err)
		}
		if n == 0 {
			return fmt.Errorf("read file at %d: no data (the file shrank?)", off)
		}
	}
	return nil
}

// formatCRC writes a CRC the way OSS and the backend expect it: unsigned
// decimal.
func formatCRC(c uint64) string { return strconv.FormatUint(c, 10) }

// parseCRC reads an x-oss-hash-crc64ecma value.
func parseCRC(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// The CRC combination below is the zlib GF(2) matrix method, as ported to
// CRC-64/ECMA by the Alibaba Cloud OSS Go SDK v2 (oss/utils_crc.go,
// CRC64Combine, Apache License 2.0), changed to build the operator for a
// length once. It is not imported because the oss package would pull the
// whole SDK into the wasm binary.

const gf2Dim = 64

func gf2MatrixTimes(mat []uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i++ {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
		vec >>= 1
	}
	return sum
}

func gf2MatrixSquare(square, mat []uint64) {
	for n := 0; n < gf2Dim; n++ {
		square[n] = gf2MatrixTimes(mat, mat[n])
	}
}

// zerosOp returns the matrix of the linear operator that appends n zero
// bytes to a CRC register. Building it costs about as much as one zlib-style
// combination; applying it is one matrix-vector product, so a combination
// per part costs almost nothing once the part size's operator is built (the
// zlib loop per part took 2.6 ms in the browser: 26 s for 10,000 parts).
func zerosOp(n uint64) *[gf2Dim]uint64 {
	var op, sq [gf2Dim]uint64
	// The operator for one zero bit, then two, then four.
	op[0] = crc64.ECMA
	row := uint64(1)
	for i := 1; i < gf2Dim; i++ {
		op[i] = row
		row <<= 1
	}
	gf2MatrixSquare(sq[:], op[:]) // two bits
	gf2MatrixSquare(op[:], sq[:]) // four bits
	var res [gf2Dim]uint64
	for i := range res {
		res[i] = 1 << i // identity
	}
	for n != 0 {
		// op becomes the operator for the next power of two of bytes.
		gf2MatrixSquare(sq[:], op[:])
		op = sq
		if n&1 != 0 {
			var next [gf2Dim]uint64
			for i := range next {
				next[i] = gf2MatrixTimes(op[:], res[i])
			}
			res = next
		}
		n >>= 1
	}
	return &res
}

// crcCombine returns the CRC of A‖B given crc1 = CRC(A), crc2 = CRC(B) and
// len2 = len(B).
func crcCombine(crc1, crc2 uint64, len2 uint64) uint64 {
	if len2 == 0 {
		return crc1
	}
	return gf2MatrixTimes(zerosOp(len2)[:], crc1) ^ crc2
}

// crcCombiner folds CRCs of consecutive pieces, keeping the operator of
// each piece length it met (parts all have one size but the last).
type crcCombiner struct {
	ops map[uint64]*[gf2Dim]uint64
}

// add returns the CRC of A‖B, as crcCombine does.
func (c *crcCombiner) add(crc1, crc2 uint64, len2 uint64) uint64 {
	if len2 == 0 {
		return crc1
	}
	op := c.ops[len2]
	if op == nil {
		if c.ops == nil {
			c.ops = map[uint64]*[gf2Dim]uint64{}
		}
		op = zerosOp(len2)
		c.ops[len2] = op
	}
	return gf2MatrixTimes(op[:], crc1) ^ crc2
}
