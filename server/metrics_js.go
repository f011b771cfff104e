package server

// Metrics is a no-op in the Workers build: in-process counters would see
// only the requests of one Go instance of one isolate (there are many, and
// they come and go), and Prometheus would cost size and start-up time.
// Workers analytics stand in.
type Metrics struct {
	sessions, refreshes, aborts noopCounter
	completes                   noopCounterVec
}

type noopCounter struct{}

func (noopCounter) Inc() {}

type noopCounterVec struct{}

func (noopCounterVec) WithLabelValues(...string) noopCounter { return noopCounter{} }

// NewMetrics returns the no-op metrics.
func NewMetrics(func() (calls, hits int64)) *Metrics { return &Metrics{} }
