package shardsweep_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// logins is an activity source of logins: the events at the times given
// per resource, counted over each query's window; read fails the queries
// it returns an error for.
type logins struct {
	at   map[string][]time.Time
	read func(q provider.ActivityQuery) error // optional

	mu      sync.Mutex
	queries []provider.ActivityQuery
}

func (l *logins) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.queries = append(l.queries, q)
	l.mu.Unlock()
	if l.read != nil {
		if err := l.read(q); err != nil {
			return nil, err
		}
	}
	c := provider.ActivityCount{Kind: provider.ActivityLogins}
	for _, t := range l.at[q.ResourceID] {
		if !t.Before(q.Start) && t.Before(q.End) {
			c.Count++
		}
	}
	return []provider.ActivityCount{c}, nil
}

// verdictLog is a VerdictObserver that keeps the latest verdict of each
// resource.
type verdictLog struct {
	mu sync.Mutex
	by map[string]detector.Verdict
}

func (l *verdictLog) Verdicts(_ int, _ time.Time, vs []detector.Verdict) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil {
		l.by = map[string]detector.Verdict{}
	}
	for _, v := range vs {
		l.by[v.ResourceID] = v
	}
}

// all returns a copy of the verdicts kept.
func (l *verdictLog) all() map[string]detector.Verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.by)
}

// swept runs one replica over f on a clock at t0 + Delay, until every
// shard finished t0, and returns the pass reports, the verdicts the
// VerdictObserver got (by resource) and the resources acted on.
func swept(t *testing.T, t0 time.Time, f *fleet) ([]shardsweep.Report, map[string]detector.Verdict, map[string][]string) {
	t.Helper()
	return sweptWith(t, t0, f, nil)
}

// sweptWith is swept with ens as the replica's ensemble (nil:
// newEnsemble's).
func sweptWith(t *testing.T, t0 time.Time, f *fleet, ens *detector.Ensemble) ([]shardsweep.Report, map[string]detector.Verdict, map[string][]string) {
	t.Helper()
	g := newRig(t, 2, f, t0.Add(5*time.Minute))
	g.ens = ens
	log := &verdictLog{}
	g.opts = append(g.opts, shardsweep.WithVerdicts(log))
	a := g.start("replica-a")
	g.balanced(a)
	var reps []shardsweep.Report
	for _, rs := range g.allDone(t0) {
		require.Len(t, rs, 1)
		reps = append(reps, rs[0])
	}
	return reps, log.all(), g.rec.actsFor(t0)
}

// rechecked is swept over 8 resources (the even ones idle) with src as
// their activity source.
func rechecked(t *testing.T, t0 time.Time, src provider.ActivitySource) ([]shardsweep.Report, map[string]detector.Verdict, map[string][]string) {
	t.Helper()
	f := newFleet(8, t0.Add(-90*24*time.Hour))
	f.activity = src
	return swept(t, t0, f)
}

// recheckReason returns v's reason of the "recheck" signal with code, or fails.
func recheckReason(t *testing.T, v detector.Verdict, code detector.ReasonCode) detector.Reason {
	t.Helper()
	for _, r := range v.Reasons {
		if r.Signal == "recheck" && r.Code == code {
			return r
		}
	}
	require.Failf(t, "no recheck reason", "%s: no %s in %v", v.ResourceID, code, v.Explain())
	return detector.Reason{}
}

// TestLoginDuringTheDelayNotActed: the sweep of 12:00 runs at 12:05
// (Config.Delay) and its Tracker reads the activity up to 12:00: quiet, so
// i-0000 and i-0002 are idle, "stop". Someone logged in to i-0000 at
// 12:02. Its activity is read again just before its claim, from 12:00 to
// the pass's time on the runner's clock: it is not claimed nor handed to
// the Actor (Report.InUse), and its verdict reaches the VerdictObserver
// with no action and the login as the reason; i-0002 is stopped. (The
// login was not read again: the Actor stopped i-0000.)
func TestLoginDuringTheDelayNotActed(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	src := &logins{at: map[string][]time.Time{"i-0000": {t0.Add(2 * time.Minute)}}}
	reps, verdicts, acts := rechecked(t, t0, src)

	assert.Empty(t, acts["i-0000"], "used at 12:02: not acted on")
	assert.Len(t, acts["i-0002"], 1, "quiet: acted on")
	var inUse []string
	for _, rep := range reps {
		inUse = append(inUse, rep.InUse...)
		assert.Empty(t, rep.Unchecked)
		assert.NotContains(t, rep.Acted, "i-0000")
	}
	assert.Equal(t, []string{"i-0000"}, inUse)
	v := verdicts["i-0000"]
	assert.Equal(t, detector.Idle, v.State)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Zero(t, v.MonthlySavings)
	r := recheckReason(t, v, detector.ReasonInUse)
	assert.Equal(t, provider.ActivityLogins, r.Kind)
	assert.Equal(t, detector.ActionStop, r.Action)
	assert.Equal(t, detector.ActionStop, verdicts["i-0002"].Action)

	src.mu.Lock()
	defer src.mu.Unlock()
	var again []provider.ActivityQuery
	for _, q := range src.queries {
		if q.ResourceID == "i-0000" && q.End.After(t0) {
			again = append(again, q)
		}
	}
	require.Len(t, again, 1, "read again once: %v", src.queries)
	assert.Equal(t, t0.Add(5*time.Minute-30*time.Minute), again[0].Start, "the quiet period before the pass's time (12:05 on its clock)")
	assert.Equal(t, t0.Add(5*time.Minute), again[0].End)
}

// TestActivityReReadFailureNotActed: the Tracker's read of the activity
// succeeds, the read again before the claim fails for i-0000 (throttled):
// it could have shown a login, so i-0000 is not acted on
// (Report.Unchecked, with the error) and its verdict has no action and
// the failed read as the reason; i-0002 is stopped.
func TestActivityReReadFailureNotActed(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	src := &logins{read: func(q provider.ActivityQuery) error {
		if q.ResourceID == "i-0000" && q.End.After(t0) {
			return provider.ErrThrottled
		}
		return nil
	}}
	reps, verdicts, acts := rechecked(t, t0, src)

	assert.Empty(t, acts["i-0000"], "unreadable: not acted on")
	assert.Len(t, acts["i-0002"], 1)
	var unchecked []*detector.ResourceError
	for _, rep := range reps {
		unchecked = append(unchecked, rep.Unchecked...)
		assert.Empty(t, rep.InUse)
	}
	require.Len(t, unchecked, 1)
	assert.Equal(t, "i-0000", unchecked[0].ResourceID)
	assert.Equal(t, "activity", unchecked[0].Op)
	require.ErrorIs(t, unchecked[0], provider.ErrThrottled)
	v := verdicts["i-0000"]
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	require.ErrorIs(t, recheckReason(t, v, detector.ReasonReadFailed).Err, provider.ErrThrottled)
}
