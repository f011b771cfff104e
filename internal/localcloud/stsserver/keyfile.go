package stsserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// keyFileName holds the token-sealing key inside Config.DataDir.
const keyFileName = "sts-seal.key"

const masterKeySize = 32

// loadOrCreateKey returns the persisted sealing key, creating it on first
// start. Creation writes a private temporary file and hard-links it into
// place, so a concurrent starter either wins or reads the winner's key, and a
// crash never leaves a half-written key behind.
func loadOrCreateKey(dir string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("stsserver: create data dir: %w", err)
	}
	path := filepath.Join(dir, keyFileName)
	key, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}

	key = make([]byte, masterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("stsserver: generate sealing key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, keyFileName+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("stsserver: write sealing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod guards against an unusual umask.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("stsserver: write sealing key: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("stsserver: write sealing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("stsserver: write sealing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("stsserver: write sealing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
		return nil, fmt.Errorf("stsserver: install sealing key: %w", err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stsserver: read sealing key: %w", err)
	}
	if len(key) != masterKeySize {
		return nil, fmt.Errorf("stsserver: sealing key %s has %d bytes, want %d", path, len(key), masterKeySize)
	}
	return key, nil
}
