package monitor

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Functions wrap them with context; test
// with errors.Is.
var (
	// ErrSink means a sink could not take events. The events are kept in
	// the sink's backlog and retried (see Log.Flush); a *SinkError
	// matches it.
	ErrSink = errors.New("monitor: sink failed")
	// ErrDropped means a sink's backlog was full and its oldest events
	// were dropped. A *SinkError says how many.
	ErrDropped = errors.New("monitor: backlog full, events dropped")
	// ErrClosed means a FileSink was used after Close.
	ErrClosed = errors.New("monitor: closed")
)

// SinkError reports a sink that failed to take events. It matches ErrSink,
// and ErrDropped when Dropped > 0, and unwraps to the sink's error.
type SinkError struct {
	// Sink is the sink's name (WithSink).
	Sink string
	// Pending is how many events wait in the sink's backlog for a retry.
	Pending int
	// Dropped is how many events this call dropped from the full backlog.
	Dropped int
	// Err is the sink's error.
	Err error
}

// Error implements error.
func (e *SinkError) Error() string {
	s := fmt.Sprintf("monitor: sink %q: %d events pending", e.Sink, e.Pending)
	if e.Dropped > 0 {
		s += fmt.Sprintf(", %d dropped", e.Dropped)
	}
	return s + ": " + fmt.Sprint(e.Err)
}

// Is reports whether target is ErrSink, or ErrDropped when events were
// dropped.
func (e *SinkError) Is(target error) bool {
	return target == ErrSink || (target == ErrDropped && e.Dropped > 0)
}

// Unwrap returns the sink's error.
func (e *SinkError) Unwrap() error { return e.Err }
