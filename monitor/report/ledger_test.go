package report_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/safety"
)

// randomChanges returns events of n resources, perChange changes and
// failed or passed verifications each on a quarter-hour grid (so that
// times repeat), with dry runs, failed actions and events that are not
// changes among them, sorted by time (stably) and then each moved by up
// to two places. A resource never has more than maxPer items that count.
func randomChanges(r *rand.Rand, n, maxPer int) []monitor.Event {
	var evs []monitor.Event
	for id := range n {
		name := fmt.Sprintf("r-%d", id)
		h := float64(r.IntN(8)) / 4
		for range 1 + r.IntN(maxPer) {
			cost := func() float64 { return float64(r.IntN(5)) / 10 }
			switch k := r.IntN(10); {
			case k < 5:
				// Stops, and resizes, which find a resource running only
				// when they say since when: with a start that may fall
				// before, between or after the resource's changes.
				e := action(name, safety.ActionStop, h, cost(), cost())
				if k == 0 {
					e.Action = safety.ActionResize
				}
				if r.IntN(2) == 0 {
					e.Cost.RunningSince = at(h - float64(r.IntN(12))/4)
				}
				evs = append(evs, e)
			case k < 7:
				evs = append(evs, verification(name, h, monitor.OutcomeFailed))
			case k == 7:
				e := action(name, safety.ActionStop, h, cost(), cost())
				e.DryRun = true
				evs = append(evs, e, verification(name, h, monitor.OutcomeVerified))
			case k == 8:
				e := action(name, safety.ActionStop, h, cost(), cost())
				e.Outcome = monitor.OutcomeFailed
				evs = append(evs, e)
			default:
				e := verification(name, h, monitor.OutcomeFailed)
				e.DryRun = true
				evs = append(evs, e, monitor.Event{Time: at(h), Kind: monitor.KindVerdict, ResourceID: name})
			}
			h += float64(r.IntN(8)) / 4
		}
	}
	slices.SortStableFunc(evs, func(a, b monitor.Event) int { return a.Time.Compare(b.Time) })
	for i := range len(evs) - 1 {
		if r.IntN(3) == 0 {
			evs[i], evs[i+1] = evs[i+1], evs[i]
		}
	}
	return evs
}

func closeTo(t *testing.T, want, got float64, msg ...any) {
	t.Helper()
	assert.LessOrEqual(t, math.Abs(want-got), 1e-9*math.Max(1, math.Abs(want)), msg...)
}

// The ledger's savings are the report's, at any now, for events added in
// any order: Build sorts them, the ledger places them.
func TestLedgerMatchesBuild(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 16))
	for trial := range 300 {
		evs := randomChanges(r, 1+r.IntN(6), 12)
		var l report.Ledger
		for _, e := range evs {
			require.True(t, l.Add(e), "trial %d: %+v placed", trial, e)
		}
		for _, h := range []float64{0, 0.25, 1, 2.5, 4, 7.75, 12, 30, 100} {
			rep, err := report.Build(report.Input{Now: at(h), Events: evs})
			require.NoError(t, err)
			closeTo(t, rep.Totals.RealisedSavings, l.Saved(at(h)), "trial %d at %v h", trial, h)
		}
	}
}

// Past the window, a resource's oldest items are folded, and the savings
// stay the report's at any now after them.
func TestLedgerFoldsOldChanges(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 3))
	for trial := range 100 {
		evs := randomChanges(r, 1+r.IntN(3), 80)
		var l report.Ledger
		for _, e := range evs {
			require.True(t, l.Add(e), "trial %d", trial)
		}
		last := evs[len(evs)-1].Time
		for _, e := range evs {
			last = later(last, e.Time)
		}
		for _, d := range []time.Duration{0, time.Minute, 3 * time.Hour} {
			now := last.Add(d)
			rep, err := report.Build(report.Input{Now: now, Events: evs})
			require.NoError(t, err)
			closeTo(t, rep.Totals.RealisedSavings, l.Saved(now), "trial %d", trial)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// The window's edges and what folding does, by hand: a stop at 0.1/h
// saves 0.1 an hour; a failed verification of a later resize puts the
// cost back; a change older than the folded ones is counted from the
// newest folded one's time and reported.
func TestLedgerByHand(t *testing.T) {
	t.Parallel()
	var l report.Ledger
	assert.Zero(t, l.Saved(at(5)), "the zero ledger is empty")
	assert.True(t, l.Add(verification("i-1", 0, monitor.OutcomeFailed)), "a failed verification before any change is held")
	assert.Zero(t, l.Saved(at(5)), "and ignored, as Build does")
	require.True(t, l.Add(action("i-1", safety.ActionResize, 1, 0.4, 0.1)))
	closeTo(t, 0.3*4, l.Saved(at(5)))
	assert.Zero(t, l.Saved(at(1)), "nothing at the change itself")
	assert.Zero(t, l.Saved(at(0.5)), "nor before it")
	require.True(t, l.Add(action("i-1", safety.ActionStop, 3, 0.1, 0)))
	require.True(t, l.Add(verification("i-1", 3.5, monitor.OutcomeFailed)), "the stop did not take")
	closeTo(t, 0.3*4, l.Saved(at(5)), "the resized cost again from the stop on")
	assert.Equal(t, 1, l.Resources())

	// Fill i-2's window with changes to 0 cost, one an hour from 0, and
	// one more: the first is folded. (Terminates: a stop after a stop
	// says the resource was restarted in between; see
	// TestRestartBetweenStops.)
	var evs []monitor.Event
	for h := range report.LedgerWindow + 1 {
		evs = append(evs, action("i-2", safety.ActionTerminate, float64(h), 1, 0))
	}
	for _, e := range evs {
		require.True(t, l.Add(e))
	}
	i1 := 0.3 * 19 // i-1 at 20 h
	closeTo(t, i1+20, l.Saved(at(20)))
	// Before the folded stop at 0: counted from 0, reported.
	late := action("i-2", safety.ActionResize, -2, 1, 0.5)
	assert.False(t, l.Add(late), "older than the folded changes")
	// At the folded stop's time exactly: placed after it, as Build would.
	atHorizon := action("i-2", safety.ActionResize, 0, 1, 0.5)
	assert.True(t, l.Add(atHorizon))
	evs = append(evs, atHorizon)
	rep, err := report.Build(report.Input{Now: at(20), Events: append(evs, action("i-2", safety.ActionResize, 0, 1, 0.5))})
	require.NoError(t, err)
	closeTo(t, 19.5, rep.Totals.RealisedSavings, "half the cost saved in the first hour")
	closeTo(t, rep.Totals.RealisedSavings+i1, l.Saved(at(20)), "the late change counts from the horizon")
	assert.Equal(t, 2, l.Resources())
}

// A resource's window is bounded: adding to a full one allocates nothing.
func TestLedgerAddAllocatesNothingWhenFull(t *testing.T) {
	var l report.Ledger
	h := 0.0
	// Terminates: a stop after a stop says the resource was restarted in
	// between (TestRestartBetweenStops).
	for range report.LedgerWindow + 1 {
		l.Add(action("i-1", safety.ActionTerminate, h, 1, 0))
		h++
	}
	more := make([]monitor.Event, 1001) // AllocsPerRun calls once more than asked
	for i := range more {
		more[i] = action("i-1", safety.ActionTerminate, h+float64(i), 1, 0)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		l.Add(more[i])
		i++
	})
	h += float64(i)
	assert.Zero(t, allocs)
	closeTo(t, h+999, l.Saved(at(h+999)), "a terminate from 0 h on saves 1 an hour")
}

func BenchmarkLedger(b *testing.B) {
	evs := randomChanges(rand.New(rand.NewPCG(1, 2)), 1000, 100)
	b.Run("Add", func(b *testing.B) {
		var l report.Ledger
		i := 0
		for b.Loop() {
			l.Add(evs[i%len(evs)])
			i++
		}
	})
	var l report.Ledger
	for _, e := range evs {
		l.Add(e)
	}
	b.Run(fmt.Sprintf("Saved/%d_resources", l.Resources()), func(b *testing.B) {
		for b.Loop() {
			l.Saved(at(500))
		}
	})
}
