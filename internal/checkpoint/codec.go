package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// The stored form of a record is an envelope around a body:
//
//	{"format":"ossup-checkpoint","v":1,"bv":2,"sum":"<hex>","body":{...}}
//
// v is the envelope's version: how the envelope itself is laid out and what
// sum is computed over. bv is the body's version: the record's fields. They
// change independently. A newer v or bv is not damage: it is reported as
// DamagedError.Newer and left alone. An older bv is migrated forward, one
// version at a time (migrations). Fields this build does not know are
// ignored, so adding a field needs no new version; a new bv is for changes
// an older build would misread.
//
// sum is the hex SHA-256 of bv in decimal, a newline, and the body's bytes
// exactly as stored: any encoding of the body is accepted, and every byte
// of it is still covered, without re-encoding the record to compare.
const (
	// EnvelopeVersion is the envelope layout this build writes and reads.
	EnvelopeVersion = 1
	// BodyVersion is the record layout this build writes. Version 1 is
	// the first checkpoint format (no envelope, parts inside the record),
	// which this build reads and migrates (Record.Legacy).
	BodyVersion = 2

	formatName = "ossup-checkpoint"
)

type envelope struct {
	Format string          `json:"format"`
	V      int             `json:"v"`
	BV     int             `json:"bv"`
	Sum    string          `json:"sum"`
	Body   json.RawMessage `json:"body"`
}

// body is the stored form of a Record of BodyVersion.
type body struct {
	Record
	CRC64 string `json:"crc64,omitempty"` // hex, when Record.CRCKnown
}

func bodySum(bv int, b []byte) string {
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(bv) + "\n"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// encodeRecord returns r's stored form. r must be valid and normalised.
func encodeRecord(r *Record) ([]byte, error) {
	b := body{Record: *r}
	if r.CRCKnown {
		b.CRC64 = strconv.FormatUint(r.CRC64, 16)
	}
	raw, err := json.Marshal(&b)
	if err != nil {
		return nil, err
	}
	return json.Marshal(&envelope{Format: formatName, V: EnvelopeVersion, BV: BodyVersion, Sum: bodySum(BodyVersion, raw), Body: raw})
}

// migrations[v] rewrites a body of version v into one of version v+1.
var migrations = map[int]func(b map[string]json.RawMessage) error{
	// 1 → 2: the first format kept its version and checksum in the body
	// and the parts inside it (moved to part entries by the caller); it
	// was only ever written while sending.
	1: func(b map[string]json.RawMessage) error {
		delete(b, "version")
		delete(b, "checksum")
		delete(b, "parts")
		b["phase"] = json.RawMessage(`"` + PhaseSending + `"`)
		return nil
	},
}

// migrate brings raw, a body of version bv, to BodyVersion.
func migrate(bv int, raw []byte) ([]byte, error) {
	if bv == BodyVersion {
		return raw, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("body is not an object")
	}
	for v := bv; v < BodyVersion; v++ {
		f := migrations[v]
		if f == nil {
			return nil, fmt.Errorf("no migration from body version %d", v)
		}
		if err := f(m); err != nil {
			return nil, fmt.Errorf("migrate body version %d: %w", v, err)
		}
	}
	return json.Marshal(m)
}

// decodeBody decodes a body of BodyVersion and validates it.
func decodeBody(raw []byte) (*Record, error) {
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	r := &b.Record
	if b.CRC64 != "" {
		crc, err := strconv.ParseUint(b.CRC64, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("crc64 %q: %v", b.CRC64, err)
		}
		r.CRC64, r.CRCKnown = crc, true
	}
	r.normalise()
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeRecord decodes a record's stored form. Every failure is a
// *DamagedError, with Newer or a Salvage where they apply.
func decodeRecord(id string, b []byte) (*Record, error) {
	damaged := func(format string, args ...any) error {
		return &DamagedError{ID: id, Reason: fmt.Sprintf(format, args...), Salvage: salvage(b)}
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, damaged("not a checkpoint envelope: %v", err)
	}
	switch {
	case env.Format != formatName:
		return nil, damaged("not a checkpoint envelope (format %q)", env.Format)
	case env.V > EnvelopeVersion:
		return nil, &DamagedError{ID: id, Newer: true, Reason: fmt.Sprintf("envelope version %d (this build reads up to %d)", env.V, EnvelopeVersion)}
	case env.V < 1:
		return nil, damaged("envelope version %d", env.V)
	case env.Sum != bodySum(env.BV, env.Body):
		return nil, damaged("checksum mismatch")
	case env.BV > BodyVersion:
		return nil, &DamagedError{ID: id, Newer: true, Reason: fmt.Sprintf("body version %d (this build reads up to %d)", env.BV, BodyVersion)}
	case env.BV < 1:
		return nil, damaged("body version %d", env.BV)
	}
	raw, err := migrate(env.BV, env.Body)
	if err != nil {
		return nil, damaged("%v", err)
	}
	r, err := decodeBody(raw)
	if err != nil {
		return nil, damaged("%v", err)
	}
	return r, nil
}

// salvage recovers the ticket and upload id from the bytes of a damaged
// record, so its multipart upload can still be aborted. It decodes what it
// can without the checksum: the whole body if the JSON still parses, or
// else the two fields wherever they can still be found. Nothing here is
// trusted beyond aborting: the backend checks the ticket's signature, and
// a wrong upload id aborts nothing. nil if there is no ticket and upload id.
func salvage(b []byte) *Record {
	var r Record
	var env envelope
	if json.Unmarshal(b, &env) == nil && len(env.Body) > 0 {
		var bd body
		if json.Unmarshal(env.Body, &bd) == nil {
			r = bd.Record
		}
	} else {
		// A first-format record is the body itself.
		var bd body
		if json.Unmarshal(b, &bd) == nil {
			r = bd.Record
		}
	}
	find := func(key string) string {
		lit := jsonStringAfter(b, key)
		if lit == nil {
			return ""
		}
		var s string
		if json.Unmarshal(lit, &s) != nil {
			return ""
		}
		return s
	}
	if r.Ticket == "" {
		r.Ticket = find(`"ticket"`)
	}
	if r.UploadID == "" {
		r.UploadID = find(`"uploadId"`)
	}
	if r.Ticket == "" || r.UploadID == "" {
		return nil
	}
	r.Parts, r.Legacy = nil, false
	return &r
}

// jsonStringAfter finds the first place in b where key (a quoted JSON name)
// is followed by a colon and a JSON string literal, and returns the literal
// with its quotes; whitespace is JSON's own, and an escape may not be a line
// break: what the regexp `key\s*:\s*("(?:[^"\\]|\\.)*")` found (a test
// compares them). A scanner, because regexp cost the browser engine about
// 86 KB of its 1.22 MB (brotli).
func jsonStringAfter(b []byte, key string) []byte {
	for from := 0; ; {
		i := bytes.Index(b[from:], []byte(key))
		if i < 0 {
			return nil
		}
		// The next try starts one byte on: a key may begin inside this
		// one (at its closing quote).
		at := from + i
		from = at + 1
		j := skipSpace(b, at+len(key))
		if j == len(b) || b[j] != ':' {
			continue
		}
		if lit := stringLiteral(b, skipSpace(b, j+1)); lit != nil {
			return lit
		}
	}
}

// stringLiteral is the JSON string literal starting at b[i], quotes
// included, or nil if there is none (no opening quote, no closing one, or an
// escaped line break).
func stringLiteral(b []byte, i int) []byte {
	if i == len(b) || b[i] != '"' {
		return nil
	}
	for k := i + 1; k < len(b); k++ {
		switch b[k] {
		case '"':
			return b[i : k+1]
		case '\\':
			if k+1 == len(b) || b[k+1] == '\n' {
				return nil
			}
			k++
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == '\f') {
		i++
	}
	return i
}

// A part entry is one completed part, stored on its own, as one line of
// text (a resume reads thousands of them: JSON would cost ten times more
// to decode, in wasm too):
//
//	1 <crc32c of the rest, hex> <upload id> <number> <size> <crc-64 hex> <etag>
//
// The leading 1 is the entry's version: an entry of another version is not
// read. The ETag comes last, so it may hold anything but a newline; the
// upload id holds no space (SavePart refuses one). An entry names its
// upload, so entries left by an earlier upload of the same file never pass
// for this one's.
const partVersion = "1"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func partSum(s string) string {
	return strconv.FormatUint(uint64(crc32.Checksum([]byte(s), castagnoli)), 16)
}

func encodePart(uploadID string, p Part) []byte {
	body := uploadID + " " + strconv.Itoa(p.Number) + " " + strconv.FormatInt(p.Size, 10) + " " +
		strconv.FormatUint(p.CRC64, 16) + " " + p.ETag
	return []byte(partVersion + " " + partSum(body) + " " + body)
}

// decodePart decodes a part entry; ok is false for anything it cannot
// vouch for (damaged, of another version): that part is simply not known,
// and is found through ListParts or sent again.
func decodePart(b []byte) (uploadID string, p Part, ok bool) {
	v, rest, ok1 := strings.Cut(string(b), " ")
	sum, body, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || v != partVersion || sum != partSum(body) {
		return "", Part{}, false
	}
	f := strings.SplitN(body, " ", 5)
	if len(f) != 5 {
		return "", Part{}, false
	}
	n, err1 := strconv.Atoi(f[1])
	size, err2 := strconv.ParseInt(f[2], 10, 64)
	crc, err3 := strconv.ParseUint(f[3], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", Part{}, false
	}
	return f[0], Part{Number: n, ETag: f[4], CRC64: crc, Size: size}, true
}
