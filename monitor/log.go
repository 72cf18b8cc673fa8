package monitor

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
)

// Sink stores events somewhere: memory (Ring), a JSON-lines file
// (FileSink), the alerting engine, a metrics collector, or a host's own.
//
// The Log calls Write with events in Seq order, one call at a time per
// sink (never concurrently), and waits for it: keep it fast. Write must
// honour ctx and must not retain evs' slices. A non-nil error means the
// events may not all be stored: the Log keeps the whole batch in the
// sink's backlog and passes it again, before newer events, on the next
// Record or Flush. A sink that stored part of a batch before failing sees
// those events again; Seq identifies them, so a reader can drop the
// repeats.
type Sink interface {
	Write(ctx context.Context, evs []Event) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, evs []Event) error

// Write calls f(ctx, evs).
func (f SinkFunc) Write(ctx context.Context, evs []Event) error { return f(ctx, evs) }

var _ Sink = SinkFunc(nil)

// Recorder records events: the Log does. The adapters of this package
// (ReaperObserver, Auditor, ImportAudit) record through it.
type Recorder interface {
	Record(ctx context.Context, evs ...Event) error
}

// RecorderFunc adapts a function to a Recorder.
type RecorderFunc func(ctx context.Context, evs ...Event) error

// Record calls f(ctx, evs...).
func (f RecorderFunc) Record(ctx context.Context, evs ...Event) error { return f(ctx, evs...) }

var (
	_ Recorder = RecorderFunc(nil)
	_ Recorder = (*Log)(nil)
)

// DefaultMaxBacklog is LogConfig.MaxBacklog's default.
const DefaultMaxBacklog = 10_000

// LogConfig configures a Log. The zero value means the defaults.
type LogConfig struct {
	// Capacity is how many of the newest events the Log keeps in memory
	// for Query; the memory grows with the events held, up to it. Must
	// be ≥ 0; 0 means the default. Default: 10,000 (a few MiB).
	Capacity int `json:"capacity,omitempty" yaml:"capacity,omitempty"`
	// MaxBacklog is how many events the Log holds for one failing sink,
	// to pass again once it recovers; beyond it the oldest are dropped
	// and reported (ErrDropped). Must be ≥ 0; 0 means the default.
	// Default: 10,000, about ten minutes of a busy fleet at 16 events/s.
	MaxBacklog int `json:"max_backlog,omitempty" yaml:"max_backlog,omitempty"`
	// ChangeCapacity is how many of the newest changes (Event.IsChange:
	// executed actions, scaling steps and rollbacks, failed
	// verifications) the Log keeps in memory besides, for QueryChanges:
	// they are rare beside verdicts and decisions, and a report's
	// realised savings and capacity need them from the start, long after
	// the events around them have left the newest Capacity. Must be ≥ 0;
	// 0 means the default. Default: 10,000.
	ChangeCapacity int `json:"change_capacity,omitempty" yaml:"change_capacity,omitempty"`
}

// Validate returns a *provider.InvalidError naming a negative field.
func (c LogConfig) Validate() error {
	if c.Capacity < 0 {
		return provider.Invalid("capacity", c.Capacity, "must be ≥ 0; 0 means the default 10000")
	}
	if c.MaxBacklog < 0 {
		return provider.Invalid("max_backlog", c.MaxBacklog, "must be ≥ 0; 0 means the default 10000")
	}
	if c.ChangeCapacity < 0 {
		return provider.Invalid("change_capacity", c.ChangeCapacity, "must be ≥ 0; 0 means the default 10000")
	}
	return nil
}

func (c LogConfig) withDefaults() LogConfig {
	if c.Capacity == 0 {
		c.Capacity = DefaultRingCapacity
	}
	if c.ChangeCapacity == 0 {
		c.ChangeCapacity = DefaultRingCapacity
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = DefaultMaxBacklog
	}
	return c
}

// Option wires a collaborator into a Log.
type Option func(*Log)

// WithSink adds a sink named name (for errors and Stats). Sinks receive
// events in the order they were added. A nil s (or a nil SinkFunc) is
// refused by NewLog.
func WithSink(name string, s Sink) Option {
	return func(l *Log) { l.sinks = append(l.sinks, &sinkState{name: name, sink: s}) }
}

// Log is the event log: it numbers events, keeps the newest in memory for
// queries (and the newest changes apart, for QueryChanges) and passes
// every event to its sinks. A sink that fails does not
// stop the others; its events wait in its backlog and are passed again
// (Record, Flush), so none is lost unless the backlog overflows, which is
// reported. A Log is safe for concurrent use; Record calls are serialised,
// so every sink sees events in Seq order. Make one with NewLog.
type Log struct {
	cfg     LogConfig
	mem     *Ring
	changes *Ring      // the newest changes (Event.IsChange)
	mu      sync.Mutex // serialises Record and Flush, held while sinks write
	// stat guards seq and the sinks' counts and backlogs, which
	// Record and Flush change with mu held too: LastSeq and Stats read
	// them under stat alone, so that they answer while a sink's Write
	// hangs.
	stat  sync.Mutex
	seq   uint64
	sinks []*sinkState
}

type sinkState struct {
	name     string
	sink     Sink
	pending  []Event
	dropped  int
	failures int
	lastErr  error
}

// NewLog returns a Log for cfg with the sinks of opts. It returns a
// *provider.InvalidError when cfg is invalid, a sink is nil or two sinks
// share a name. It starts no goroutine.
func NewLog(cfg LogConfig, opts ...Option) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	mem, _ := NewRing(cfg.Capacity) // capacities > 0 after the defaults
	changes, _ := NewRing(cfg.ChangeCapacity)
	l := &Log{cfg: cfg, mem: mem, changes: changes}
	for _, o := range opts {
		o(l)
	}
	seen := map[string]bool{}
	for i, s := range l.sinks {
		field := "sinks[" + strconv.Itoa(i) + "]"
		switch {
		case check.Nil(s.sink):
			return nil, provider.Invalid(field, s.name, "sink is nil")
		case seen[s.name]:
			return nil, provider.Invalid(field, s.name, "name is repeated")
		}
		seen[s.name] = true
	}
	return l, nil
}

// Config returns the configuration with defaults filled in.
func (l *Log) Config() LogConfig { return l.cfg }

// Record validates evs, numbers them (Seq) and passes them to the memory
// and every sink, in one batch. It returns a *provider.InvalidError naming
// the first invalid event ("events[2].time") and then records none of
// them. A failing sink does not stop the others: its error comes back as a
// *SinkError (joined with the others'), and the events wait in its backlog
// for the next Record or Flush; they are recorded.
func (l *Log) Record(ctx context.Context, evs ...Event) error {
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			return provider.Within("events["+strconv.Itoa(i)+"]", err)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	batch := make([]Event, len(evs))
	// Numbered and in memory under stat, so that an event LastSeq
	// reports is one Query finds (the rings' writes never block).
	l.stat.Lock()
	for i, e := range evs {
		l.seq++
		e = e.clone()
		e.Seq = l.seq
		batch[i] = e
	}
	_ = l.mem.Write(ctx, batch) // never fails
	var changed []Event         // rare: most batches allocate nothing here
	for _, e := range batch {
		if e.IsChange() {
			changed = append(changed, e)
		}
	}
	if len(changed) > 0 {
		_ = l.changes.Write(ctx, changed)
	}
	l.stat.Unlock()
	return l.deliver(ctx, batch)
}

// Flush passes every sink's backlog again. It returns the *SinkErrors of
// those still failing, joined; nil when every backlog is empty.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deliver(ctx, nil)
}

// deliver passes each sink its backlog followed by batch. l.mu is held;
// l.stat is taken around each sink's changes, not across its Write.
func (l *Log) deliver(ctx context.Context, batch []Event) error {
	var errs []error
	for _, s := range l.sinks {
		out := batch
		if len(s.pending) > 0 {
			out = append(s.pending, batch...)
		}
		if len(out) == 0 {
			continue
		}
		err := s.sink.Write(ctx, out)
		l.stat.Lock()
		if err == nil {
			s.pending, s.lastErr = nil, nil
			l.stat.Unlock()
			continue
		}
		s.failures++
		s.lastErr = err
		dropped := 0
		if over := len(out) - l.cfg.MaxBacklog; over > 0 {
			dropped = over
			out = out[over:]
		}
		s.dropped += dropped
		s.pending = append([]Event(nil), out...)
		pending := len(s.pending)
		l.stat.Unlock()
		errs = append(errs, &SinkError{Sink: s.name, Pending: pending, Dropped: dropped, Err: err})
	}
	return errors.Join(errs...)
}

// Query returns copies of the events in memory (the newest
// LogConfig.Capacity) that match q, oldest first. It returns a
// *provider.InvalidError naming the field when q is invalid.
func (l *Log) Query(q Query) ([]Event, error) { return l.mem.Query(q) }

// QueryChanges returns copies of the changes in memory (Event.IsChange;
// the newest LogConfig.ChangeCapacity) that match q, oldest first, as
// Query does. The newest of them are also in Query's memory; WithChanges
// gives events from Query with the older changes before them.
func (l *Log) QueryChanges(q Query) ([]Event, error) { return l.changes.Query(q) }

// ChangeSource keeps the executed changes apart from its events, for
// longer; *Log is one.
type ChangeSource interface {
	// QueryChanges returns the changes q selects, oldest first.
	QueryChanges(q Query) ([]Event, error)
}

var _ ChangeSource = (*Log)(nil)

// WithChanges returns events, every event src holds in memory (its
// Query with no filter), preceded by the changes src keeps that were
// recorded before the first of them (QueryChanges): what a report over
// those events reads to measure realised savings and capacity from when
// they began. from is the earliest Time of events (zero when there are
// none; events recorded later may carry earlier times): as
// report.Input.From it keeps the report's lists and counts to the events
// themselves. report.Build refuses a From after its Now, which events
// dated after the host's clock give: pass the earlier of the two.
func WithChanges(src ChangeSource, events []Event) (all []Event, from time.Time, err error) {
	for i, e := range events {
		if i == 0 || e.Time.Before(from) {
			from = e.Time
		}
	}
	older, err := src.QueryChanges(Query{})
	if err != nil {
		return events, from, err
	}
	if len(events) > 0 {
		first := events[0].Seq
		n := 0
		for n < len(older) && older[n].Seq < first {
			n++
		}
		older = older[:n]
	}
	if len(older) == 0 {
		return events, from, nil
	}
	return append(older, events...), from, nil
}

// LastSeq returns the Seq of the newest event recorded, 0 when none, which
// Query then finds in memory (while it holds it). It does not wait for a
// Record whose sinks are still writing: their events are numbered and in
// memory already.
func (l *Log) LastSeq() uint64 {
	l.stat.Lock()
	defer l.stat.Unlock()
	return l.seq
}

// SinkStats is the state of one sink of a Log.
type SinkStats struct {
	// Name is the sink's name.
	Name string `json:"name"`
	// Pending is the number of events in its backlog.
	Pending int `json:"pending"`
	// Dropped is the number of events dropped from its full backlog.
	Dropped int `json:"dropped"`
	// Failures is the number of failed Write calls.
	Failures int `json:"failures"`
	// LastError is the error of the last Write when it failed; empty
	// after a success.
	LastError string `json:"last_error,omitempty"`
}

// Stats returns the state of every sink, in the order they were added,
// as of the last Write that returned: it answers while a sink's Write
// hangs (a health check that reads it does not hang with the sink).
func (l *Log) Stats() []SinkStats {
	l.stat.Lock()
	defer l.stat.Unlock()
	out := make([]SinkStats, len(l.sinks))
	for i, s := range l.sinks {
		out[i] = SinkStats{Name: s.name, Pending: len(s.pending), Dropped: s.dropped, Failures: s.failures}
		if s.lastErr != nil {
			out[i].LastError = s.lastErr.Error()
		}
	}
	return out
}
