//go:build !js

package engine

import (
	"context"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"

	"github.com/ossup/ossup/internal/checkpoint"
)

// FileSource is a Source over a local file, for native use (tests, the
// benchmark, command-line tools). Its bodies are *SectionBody values, which
// HTTPTransport streams from the file.
type FileSource struct {
	f  *os.File
	id checkpoint.FileIdentity
}

// OpenFile opens path as a Source; Close releases it.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	s, err := NewFileSource(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// NewFileSource describes f as a browser would describe a File: base name,
// size, modification time in milliseconds and a MIME type guessed from the
// extension.
func NewFileSource(f *os.File) (*FileSource, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("engine: stat %s: %w", f.Name(), err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("engine: %s is not a regular file", f.Name())
	}
	return &FileSource{f: f, id: checkpoint.FileIdentity{
		Name:         filepath.Base(f.Name()),
		Size:         st.Size(),
		LastModified: st.ModTime().UnixMilli(),
		Type:         mime.TypeByExtension(filepath.Ext(f.Name())),
	}}, nil
}

// Identity returns the identity taken when the source was opened.
func (s *FileSource) Identity() checkpoint.FileIdentity { return s.id }

// ReadAt reads from the file; ctx is not consulted since local reads are
// short.
func (s *FileSource) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	return s.f.ReadAt(p, off)
}

// Slice returns a body over bytes [off, off+n) of the file.
func (s *FileSource) Slice(off, n int64) Body { return &SectionBody{R: s.f, Off: off, N: n} }

// Close closes the file.
func (s *FileSource) Close() error { return s.f.Close() }

// SectionBody is a zero-copy body over a byte range of an io.ReaderAt.
type SectionBody struct {
	R      io.ReaderAt
	Off, N int64
}

// Len is the body's length.
func (b *SectionBody) Len() int64 { return b.N }

// NewReader returns a fresh reader over the range, one per attempt.
func (b *SectionBody) NewReader() io.Reader { return io.NewSectionReader(b.R, b.Off, b.N) }
