package checkpoint

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

var (
	// ErrNotFound reports that a store has no record under an id.
	ErrNotFound = errors.New("checkpoint: not found")
	// ErrDamaged reports a record that cannot be used: it fails its
	// checksum or validation rules, or it was written by a newer build.
	// Errors from a Store wrap it in a *DamagedError, which says which.
	// A damaged record must not be resumed.
	ErrDamaged = errors.New("checkpoint: damaged record")
	// ErrFileChanged reports that the file picked for a resume is not the
	// file the record was made for; the wrapping error names the fields.
	ErrFileChanged = errors.New("checkpoint: file changed")
)

// DamagedError is a record this build cannot use. errors.Is(err,
// ErrDamaged) holds for it.
type DamagedError struct {
	// ID is the record's id.
	ID string
	// Reason says what is wrong, in plain words.
	Reason string
	// Newer reports a record written by a newer build (a newer envelope
	// or body version). It is not damaged for that build: leave it alone
	// (no abort, no delete, no overwrite), so a rollback does not destroy
	// the uploads of the deploy that follows it.
	Newer bool
	// Salvage, when not nil, is what could still be read: at least the
	// Ticket and UploadID, so the old multipart upload can be aborted
	// rather than left to the janitor. Its other fields may be empty or,
	// unverified by any checksum, wrong: use it only to abort.
	Salvage *Record
}

func (e *DamagedError) Error() string {
	s := "checkpoint: damaged record " + e.ID + ": " + e.Reason
	if e.Newer {
		s = "checkpoint: record " + e.ID + " is of a newer format: " + e.Reason
	}
	if e.Salvage != nil {
		s += " (upload id salvaged)"
	}
	return s
}

// Is makes errors.Is(err, ErrDamaged) hold.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// AsDamaged returns the *DamagedError in err's chain, or nil.
func AsDamaged(err error) *DamagedError {
	var de *DamagedError
	if errors.As(err, &de) {
		return de
	}
	return nil
}

// Phase is how far an upload got.
type Phase string

const (
	// PhaseSending: data is still being sent (parts, or the single PUT).
	PhaseSending Phase = "sending"
	// PhaseStored: the object is complete on OSS but the backend has not
	// verified it yet. Such a "verify-only" record must survive outages,
	// reloads and restarts: resuming it sends no data, only the
	// backend's complete.
	PhaseStored Phase = "stored"
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
	// Path is the file's path below a picked or dropped folder, ending
	// with Name ("" for a file picked alone): two equal files in two
	// folders are two uploads.
	Path string `json:"path,omitempty"`
}

// Record is the resumable state of one upload. It is small and does not
// grow with the upload: the completed parts are stored as separate entries
// (Store.SavePart), one small write per part; Load gathers them into Parts.
type Record struct {
	File   FileIdentity `json:"file"`
	Bucket string       `json:"bucket"`
	Key    string       `json:"key"`
	Ticket string       `json:"ticket"`
	// TicketExpires is when the backend stops accepting Ticket; zero if
	// unknown (records migrated from the first format).
	TicketExpires time.Time `json:"ticketExpires,omitzero"`
	// UploadID is the multipart upload's id; empty for a single PUT.
	UploadID  string `json:"uploadId,omitempty"`
	Endpoint  string `json:"endpoint"`
	Region    string `json:"region"`
	PathStyle bool   `json:"pathStyle,omitempty"`
	// PartSize is the multipart plan's part size; 0 means a single PUT.
	PartSize int64 `json:"partSize"`
	// Concurrency is the number of parts sent at once (0: the engine's
	// default).
	Concurrency int `json:"concurrency,omitempty"`
	// CRC64 is the object's CRC-64/ECMA when CRCKnown: the whole file's
	// for a stored single PUT, the combined parts' for a stored multipart
	// upload. A verify-only record needs it without its parts.
	CRC64    uint64    `json:"-"`
	CRCKnown bool      `json:"-"`
	Phase    Phase     `json:"phase"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`

	// Parts are the completed parts, sorted by Number, numbers unique. They
	// are not part of the record's encoding: Load fills them from the part
	// entries, and Save writes them only when migrating a Legacy record.
	Parts []Part `json:"-"`
	// Legacy marks a record read from the first checkpoint format. Saving
	// it migrates it: Save then writes its Parts as part entries and the
	// record in the current format, and deletes the old record and its
	// anchor copy.
	Legacy bool `json:"-"`
}

// Single reports whether r is for a single PUT (no multipart upload).
func (r *Record) Single() bool { return r.PartSize == 0 }

// Validate reports, wrapped in ErrDamaged, the first rule r breaks: an empty
// Bucket, Key or Ticket, an empty UploadID for a multipart upload (or one
// for a single PUT), an unknown Phase, a string that is not UTF-8, a file
// size outside 0..partplan.MaxObjectSize, a PartSize other than 0 outside
// partplan's limits or needing more than MaxParts parts for the file, a
// stored record without its CRC-64, or a part that is out of order,
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
	for _, f := range []struct{ name, v string }{
		{"bucket", r.Bucket}, {"key", r.Key}, {"ticket", r.Ticket},
	} {
		if f.v == "" {
			return fmt.Errorf("empty %s", f.name)
		}
	}
	switch {
	case r.PartSize != 0 && r.UploadID == "":
		return errors.New("empty uploadId")
	case r.PartSize == 0 && r.UploadID != "":
		return errors.New("an uploadId with no part size")
	case r.PartSize == 0 && len(r.Parts) > 0:
		return errors.New("parts with no part size")
	}
	switch r.Phase {
	case PhaseSending:
	case PhaseStored:
		if !r.CRCKnown {
			return errors.New("stored without its CRC-64")
		}
	default:
		return fmt.Errorf("unknown phase %q", r.Phase)
	}
	if r.Concurrency < 0 {
		return fmt.Errorf("concurrency %d", r.Concurrency)
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
	if r.PartSize == 0 {
		return nil
	}
	if r.PartSize < partplan.MinPartSize || r.PartSize > partplan.MaxPartSize {
		return fmt.Errorf("part size %d outside %d..%d", r.PartSize, partplan.MinPartSize, int64(partplan.MaxPartSize))
	}
	plan, err := r.plan()
	if err != nil {
		return err
	}
	prev := 0
	for _, p := range r.Parts {
		if err := checkPart(plan, p); err != nil {
			return err
		}
		switch {
		case p.Number == prev:
			return fmt.Errorf("duplicate part %d", p.Number)
		case p.Number < prev:
			return fmt.Errorf("part %d after part %d", p.Number, prev)
		}
		prev = p.Number
	}
	return nil
}

// plan is r's multipart plan; r.PartSize must be in partplan's limits.
func (r *Record) plan() (partplan.Plan, error) {
	size := r.File.Size
	count := (size + r.PartSize - 1) / r.PartSize
	if count > partplan.MaxParts {
		return partplan.Plan{}, fmt.Errorf("part size %d needs %d parts for %d bytes (max %d)", r.PartSize, count, size, partplan.MaxParts)
	}
	return partplan.Plan{Size: size, PartSize: r.PartSize, Parts: int(count)}, nil
}

// checkPart checks one part against the plan.
func checkPart(plan partplan.Plan, p Part) error {
	switch {
	case p.Number < 1 || p.Number > partplan.MaxParts:
		return fmt.Errorf("part number %d outside 1..%d", p.Number, partplan.MaxParts)
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
	if have.Path != id.Path {
		diffs = append(diffs, fmt.Sprintf("path %q, was %q", id.Path, have.Path))
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
// sorted. It expects Parts sorted, as Load leaves them. It only changes r in
// memory: Store.SavePart stores a part.
func (r *Record) AddPart(p Part) {
	i, found := slices.BinarySearchFunc(r.Parts, p.Number, func(q Part, n int) int { return cmp.Compare(q.Number, n) })
	if found {
		r.Parts[i] = p
		return
	}
	r.Parts = slices.Insert(r.Parts, i, p)
}

// Done is the number of bytes in completed parts; for a stored record, the
// file's size.
func (r *Record) Done() int64 {
	if r.Phase == PhaseStored {
		return r.File.Size
	}
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

// normalise sorts Parts by number, a later duplicate in slice order
// replacing an earlier one, and makes the times UTC without a monotonic
// reading, so they encode the same way after a round trip.
func (r *Record) normalise() {
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
	r.Created = r.Created.UTC().Round(0)
	r.Updated = r.Updated.UTC().Round(0)
	if !r.TicketExpires.IsZero() {
		r.TicketExpires = r.TicketExpires.UTC().Round(0)
	}
}
