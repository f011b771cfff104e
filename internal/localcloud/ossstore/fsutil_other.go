//go:build !unix

package ossstore

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir only creates the LOCK file: there is no portable advisory lock
// outside unix, so exclusive use of the directory is the caller's duty there.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}

// syncDir is a no-op: directories cannot be fsynced on these systems, and
// their file systems order metadata updates themselves.
func syncDir(string) error { return nil }
