//go:build unix

package ossstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockWait is how long Open waits for the lock. A process that forks while
// a Store is open gives the child a copy of the lock's descriptor until the
// child execs, so a just-closed store can look locked for a moment.
const lockWait = 500 * time.Millisecond

// lockDir takes an exclusive flock on <dir>/LOCK so that two processes never
// run recovery or writes on the same store at once. The kernel drops the lock
// when the process dies, so a SIGKILLed owner never blocks the next Open.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("store %s is already open", dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncDir makes the entries of a directory (renames, links, removals)
// durable.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", path, err)
	}
	return nil
}
