package ossstore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// randomHex returns n random bytes as lower-case hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// newUploadID returns an upload id shaped like OSS's: 32 upper-case hex digits.
func newUploadID() string { return strings.ToUpper(randomHex(16)) }

// validUploadID reports whether id could have been made by newUploadID. Ids
// become path elements, so anything else is rejected before it reaches the
// file system.
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// writeJSONAtomic replaces path with the JSON encoding of v so that readers
// and crashes see either the old or the new content, never a mix: the data is
// written and fsynced under tmpDir (same file system), renamed over path, and
// path's directory is fsynced.
func writeJSONAtomic(tmpDir, path string, v any) error {
	tmp, err := writeJSONTemp(tmpDir, v)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeJSONTemp writes the JSON encoding of v to a new fsynced file under
// tmpDir and returns its path, ready to be renamed into place.
func writeJSONTemp(tmpDir string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode record: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "json-*")
	if err != nil {
		return "", fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("close %s: %w", tmp, err)
	}
	return tmp, nil
}

// readJSON decodes the file at path into v. A missing file is reported with
// an error satisfying errors.Is(err, fs.ErrNotExist).
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// mkdirDurable creates dir if needed and, when it did, fsyncs the parent so
// that the new entry survives a power loss before anything is committed in it.
func mkdirDurable(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

// isNotExist reports whether err means a file or directory is absent.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
