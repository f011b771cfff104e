package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The first checkpoint format (body version 1), as the builds before the
// envelope wrote it: the whole record, parts included, as canonical JSON
// with a SHA-256 of itself inside, under the checkpoint id; and a parts-less
// "anchor" copy under the id with ":anchor" appended, written when the
// multipart upload was initiated, so a damaged record still named its
// upload. This build reads both and migrates them (Record.Legacy); it never
// writes them except through EncodeLegacy, for tests.

// LegacyKey is the key of id's first-format record.
func LegacyKey(id string) string { return id }

// LegacyAnchorKey is the key of id's first-format anchor copy.
func LegacyAnchorKey(id string) string { return id + ":anchor" }

const legacyAnchorSuffix = ":anchor"

// legacyRecord is the first format's layout, field for field: the
// canonical encoding (and so the checksum) depends on the order.
type legacyRecord struct {
	Version   int          `json:"version"`
	File      FileIdentity `json:"file"`
	Bucket    string       `json:"bucket"`
	Key       string       `json:"key"`
	Ticket    string       `json:"ticket"`
	UploadID  string       `json:"uploadId"`
	Endpoint  string       `json:"endpoint"`
	Region    string       `json:"region"`
	PathStyle bool         `json:"pathStyle"`
	PartSize  int64        `json:"partSize"`
	Parts     []Part       `json:"parts,omitempty"`
	Created   time.Time    `json:"created"`
	Updated   time.Time    `json:"updated"`
	Checksum  string       `json:"checksum,omitempty"`
}

func (r *legacyRecord) checksum() (string, error) {
	c := *r
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// EncodeLegacy returns r (with its Parts) in the first checkpoint format,
// as the builds before the envelope wrote it under LegacyKey(ID(r.File))
// (and, without parts, under LegacyAnchorKey). It is for tests that put a
// record of the previous format in a store (an e2e test writes it into
// IndexedDB). r must be a valid multipart record.
func EncodeLegacy(r *Record) ([]byte, error) {
	c := r.clone()
	c.normalise()
	if c.PartSize == 0 {
		return nil, errors.New("checkpoint: encode legacy: the first format had no single-PUT records")
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: encode legacy: %w", err)
	}
	l := legacyRecord{
		Version: 1, File: c.File, Bucket: c.Bucket, Key: c.Key, Ticket: c.Ticket, UploadID: c.UploadID,
		Endpoint: c.Endpoint, Region: c.Region, PathStyle: c.PathStyle, PartSize: c.PartSize, Parts: c.Parts,
		Created: c.Created, Updated: c.Updated,
	}
	sum, err := l.checksum()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: encode legacy: %w", err)
	}
	l.Checksum = sum
	return json.Marshal(&l)
}

// decodeLegacy reads a first-format record with that format's rules
// (version 1, checksum, byte-identical canonical encoding) and migrates it.
func decodeLegacy(id string, b []byte) (*Record, error) {
	damaged := func(format string, args ...any) error {
		return &DamagedError{ID: id, Reason: "first-format record: " + fmt.Sprintf(format, args...), Salvage: salvage(b)}
	}
	var l legacyRecord
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, damaged("%v", err)
	}
	if l.Version != 1 {
		// The first format had no notion of a newer version: a record
		// under its key that is not version 1 is damage.
		return nil, damaged("version %d", l.Version)
	}
	if sum, err := l.checksum(); err != nil || sum != l.Checksum {
		return nil, damaged("checksum mismatch")
	}
	if canon, err := json.Marshal(&l); err != nil || !bytes.Equal(canon, b) {
		return nil, damaged("not in canonical encoding")
	}
	raw, err := migrate(1, b)
	if err != nil {
		return nil, damaged("%v", err)
	}
	r, err := decodeBody(raw)
	if err != nil {
		return nil, damaged("%v", err)
	}
	r.Parts = l.Parts
	r.normalise()
	if err := r.validate(); err != nil {
		return nil, damaged("%v", err)
	}
	r.Legacy = true
	return r, nil
}
