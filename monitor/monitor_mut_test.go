package monitor_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// A batch larger than MaxBytes goes whole into an empty file, which is
// not rotated first: no empty rotated file.
func TestFileSinkBigBatchInAnEmptyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	fs, err := monitor.NewFileSink(monitor.FileConfig{Path: path, MaxBytes: 10, MaxFiles: 2})
	require.NoError(t, err)
	e := ev(monitor.KindVerdict, "i-1", 0)
	e.Seq = 1
	require.NoError(t, fs.Write(t.Context(), []monitor.Event{e}))
	require.NoError(t, fs.Close())
	assert.Equal(t, []string{path}, fs.Files())
	_, err = os.Stat(path + ".1")
	require.ErrorIs(t, err, os.ErrNotExist)
}

// A cost of nothing before a change is valid (a stopped resource
// started); a negative one is not.
func TestEventCostBounds(t *testing.T) {
	t.Parallel()
	e := ev(monitor.KindAction, "i-1", 0)
	e.Outcome = monitor.OutcomeDone
	e.Cost = &monitor.CostChange{Before: 0, After: 0.1}
	require.NoError(t, e.Validate())
	e.Cost = &monitor.CostChange{Before: 0.1, After: 0}
	require.NoError(t, e.Validate())
	for _, c := range []monitor.CostChange{{Before: -0.01}, {After: -0.01}} {
		e.Cost = &c
		require.ErrorIs(t, e.Validate(), provider.ErrInvalid, "%+v", c)
	}
}

// A resource without an hourly cost gives its action no CostChange (not
// one from nothing to nothing).
func TestReaperEventsWithoutCost(t *testing.T) {
	t.Parallel()
	verdict := &detector.Verdict{ResourceID: "i-1", State: detector.Idle, Confidence: 0.9, Action: detector.ActionStop,
		MonthlySavings: 0.1 * detector.HoursPerMonth, Window: detector.Window{From: sat.Add(-time.Hour), To: sat}}
	rec := reaper.Record{ResourceID: "i-1", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance}, Verdict: verdict,
		Action: safety.ActionStop, Outcome: reaper.OutcomeWouldAct, DryRun: true,
		Decision: &safety.Decision{Now: sat, Outcome: safety.Pass, Allowed: true}}
	evs := monitor.ReaperEvents(rec, sat)
	require.Len(t, evs, 3)
	assert.Nil(t, evs[2].Cost)
	rec.Resource.HourlyCost = 0.1
	evs = monitor.ReaperEvents(rec, sat)
	require.NotNil(t, evs[2].Cost)
	assert.Equal(t, monitor.CostChange{Before: 0.1, After: 0}, *evs[2].Cost, "the verdict saves all of it")
	// A running resource's change says since when it runs, for a report
	// to see a restart between two stops; a stopped one's does not.
	launched := sat.Add(-5 * time.Hour)
	rec.Resource.State, rec.Resource.LaunchTime = provider.StateRunning, launched
	assert.Equal(t, launched, monitor.ReaperEvents(rec, sat)[2].Cost.RunningSince)
	rec.Resource.State = provider.StatePending
	assert.Equal(t, launched, monitor.ReaperEvents(rec, sat)[2].Cost.RunningSince)
	rec.Resource.State = provider.StateStopped
	assert.Zero(t, monitor.ReaperEvents(rec, sat)[2].Cost.RunningSince)
}

func TestSinkErrorText(t *testing.T) {
	t.Parallel()
	e := &monitor.SinkError{Sink: "file", Pending: 3, Err: errors.New("disk full")}
	assert.Equal(t, `monitor: sink "file": 3 events pending: disk full`, e.Error())
	require.NotErrorIs(t, e, monitor.ErrDropped)
	e.Dropped = 2
	assert.Equal(t, `monitor: sink "file": 3 events pending, 2 dropped: disk full`, e.Error())
	require.ErrorIs(t, e, monitor.ErrDropped)
	require.ErrorIs(t, e, monitor.ErrSink)
}

// Query.Filter, for hosts that store events themselves: the matches in
// order, the newest Limit of them when set, copies.
func TestQueryFilter(t *testing.T) {
	t.Parallel()
	var evs []monitor.Event
	for i := range 6 {
		id := "i-1"
		if i%2 == 1 {
			id = "i-2"
		}
		e := ev(monitor.KindVerdict, id, time.Duration(i)*time.Minute)
		e.Seq = uint64(i + 1)
		e.Rules = []string{"backup"}
		evs = append(evs, e)
	}
	seqs := func(q monitor.Query) []uint64 {
		var out []uint64
		for _, e := range q.Filter(evs) {
			out = append(out, e.Seq)
		}
		return out
	}
	assert.Equal(t, []uint64{1, 3, 5}, seqs(monitor.Query{ResourceID: "i-1"}))
	assert.Equal(t, []uint64{3, 5}, seqs(monitor.Query{ResourceID: "i-1", Limit: 2}))
	assert.Equal(t, []uint64{1, 3, 5}, seqs(monitor.Query{ResourceID: "i-1", Limit: 3}))
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, seqs(monitor.Query{Limit: -1}), "not validated: a negative limit keeps all")
	got := monitor.Query{Limit: 1}.Filter(evs)
	got[0].Rules[0] = "changed"
	assert.Equal(t, "backup", evs[5].Rules[0], "copies")
}

// The observer stamps a record without a time of its own with its clock.
func TestReaperObserverClock(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	clk := stepclock.New(sat.Add(5 * time.Hour))
	obs := monitor.NewReaperObserver(l, monitor.WithObserverClock(clk))
	obs.ObserveRecord(reaper.Record{ResourceID: "i-1", Outcome: reaper.OutcomeFailed, Reason: "no verdict", Errors: []error{errors.New("metrics down")}})
	require.NoError(t, obs.Err())
	evs, err := l.Query(monitor.Query{})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, sat.Add(5*time.Hour), evs[0].Time)
}

// ScalingEvents: an error without a reason is the reason itself; an
// event without capacities carries none; a change of size alone is a
// resize.
func TestScalingEventsDetails(t *testing.T) {
	t.Parallel()
	e := scaling.Event{Kind: scaling.EventError, Time: sat, Target: "web", Err: errors.New("metrics down")}
	assert.Equal(t, "metrics down", monitor.ScalingEvents(e, 0)[0].Reason)
	e.Reason = "evaluate"
	assert.Equal(t, "evaluate: metrics down", monitor.ScalingEvents(e, 0)[0].Reason)

	planned := scaling.Event{Kind: scaling.EventPlanned, Time: sat, Target: "web", PlanID: "p"}
	got := monitor.ScalingEvents(planned, 0.1)[0]
	assert.Nil(t, got.Capacity, "no capacities: none carried")
	assert.Empty(t, got.Action)

	resize := scaling.Event{Kind: scaling.EventStepExecuted, Time: sat, Target: "db", PlanID: "p",
		From: provider.CapacitySpec{Desired: 1}, To: provider.CapacitySpec{Desired: 1},
		FromSize: provider.Size{InstanceType: "m5.large"}, ToSize: provider.Size{InstanceType: "m5.xlarge"}}
	got = monitor.ScalingEvents(resize, 0)[0]
	assert.Equal(t, safety.ActionResize, got.Action)
	require.NotNil(t, got.Capacity)
	assert.Equal(t, monitor.CapacityChange{From: 1, To: 1}, *got.Capacity)
}

// IsChange: executed actions, scaling steps and rollback steps that carry
// a cost or a capacity, and failed verifications; nothing previewed,
// refused or pending.
func TestEventIsChange(t *testing.T) {
	t.Parallel()
	with := func(k monitor.Kind, outcome string, f func(*monitor.Event)) monitor.Event {
		e := ev(k, "i-1", 0)
		e.Outcome = outcome
		if f != nil {
			f(&e)
		}
		return e
	}
	cost := func(e *monitor.Event) { e.Cost = &monitor.CostChange{Before: 0.1} }
	capacity := func(e *monitor.Event) { e.Capacity = &monitor.CapacityChange{From: 2, To: 3} }
	for _, tt := range []struct {
		name string
		e    monitor.Event
		want bool
	}{
		{"a stop with its cost", with(monitor.KindAction, monitor.OutcomeDone, cost), true},
		{"a scaling step", with(monitor.KindScalingStep, monitor.OutcomeDone, capacity), true},
		{"a rollback step", with(monitor.KindRollback, monitor.OutcomeDone, capacity), true},
		{"a failed verification", with(monitor.KindVerification, monitor.OutcomeFailed, nil), true},
		{"a stop without a cost", with(monitor.KindAction, monitor.OutcomeDone, nil), false},
		{"a dry run", with(monitor.KindAction, monitor.OutcomeDone, func(e *monitor.Event) { cost(e); e.DryRun = true }), false},
		{"would act", with(monitor.KindAction, monitor.OutcomeWouldAct, cost), false},
		{"a failed step", with(monitor.KindScalingStep, monitor.OutcomeFailed, capacity), false},
		{"a verified change", with(monitor.KindVerification, monitor.OutcomeVerified, nil), false},
		{"a dry run's failed verification", with(monitor.KindVerification, monitor.OutcomeFailed, func(e *monitor.Event) { e.DryRun = true }), false},
		{"a plan", with(monitor.KindScalingPlan, monitor.OutcomeDone, capacity), false},
		{"a verdict", with(monitor.KindVerdict, "idle", cost), false},
	} {
		assert.Equal(t, tt.want, tt.e.IsChange(), tt.name)
	}
}

// The Log keeps the newest changes apart from its newest events, and
// WithChanges puts those older than the events before them, once.
func TestLogKeepsChanges(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{Capacity: 3, ChangeCapacity: 2})
	require.NoError(t, err)
	stop := func(id string, at time.Duration) monitor.Event {
		e := ev(monitor.KindAction, id, at)
		e.Outcome, e.Cost = monitor.OutcomeDone, &monitor.CostChange{Before: 0.1}
		return e
	}
	failed := ev(monitor.KindVerification, "i-2", 3*time.Minute)
	failed.Outcome = monitor.OutcomeFailed
	require.NoError(t, l.Record(t.Context(), stop("i-1", 0), stop("i-2", time.Minute), stop("i-3", 2*time.Minute), failed,
		ev(monitor.KindVerdict, "i-4", 4*time.Minute), ev(monitor.KindVerdict, "i-5", 5*time.Minute)))
	seqs := func(evs []monitor.Event) []uint64 {
		var out []uint64
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return out
	}
	recent, err := l.Query(monitor.Query{})
	require.NoError(t, err)
	assert.Equal(t, []uint64{4, 5, 6}, seqs(recent))
	kept, err := l.QueryChanges(monitor.Query{})
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4}, seqs(kept), "the newest two changes")
	all, from, err := monitor.WithChanges(l, recent)
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4, 5, 6}, seqs(all), "the change older than the events, then the events; 4 once")
	assert.Equal(t, t0.Add(3*time.Minute), from, "the earliest time of the events in memory")
	same, from, err := monitor.WithChanges(l, nil)
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4}, seqs(same))
	assert.True(t, from.IsZero())

	// An event recorded later with an earlier time (a replay on a
	// simulated clock) starts the period.
	require.NoError(t, l.Record(t.Context(), ev(monitor.KindVerdict, "i-6", -time.Hour)))
	recent, err = l.Query(monitor.Query{})
	require.NoError(t, err)
	_, from, err = monitor.WithChanges(l, recent)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(-time.Hour), from)

	_, err = monitor.NewLog(monitor.LogConfig{ChangeCapacity: -1})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "change_capacity", ie.Field)
	d, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	assert.Equal(t, 10_000, d.Config().ChangeCapacity)
}
