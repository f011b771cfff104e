package engine

import (
	"context"
	"fmt"
	"hash/crc64"
	"strconv"
)

// crcTable is CRC-64/ECMA-182 as OSS computes it (x-oss-hash-crc64ecma).
var crcTable = crc64.MakeTable(crc64.ECMA)

// crcChunk bounds every read the engine makes for hashing, so a 5 GiB part
// never needs more than one small buffer in memory (a wasm heap only grows).
const crcChunk = 1 << 20

// crcOfRange computes the CRC-64/ECMA of src[off, off+n) through bounded
// ReadAt calls into buf, which is reused.
func crcOfRange(ctx context.Context, src Source, off, n int64, buf []byte) (uint64, error) {
	var crc uint64
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p := buf[:min(int64(len(buf)), n-done)]
		if err := readFull(ctx, src, p, off+done); err != nil {
			return 0, err
		}
		crc = crc64.Update(crc, crcTable, p)
		done += int64(len(p))
	}
	return crc, nil
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
// CRC64Combine, Apache License 2.0). It is copied rather than imported
// because the oss package would pull the whole SDK into the wasm binary.

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

// crcCombine returns the CRC of A‖B given crc1 = CRC(A), crc2 = CRC(B) and
// len2 = len(B).
func crcCombine(crc1, crc2 uint64, len2 uint64) uint64 {
	if len2 == 0 {
		return crc1
	}
	var even, odd [gf2Dim]uint64
	// The operator for one zero bit, then two, then four.
	odd[0] = crc64.ECMA
	row := uint64(1)
	for n := 1; n < gf2Dim; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2MatrixSquare(even[:], odd[:])
	gf2MatrixSquare(odd[:], even[:])
	// Apply len2 zero bytes to crc1, one bit of len2 per squaring.
	for {
		gf2MatrixSquare(even[:], odd[:])
		if len2&1 != 0 {
			crc1 = gf2MatrixTimes(even[:], crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2MatrixSquare(odd[:], even[:])
		if len2&1 != 0 {
			crc1 = gf2MatrixTimes(odd[:], crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}
