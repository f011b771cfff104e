package engine

// Logger is what the engine logs through, in log/slog's style: a message
// and key-value pairs. A *slog.Logger is one. The engine does not import
// log/slog itself: the browser build never logs, and slog with log cost
// engine.wasm about 48 KB brotli.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

// discard is the default Logger.
type discard struct{}

func (discard) Debug(string, ...any) {}
func (discard) Info(string, ...any)  {}
func (discard) Warn(string, ...any)  {}
func (discard) Error(string, ...any) {}

// withArgs is l with args before every line's own (slog's Logger.With).
type withArgs struct {
	l    Logger
	args []any
}

func (w *withArgs) with(args []any) []any {
	return append(append(make([]any, 0, len(w.args)+len(args)), w.args...), args...)
}

func (w *withArgs) Debug(msg string, args ...any) { w.l.Debug(msg, w.with(args)...) }
func (w *withArgs) Info(msg string, args ...any)  { w.l.Info(msg, w.with(args)...) }
func (w *withArgs) Warn(msg string, args ...any)  { w.l.Warn(msg, w.with(args)...) }
func (w *withArgs) Error(msg string, args ...any) { w.l.Error(msg, w.with(args)...) }
