package monitor_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
)

// flaky is a sink that fails while fail is set and remembers what it
// stored.
type flaky struct {
	mu   sync.Mutex
	fail bool
	got  []monitor.Event
}

func (f *flaky) Write(_ context.Context, evs []monitor.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("disk on fire")
	}
	f.got = append(f.got, evs...)
	return nil
}

func (f *flaky) seqs() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]uint64, len(f.got))
	for i, e := range f.got {
		out[i] = e.Seq
	}
	return out
}

func TestLogRecordAndQuery(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	assert.Equal(t, monitor.DefaultRingCapacity, l.Config().Capacity)
	assert.Equal(t, monitor.DefaultMaxBacklog, l.Config().MaxBacklog)
	require.NoError(t, l.Record(t.Context(),
		ev(monitor.KindVerdict, "i-1", 0),
		ev(monitor.KindBlocked, "i-2", time.Minute),
		ev(monitor.KindAction, "i-1", 2*time.Minute),
		ev(monitor.KindVerification, "i-1", 3*time.Minute)))
	assert.Equal(t, uint64(4), l.LastSeq())

	tests := []struct {
		name string
		give monitor.Query
		want []uint64
	}{
		{"all", monitor.Query{}, []uint64{1, 2, 3, 4}},
		{"resource", monitor.Query{ResourceID: "i-1"}, []uint64{1, 3, 4}},
		{"kinds", monitor.Query{Kinds: []monitor.Kind{monitor.KindBlocked, monitor.KindAction}}, []uint64{2, 3}},
		{"from is inclusive", monitor.Query{From: t0.Add(time.Minute)}, []uint64{2, 3, 4}},
		{"to is exclusive", monitor.Query{To: t0.Add(2 * time.Minute)}, []uint64{1, 2}},
		{"limit keeps the newest", monitor.Query{Limit: 2}, []uint64{3, 4}},
		{"after seq", monitor.Query{AfterSeq: 3}, []uint64{4}},
		{"source", monitor.Query{Source: "scaling"}, nil},
		{"resource and kind", monitor.Query{ResourceID: "i-1", Kinds: []monitor.Kind{monitor.KindBlocked}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := l.Query(tt.give)
			require.NoError(t, err)
			var seqs []uint64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			assert.Equal(t, tt.want, seqs)
		})
	}
}

func TestLogRefusesInvalid(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	bad := ev(monitor.KindAction, "i-1", 0)
	bad.Time = time.Time{}
	err = l.Record(t.Context(), ev(monitor.KindAction, "i-0", 0), bad)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "events[1].time", ie.Field)
	got, err := l.Query(monitor.Query{})
	require.NoError(t, err)
	assert.Empty(t, got, "a batch with an invalid event records nothing")

	for _, q := range []struct {
		give  monitor.Query
		field string
	}{
		{monitor.Query{Kinds: []monitor.Kind{monitor.KindRun, "boom"}}, "kinds[1]"},
		{monitor.Query{From: t0, To: t0}, "to"},
		{monitor.Query{Limit: -1}, "limit"},
	} {
		_, err := l.Query(q.give)
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, q.field, ie.Field)
	}
	for _, c := range []struct {
		give  monitor.LogConfig
		field string
	}{{monitor.LogConfig{Capacity: -1}, "capacity"}, {monitor.LogConfig{MaxBacklog: -1}, "max_backlog"}} {
		_, err := monitor.NewLog(c.give)
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, c.field, ie.Field)
	}
	_, err = monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("x", nil))
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("x", monitor.SinkFunc(nil)))
	require.ErrorIs(t, err, provider.ErrInvalid)
	r, _ := monitor.NewRing(1)
	_, err = monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("x", r), monitor.WithSink("x", r))
	require.ErrorIs(t, err, provider.ErrInvalid, "repeated sink names")
}

// A failing sink does not stop the others, loses nothing while its
// backlog has room, and gets everything in order once it recovers.
func TestLogFailingSink(t *testing.T) {
	t.Parallel()
	bad, good := &flaky{fail: true}, &flaky{}
	l, err := monitor.NewLog(monitor.LogConfig{MaxBacklog: 3},
		monitor.WithSink("bad", bad), monitor.WithSink("good", good))
	require.NoError(t, err)

	err = l.Record(t.Context(), ev(monitor.KindVerdict, "i-1", 0), ev(monitor.KindVerdict, "i-2", 0))
	var se *monitor.SinkError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, monitor.ErrSink)
	require.NotErrorIs(t, err, monitor.ErrDropped)
	assert.Equal(t, "bad", se.Sink)
	assert.Equal(t, 2, se.Pending)
	assert.Equal(t, []uint64{1, 2}, good.seqs(), "the other sink still receives")
	got, _ := l.Query(monitor.Query{})
	assert.Len(t, got, 2, "and the memory has them")

	err = l.Record(t.Context(), ev(monitor.KindVerdict, "i-3", 0), ev(monitor.KindVerdict, "i-4", 0))
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, monitor.ErrDropped)
	assert.Equal(t, 1, se.Dropped, "four pending, room for three")
	assert.Equal(t, 3, se.Pending)
	st := l.Stats()
	require.Len(t, st, 2)
	assert.Equal(t, monitor.SinkStats{Name: "bad", Pending: 3, Dropped: 1, Failures: 2, LastError: "disk on fire"}, st[0])
	assert.Equal(t, monitor.SinkStats{Name: "good"}, st[1])

	bad.mu.Lock()
	bad.fail = false
	bad.mu.Unlock()
	require.NoError(t, l.Flush(t.Context()))
	assert.Equal(t, []uint64{2, 3, 4}, bad.seqs(), "the backlog in order; the dropped one is reported, not silent")
	require.NoError(t, l.Record(t.Context(), ev(monitor.KindVerdict, "i-5", 0)))
	assert.Equal(t, []uint64{2, 3, 4, 5}, bad.seqs())
	assert.Equal(t, []uint64{1, 2, 3, 4, 5}, good.seqs())
	assert.Equal(t, 0, l.Stats()[0].Pending)
}

func TestRing(t *testing.T) {
	t.Parallel()
	_, err := monitor.NewRing(0)
	require.ErrorIs(t, err, provider.ErrInvalid)
	r, err := monitor.NewRing(3)
	require.NoError(t, err)
	for i := range 5 {
		e := ev(monitor.KindVerdict, "i", time.Duration(i)*time.Minute)
		e.Seq = uint64(i + 1)
		require.NoError(t, r.Write(t.Context(), []monitor.Event{e}))
	}
	assert.Equal(t, 3, r.Len())
	got, err := r.Query(monitor.Query{})
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []uint64{3, 4, 5}, []uint64{got[0].Seq, got[1].Seq, got[2].Seq}, "the oldest are dropped")
	got, err = r.Query(monitor.Query{Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(5), got[0].Seq)

	// The ring keeps copies: changing what was written or read changes nothing.
	e := ev(monitor.KindBlocked, "j", 0)
	e.Rules = []string{"backup"}
	require.NoError(t, r.Write(t.Context(), []monitor.Event{e}))
	e.Rules[0] = "changed"
	got, _ = r.Query(monitor.Query{ResourceID: "j"})
	got[0].Rules[0] = "again"
	got, _ = r.Query(monitor.Query{ResourceID: "j"})
	assert.Equal(t, []string{"backup"}, got[0].Rules)
}

func TestLogConcurrentRecord(t *testing.T) {
	t.Parallel()
	sink := &flaky{}
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("s", sink))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				assert.NoError(t, l.Record(t.Context(), ev(monitor.KindVerdict, "i", time.Duration(g*100+i))))
			}
		})
	}
	wg.Wait()
	seqs := sink.seqs()
	require.Len(t, seqs, 200)
	for i, s := range seqs {
		assert.Equal(t, uint64(i+1), s, "the sink sees Seq order")
	}
}

// A capacity as large as an int holds (no bound wanted) is valid, as the
// config says (≥ 0): the memory grows with the events held rather than
// being allocated up front, which panicked (makeslice: len out of range)
// in NewLog and NewRing.
func TestHugeCapacityDoesNotPanic(t *testing.T) {
	t.Parallel()
	var l *monitor.Log
	require.NotPanics(t, func() {
		var err error
		l, err = monitor.NewLog(monitor.LogConfig{Capacity: math.MaxInt, ChangeCapacity: math.MaxInt32})
		require.NoError(t, err)
	})
	require.NoError(t, l.Record(t.Context(), ev(monitor.KindAction, "i-1", 0), ev(monitor.KindAction, "i-2", time.Second)))
	got, err := l.Query(monitor.Query{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "i-1", got[0].ResourceID)
	var r *monitor.Ring
	require.NotPanics(t, func() {
		var err error
		r, err = monitor.NewRing(math.MaxInt)
		require.NoError(t, err)
	})
	assert.Zero(t, r.Len())

	// A ring that grew past its first room wraps at its capacity.
	r, err = monitor.NewRing(300)
	require.NoError(t, err)
	for i := range 700 {
		e := ev(monitor.KindVerdict, "i", time.Duration(i)*time.Second)
		e.Seq = uint64(i + 1)
		require.NoError(t, r.Write(t.Context(), []monitor.Event{e}))
	}
	got, err = r.Query(monitor.Query{})
	require.NoError(t, err)
	require.Len(t, got, 300)
	for i, e := range got {
		require.Equal(t, uint64(401+i), e.Seq)
	}
}

// TestLogStatsAnswerWhileASinkHangs pins that Stats and LastSeq do not
// wait for a sink's Write: a host's health check reads them to find the
// sink that is stuck. They took the lock that Record holds across the
// sinks' writes, and hung with the sink.
func TestLogStatsAnswerWhileASinkHangs(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	stuck := monitor.SinkFunc(func(ctx context.Context, _ []monitor.Event) error {
		once.Do(func() { close(entered) })
		<-release
		return errors.New("timed out")
	})
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("stuck", stuck))
	require.NoError(t, err)
	require.NoError(t, l.Record(t.Context())) // nothing to record: no Write
	recorded := make(chan error, 1)
	go func() { recorded <- l.Record(context.Background(), ev(monitor.KindVerdict, "i-1", 0)) }()
	<-entered

	answered := make(chan []monitor.SinkStats, 1)
	go func() {
		_ = l.LastSeq()
		answered <- l.Stats()
	}()
	select {
	case st := <-answered:
		assert.Equal(t, []monitor.SinkStats{{Name: "stuck"}}, st, "as of the last Write that returned: none yet")
	case <-time.After(time.Minute):
		t.Fatal("Stats waited for the hung sink")
	}
	assert.Equal(t, uint64(1), l.LastSeq(), "the event in the hung Write is numbered")

	close(release)
	require.ErrorIs(t, <-recorded, monitor.ErrSink)
	assert.Equal(t, []monitor.SinkStats{{Name: "stuck", Pending: 1, Failures: 1, LastError: "timed out"}}, l.Stats())
}
