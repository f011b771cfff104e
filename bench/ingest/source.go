package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// writeSource writes size pseudo-random (incompressible, reproducible) bytes
// to path and returns their CRC64, the value OSS reports for the object.
func writeSource(path string, size int64) (crc uint64, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create source: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close source: %w", cerr)
		}
	}()
	rng := rand.NewChaCha8([32]byte{'o', 's', 's', 'u', 'p'})
	h := oss.NewCRC64(0)
	w := bufio.NewWriterSize(f, 1<<20)
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int(min(left, int64(len(buf))))
		_, _ = rng.Read(buf[:n])
		_, _ = h.Write(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			return 0, fmt.Errorf("write source: %w", err)
		}
		left -= int64(n)
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("write source: %w", err)
	}
	return h.Sum64(), nil
}
