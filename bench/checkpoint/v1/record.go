package v1

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossup/ossup/internal/partplan"
)

// Version is the record layout this package writes and accepts. A record of
// another version is damaged as far as this build is concerned: resuming it
// with a misread layout could corrupt the object.
const Version = 1

var (
	// ErrNotFound reports that a store has no record under an id.
	ErrNotFound = errors.New("checkpoint: not found")
	// ErrDamaged reports a record that fails its checksum or validation
	// rules; the wrapping error says why. A damaged record must not be
	// resumed.
	ErrDamaged = errors.New("checkpoint: damaged record")
	// ErrFileChanged reports that the file picked for a resume is not the
	// file the record was made for; the wrapping error names the fields.
	ErrFileChanged = errors.New("checkpoint: file changed")
)

// Part is one completed part, as OSS acknowledged it.
type Part struct {
	Number int    `json:"n"`
	ETag   string `json:"etag"`
	CRC64  uint64 `json:"crc"`
	Size   int64  `json:"size"`
}

// FileIdentity identifies a browser File across page reloads. Browsers give
// no stable file id, so identity is what File exposes plus a content
// fingerprint (see Fingerprint).
type FileIdentity struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	// LastModified is File.lastModified, in milliseconds since the epoch.
	LastModified int64  `json:"lastModified"`
	Type         string `json:"type"`
	// Fingerprint is CRC-64/ECMA over FingerprintRanges(Size).
	Fingerprint uint64 `json:"fingerprint"`
}

// Record is the resumable state of one multipart upload.
type Record struct {
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
	// Parts are the completed parts, sorted by Number, numbers unique.
	Parts   []Part    `json:"parts,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Checksum is the hex SHA-256 of the record's canonical JSON without
	// this field; Seal sets it.
	Checksum string `json:"checksum,omitempty"`
}

// Seal normalises r and sets its Checksum: a zero Version becomes Version,
// Parts are sorted by number with duplicates reduced to the last one in
// slice order (a later acknowledgement of a re-sent part supersedes the
// earlier one), an empty Parts becomes nil, and the times lose their
// location and monotonic reading (UTC) so they encode the same way after a
// round trip. Seal does not touch the times otherwise: the caller owns them.
// A record that cannot be encoded (a time outside years 0..9999) gets an
// empty Checksum, which Validate reports.
func (r *Record) Seal() {
	if r.Version == 0 {
		r.Version = Version
	}
	slices.SortStableFunc(r.Parts, func(a, b Part) int { return cmp.Compare(a.Number, b.Number) })
	parts := r.Parts[:0]
	for i, p := range r.Parts {
		if i+1 < len(r.Parts) && r.Parts[i+1].Number == p.Number {
			continue
		}
		parts = append(parts, p)
	}
	r.Parts = parts
	if len(r.Parts) == 0 {
		r.Parts = nil
	}
	r.Created = r.Created.UTC()
	r.Updated = r.Updated.UTC()
	sum, err := r.checksum()
	if err != nil {
		sum = ""
	}
	r.Checksum = sum
}

// Validate reports, wrapped in ErrDamaged, the first rule r breaks: an
// unsupported version, a missing or wrong checksum, an empty Bucket, Key,
// Ticket or UploadID, a string that is not UTF-8, a file size outside
// 0..partplan.MaxObjectSize, a PartSize outside partplan's limits or needing
// more than MaxParts parts for the file, or a part that is out of order,
// duplicated, numbered outside 1..MaxParts or beyond the file's last part,
// has no ETag, or whose size differs from its range in the part plan.
// Endpoint and Region may be empty: the engine can ask the backend again.
func (r *Record) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrDamaged, err)
	}
	return nil
}

func (r *Record) validate() error {
	if r == nil {
		return errors.New("nil record")
	}
	if r.Version != Version {
		return fmt.Errorf("unsupported version %d (this build reads %d)", r.Version, Version)
	}
	if r.Checksum == "" {
		return errors.New("no checksum (not sealed)")
	}
	sum, err := r.checksum()
	if err != nil {
		return fmt.Errorf("cannot encode: %v", err)
	}
	if sum != r.Checksum {
		return errors.New("checksum mismatch")
	}
	for _, f := range []struct{ name, v string }{
		{"bucket", r.Bucket}, {"key", r.Key}, {"ticket", r.Ticket}, {"uploadId", r.UploadID},
	} {
		if f.v == "" {
			return fmt.Errorf("empty %s", f.name)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"file name", r.File.Name}, {"file type", r.File.Type}, {"bucket", r.Bucket}, {"key", r.Key},
		{"ticket", r.Ticket}, {"uploadId", r.UploadID}, {"endpoint", r.Endpoint}, {"region", r.Region},
	} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%s is not UTF-8", f.name)
		}
	}
	size := r.File.Size
	if size < 0 || size > partplan.MaxObjectSize {
		return fmt.Errorf("file size %d outside 0..%d", size, int64(partplan.MaxObjectSize))
	}
	if r.PartSize < partplan.MinPartSize || r.PartSize > partplan.MaxPartSize {
		return fmt.Errorf("part size %d outside %d..%d", r.PartSize, partplan.MinPartSize, int64(partplan.MaxPartSize))
	}
	count := (size + r.PartSize - 1) / r.PartSize
	if count > partplan.MaxParts {
		return fmt.Errorf("part size %d needs %d parts for %d bytes (max %d)", r.PartSize, count, size, partplan.MaxParts)
	}
	plan := partplan.Plan{Size: size, PartSize: r.PartSize, Parts: int(count)}
	prev := 0
	for _, p := range r.Parts {
		switch {
		case p.Number < 1 || p.Number > partplan.MaxParts:
			return fmt.Errorf("part number %d outside 1..%d", p.Number, partplan.MaxParts)
		case p.Number == prev:
			return fmt.Errorf("duplicate part %d", p.Number)
		case p.Number < prev:
			return fmt.Errorf("part %d after part %d", p.Number, prev)
		case p.Number > plan.Parts:
			return fmt.Errorf("part %d beyond the last part %d of the plan", p.Number, plan.Parts)
		case p.ETag == "":
			return fmt.Errorf("part %d has no ETag", p.Number)
		case !utf8.ValidString(p.ETag):
			return fmt.Errorf("part %d ETag is not UTF-8", p.Number)
		}
		if _, want := plan.Part(p.Number); p.Size != want {
			return fmt.Errorf("part %d size %d, plan says %d", p.Number, p.Size, want)
		}
		prev = p.Number
	}
	return nil
}

// Matches reports, wrapped in ErrFileChanged, every identity field in which
// id differs from the file r was made for. Resuming a changed file would
// splice old parts with new content, so any difference refuses the resume.
func (r *Record) Matches(id FileIdentity) error {
	var diffs []string
	have := r.File
	if have.Name != id.Name {
		diffs = append(diffs, fmt.Sprintf("name %q, was %q", id.Name, have.Name))
	}
	if have.Size != id.Size {
		diffs = append(diffs, fmt.Sprintf("size %d, was %d", id.Size, have.Size))
	}
	if have.LastModified != id.LastModified {
		diffs = append(diffs, fmt.Sprintf("lastModified %d, was %d", id.LastModified, have.LastModified))
	}
	if have.Type != id.Type {
		diffs = append(diffs, fmt.Sprintf("type %q, was %q", id.Type, have.Type))
	}
	if have.Fingerprint != id.Fingerprint {
		diffs = append(diffs, fmt.Sprintf("fingerprint %016x, was %016x (content differs)", id.Fingerprint, have.Fingerprint))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %s", ErrFileChanged, strings.Join(diffs, "; "))
	}
	return nil
}

// AddPart records p, replacing a part with the same number, keeping Parts
// sorted. It expects Parts sorted, as Seal and Unmarshal leave them. It does
// not reseal: call Seal (or Store.Save, which seals a copy) afterwards.
func (r *Record) AddPart(p Part) {
	i, found := slices.BinarySearchFunc(r.Parts, p.Number, func(q Part, n int) int { return cmp.Compare(q.Number, n) })
	if found {
		r.Parts[i] = p
		return
	}
	r.Parts = slices.Insert(r.Parts, i, p)
}

// Done is the number of bytes in completed parts.
func (r *Record) Done() int64 {
	var n int64
	for _, p := range r.Parts {
		n += p.Size
	}
	return n
}

// clone returns a copy of r that shares no memory with it.
func (r *Record) clone() *Record {
	c := *r
	c.Parts = slices.Clone(r.Parts)
	return &c
}
