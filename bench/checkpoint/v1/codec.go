package v1

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// checksum is the hex SHA-256 of r's canonical JSON: encoding/json's output
// (fields in declaration order, no insignificant space) with Checksum empty
// and therefore omitted.
func (r *Record) checksum() (string, error) {
	c := *r
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Marshal encodes a sealed, valid record as JSON. It refuses a record that
// Validate rejects, so everything it writes can be read back by Unmarshal.
func Marshal(r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: marshal: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		// Unreachable after Validate, which encodes r to check its checksum.
		return nil, fmt.Errorf("checkpoint: marshal: %w", err)
	}
	return b, nil
}

// Unmarshal decodes and validates a record written by Marshal. Anything else
// is ErrDamaged: bad JSON, a failed Validate, or bytes that are not exactly
// Marshal's encoding of the record they decode to. The last rule makes the
// checksum cover every byte, which it otherwise would not: encoding/json
// matches keys case-insensitively, ignores unknown keys and accepts
// alternative escapes, all of which decode to the same, checksum-valid
// record.
func Unmarshal(b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	canon, err := json.Marshal(&r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if !bytes.Equal(canon, b) {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, errNotCanonical)
	}
	return &r, nil
}

var errNotCanonical = errors.New("not in canonical encoding")
