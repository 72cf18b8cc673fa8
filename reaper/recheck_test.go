package reaper_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// hookedActivity is the env's cloud as an activity source that calls
// after once, after its first read (the scan's) returns. The cloud is a
// field, not embedded: its Activities (provider.ActivityBatcher) would
// answer the scan past the hook.
type hookedActivity struct {
	Cloud *memory.Cloud
	once  sync.Once
	after func()
}

func (h *hookedActivity) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	counts, err := h.Cloud.Activity(ctx, q)
	h.once.Do(h.after)
	return counts, err
}

// pickyActivity refuses windows shorter than 2ms, as the Prometheus source
// does (provider/prometheus: "must be at least 2ms after start"), and
// reads the cloud otherwise (a field, not embedded, as in hookedActivity).
type pickyActivity struct{ cloud *memory.Cloud }

func (p pickyActivity) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	if q.End.Sub(q.Start) < 2*time.Millisecond {
		return nil, provider.Invalid("activity_query.end", q.End.Format(time.RFC3339Nano), "must be at least 2ms after start")
	}
	return p.cloud.Activity(ctx, q)
}

// runWithActivity runs, at t0, an executing reaper with the env's
// ensemble and collaborators on its fleet with src as the activity source.
func (e *env) runWithActivity(t *testing.T, src provider.ActivitySource) reaper.Report {
	t.Helper()
	fleet := e.fleet()
	fleet.Activity = src
	r, err := reaper.New(reaper.Config{Execute: true}, fleet, e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	return rep
}

// TestLateLoginOnAStillClockNotStopped: the run takes no time on its clock
// (a fake clock that does not move; a run faster than the clock's
// resolution), and a login a minute before the run's now is published by
// the activity source only after the scan read it (a scrape interval,
// CloudWatch's minutes). The activity read again before the gate covers
// the detector's quiet period, not the empty window since now: the login
// is found and the instance is not stopped. (It was: no time had passed,
// so nothing was read again.)
func TestLateLoginOnAStillClockNotStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	src := &hookedActivity{Cloud: e.cloud, after: func() {
		assert.NoError(t, e.cloud.RecordActivity("i-1", provider.ActivityLogins, t0.Add(-time.Minute), 1))
	}}
	rep := e.runWithActivity(t, src)
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionStop, rec.Verdict.Action, "quiet when the scan read it: %v", rec.Verdict.Explain())
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
	assert.Contains(t, rec.Reason, "(logins 1)")
	assert.Empty(t, e.actions(), "not stopped after the login")
}

// TestStillClockQuietStopped: on a clock that does not move, a quiet
// instance whose source answers the read again is stopped: the read
// covers the quiet period, not an empty window, and finds nothing.
func TestStillClockQuietStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	require.NoError(t, e.cloud.RecordActivity("i-1", provider.ActivityLogins, t0.Add(-31*time.Minute), 1)) // before the quiet period
	var windows []provider.ActivityQuery
	var mu sync.Mutex
	rep := e.runWithActivity(t, provider.ActivitySourceFunc(func(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
		mu.Lock()
		windows = append(windows, q)
		mu.Unlock()
		return e.cloud.Activity(ctx, q)
	}))
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.Reason)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, windows, 2, "the scan's read and the read again")
	assert.Equal(t, provider.ActivityQuery{ResourceID: "i-1", Start: t0.Add(-30 * time.Minute), End: t0}, windows[1],
		"the quiet period before the time of acting, read again")
}

// TestFastRunNotFailedOnASourcesLeastWindow: the run takes 1ms on its
// clock, and the activity source refuses windows under 2ms (as the
// Prometheus source does). The read again covers the quiet period, so the
// source answers and the quiet instance is stopped. (It failed closed on
// the source's refusal of the 1ms window since now: a fast run stopped
// nothing.)
func TestFastRunNotFailedOnASourcesLeastWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	var once sync.Once
	rep := e.runWithActivity(t, provider.ActivitySourceFunc(func(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
		counts, err := pickyActivity{e.cloud}.Activity(ctx, q)
		once.Do(func() { e.clock.Add(time.Millisecond) }) // the scan's read takes 1ms
		return counts, err
	}))
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionStop, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.Reason)
	require.NoError(t, rep.Err())
	require.Len(t, e.actions(), 1, "stopped")
}

// goneActivity is the env's cloud as an activity source that answers
// its first read (the scan's) and ErrUnsupported after: a source that no
// longer reads the resource by the time of acting (a volume a claim
// holds again, a source reconfigured).
type goneActivity struct {
	cloud *memory.Cloud // not embedded, as in hookedActivity
	mu    sync.Mutex
	reads int
}

func (g *goneActivity) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	g.mu.Lock()
	g.reads++
	n := g.reads
	g.mu.Unlock()
	if n > 1 {
		return nil, provider.ErrUnsupported
	}
	return g.cloud.Activity(ctx, q)
}

// TestActivityNoLongerReadNotStopped: the scan read the instance's
// logins, none, and the detector recommends a stop; read again before the
// gate, the source no longer reads the instance's activity. Whether it was
// used since is unknown, so it is not stopped (it was: ErrUnsupported read
// as "no use", as for a verdict that had no activity data either).
func TestActivityNoLongerReadNotStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins))
	rep := e.runWithActivity(t, &goneActivity{cloud: e.cloud})
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionStop, rec.Verdict.Action, "quiet when the scan read it: %v", rec.Verdict.Explain())
	require.True(t, detector.ReadActivity(*rec.Verdict), "the verdict read the logins")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.Reason)
	assert.Equal(t, "re-reading the resource's activity failed", rec.Reason)
	require.NotEmpty(t, rec.Errors)
	require.ErrorIs(t, rec.Errors[0], provider.ErrUnsupported)
	assert.Empty(t, e.actions(), "not stopped")
}
