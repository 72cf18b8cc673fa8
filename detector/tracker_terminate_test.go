package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
)

// TestTrackerNeverTerminates pins what the Tracker's doc says: it reads
// activity over the ensemble's quiet period (30 minutes), not over the
// terminate window (28 days) a terminate needs, so it never recommends
// one, read in full or from a state, by Detect or Sweep. An unused
// function, quiet for 30 days, is idle with no action and a reason
// naming the activity window; the same function scanned with its
// activity read over the terminate window is terminated: the activity
// window is the only thing missing.
func TestTrackerNeverTerminates(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := kindFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	need := ens.TerminateWindow()
	require.Equal(t, 28*24*time.Hour, need)
	quiet := ens.Needs().ActivityWindow
	require.Equal(t, 30*time.Minute, quiet)

	checkUnused := func(t *testing.T, v detector.Verdict, how string) {
		t.Helper()
		assert.Equal(t, detector.Idle, v.State, "%s: %v", how, v.Explain())
		assert.Equal(t, detector.ActionNone, v.Action, "%s: %v", how, v.Explain())
		short := false
		for _, r := range v.Reasons {
			if r.Code == detector.ReasonNoUse && r.Action == detector.ActionTerminate {
				short = true
				assert.Equal(t, quiet, r.Duration, "%s: the activity the Tracker read", how)
				assert.InDelta(t, float64(need), r.Limit, 0, "%s: the activity a terminate needs", how)
			}
		}
		assert.True(t, short, "%s: the reason is the activity window: %v", how, v.Explain())
	}

	detectTr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	sweepTr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	full, incremental := 0, 0
	for h := range 3 {
		now := start.Add(29*24*time.Hour + time.Duration(h)*time.Hour)
		for _, r := range f.resources {
			v, read, err := detectTr.Detect(t.Context(), f, f, r, now)
			require.NoError(t, err)
			require.Empty(t, read.Errors)
			assert.NotEqual(t, detector.ActionTerminate, v.Action, "%s at %s (full read %v): %v", r.ID, now, read.Full, v.Explain())
			if read.Full {
				full++
			} else {
				incremental++
			}
			if r.ID == "fn-unused" {
				checkUnused(t, v, "Detect at "+now.String())
			}
		}
		rep, err := sweepTr.Sweep(t.Context(), f, f, f.resources, detector.SweepConfig{Now: now})
		require.NoError(t, err)
		require.Empty(t, rep.Errors)
		require.Len(t, rep.Verdicts, len(f.resources))
		for _, v := range rep.Verdicts {
			assert.NotEqual(t, detector.ActionTerminate, v.Action, "%s at %s: %v", v.ResourceID, now, v.Explain())
			if v.ResourceID == "fn-unused" {
				checkUnused(t, v, "Sweep at "+now.String())
			}
		}
	}
	assert.Equal(t, len(f.resources), full, "the first hour read in full")
	assert.Equal(t, 2*len(f.resources), incremental, "the others from the state")

	// Read over the terminate window, the same function is terminated.
	now := start.Add(29 * 24 * time.Hour)
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f, Activity: f}, ens, detector.ScanConfig{Now: now, ActivityWindow: need})
	require.NoError(t, err)
	require.Empty(t, rep.Errors)
	terminated := false
	for _, v := range rep.Verdicts {
		if v.ResourceID == "fn-unused" {
			terminated = true
			assert.Equal(t, detector.ActionTerminate, v.Action, v.Explain())
		}
	}
	assert.True(t, terminated, "fn-unused scanned")
}
