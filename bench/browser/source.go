package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// source is a file every contender uploads.
type source struct {
	Path   string
	Size   int64
	CRC64  uint64
	SHA256 [32]byte
}

// writeSource writes size pseudo-random (incompressible, reproducible)
// bytes to path, with the CRC-64 OSS reports for such an object and the
// SHA-256 the harness test compares.
func writeSource(path string, size int64) (s source, err error) {
	f, err := os.Create(path)
	if err != nil {
		return s, fmt.Errorf("create source: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close source: %w", cerr)
		}
	}()
	rng := rand.NewChaCha8([32]byte{'o', 's', 's', 'u', 'p', 'b', 'r'})
	crc := oss.NewCRC64(0)
	sum := sha256.New()
	w := bufio.NewWriterSize(f, 1<<20)
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int(min(left, int64(len(buf))))
		_, _ = rng.Read(buf[:n])
		_, _ = crc.Write(buf[:n])
		_, _ = sum.Write(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			return s, fmt.Errorf("write source: %w", err)
		}
		left -= int64(n)
	}
	if err := w.Flush(); err != nil {
		return s, fmt.Errorf("write source: %w", err)
	}
	s = source{Path: path, Size: size, CRC64: crc.Sum64()}
	copy(s.SHA256[:], sum.Sum(nil))
	return s, nil
}
