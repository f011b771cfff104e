package partplan

import (
	"errors"
	"fmt"
)

// OSS multipart limits.
const (
	// MinPartSize is the smallest allowed size of every part but the last
	// (OSS checks it at CompleteMultipartUpload).
	MinPartSize = 100 << 10
	// MaxPartSize is the largest part, and also the largest PutObject body.
	MaxPartSize = 5 << 30
	// MaxParts is the highest part number.
	MaxParts = 10000
	// MaxObjectSize is the largest object a multipart upload can build
	// (about 48.8 TB).
	MaxObjectSize = MaxParts * MaxPartSize
)

// Defaults used for zero Prefs fields.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
)

// raiseStep is the granularity of a part size raised to fit MaxParts; whole
// MiB keep part boundaries aligned for readers and for humans reading logs.
const raiseStep = 1 << 20

var (
	// ErrTooLarge reports a size above MaxObjectSize.
	ErrTooLarge = errors.New("partplan: size too large")
	// ErrInvalid reports a negative size or invalid preferences.
	ErrInvalid = errors.New("partplan: invalid input")
)

// Prefs are the caller's preferences; zero fields take the defaults.
type Prefs struct {
	// PartSize is the preferred part size (default 8 MiB). A positive value
	// below MinPartSize is raised to MinPartSize; above MaxPartSize is an error.
	PartSize int64
	// Concurrency is the preferred number of parts in flight (default 4).
	Concurrency int
	// PutThreshold: files smaller than this go in one PutObject (default:
	// the preferred part size). It never makes a file over MaxPartSize single.
	PutThreshold int64
}

// Plan is how one file is uploaded.
type Plan struct {
	Size int64
	// PartSize is the length of every part but the last. For a Single plan
	// it equals Size.
	PartSize int64
	// Parts is the number of parts, 1..MaxParts (1 for a Single plan, also
	// for an empty file).
	Parts int
	// Single means one PutObject instead of a multipart upload.
	Single bool
	// Concurrency is the number of parts to keep in flight, at most Parts.
	Concurrency int
}

// New plans the upload of size bytes. The preferred part size is kept when
// it needs at most MaxParts parts; otherwise it is raised to the smallest
// multiple of 1 MiB that does.
func New(size int64, p Prefs) (Plan, error) {
	switch {
	case size < 0:
		return Plan{}, fmt.Errorf("%w: negative size %d", ErrInvalid, size)
	case size > MaxObjectSize:
		return Plan{}, fmt.Errorf("%w: %d bytes exceeds the maximum %d (%d parts of %d bytes)", ErrTooLarge, size, int64(MaxObjectSize), MaxParts, int64(MaxPartSize))
	case p.PartSize < 0, p.PartSize > MaxPartSize:
		return Plan{}, fmt.Errorf("%w: part size %d outside 0..%d", ErrInvalid, p.PartSize, int64(MaxPartSize))
	case p.Concurrency < 0:
		return Plan{}, fmt.Errorf("%w: negative concurrency %d", ErrInvalid, p.Concurrency)
	case p.PutThreshold < 0:
		return Plan{}, fmt.Errorf("%w: negative put threshold %d", ErrInvalid, p.PutThreshold)
	}
	partSize := p.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	partSize = max(partSize, MinPartSize)
	threshold := p.PutThreshold
	if threshold == 0 {
		threshold = partSize
	}
	conc := p.Concurrency
	if conc == 0 {
		conc = DefaultConcurrency
	}

	// PutObject shares the 5 GiB limit of a part, whatever the threshold says.
	if size == 0 || (size < threshold && size <= MaxPartSize) {
		return Plan{Size: size, PartSize: size, Parts: 1, Single: true, Concurrency: 1}, nil
	}
	if ceilDiv(size, partSize) > MaxParts {
		need := ceilDiv(size, MaxParts)
		// Cannot exceed MaxPartSize: size <= MaxParts*MaxPartSize and
		// MaxPartSize is a multiple of raiseStep.
		partSize = ceilDiv(need, raiseStep) * raiseStep
	}
	parts := int(ceilDiv(size, partSize))
	return Plan{Size: size, PartSize: partSize, Parts: parts, Concurrency: min(conc, parts)}, nil
}

// Part returns the byte range of part n (1-based); the last part may be
// shorter. It panics when n is outside 1..Parts, like a slice index would:
// the caller owns the part numbers.
func (p Plan) Part(n int) (offset, length int64) {
	if n < 1 || n > p.Parts {
		panic(fmt.Sprintf("partplan: part %d outside 1..%d", n, p.Parts))
	}
	offset = int64(n-1) * p.PartSize
	return offset, min(p.PartSize, p.Size-offset)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
