package shardsweep_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestTerminableKindsNotTerminated pins what the package documents under
// "Terminate": a runner never terminates. Four detached volumes (a
// Terminable kind), two of them idle for 90 days with complete data and a
// login source that has seen no login, are swept on the embedded etcd
// and a fake clock: the Tracker reads their activity over the ensemble's
// quiet period (30 minutes, [t0−30m, t0)), not over the terminate window
// (28 days) a terminate needs, so the ensemble recommends nothing ("no
// activity data covering 28d"), the Actor is called for none, and the
// verdicts say why. The same volumes scanned with their activity read
// over the terminate window (as the reaper does with terminate allowed)
// would be terminated: the activity window is the only thing missing.
// A login inside the terminate window keeps them, there too.
func TestTerminableKindsNotTerminated(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(4, t0.Add(-90*24*time.Hour))
	for i := range f.resources {
		f.resources[i].Kind, f.resources[i].State = provider.KindVolume, provider.StateStopped // detached
	}
	src := &logins{}
	f.activity = src
	reps, verdicts, acts := swept(t, t0, f)
	for _, rep := range reps {
		assert.Empty(t, rep.Acted)
		assert.Empty(t, rep.InUse)
		assert.Empty(t, rep.Unchecked)
	}
	assert.Empty(t, acts, "the Actor is called for no volume")

	need := newEnsemble(t).Config().Evidence.TerminateWindow
	require.Equal(t, 28*24*time.Hour, need)
	v, ok := verdicts["i-0000"]
	require.True(t, ok)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	short := false
	for _, r := range v.Reasons {
		if r.Code == detector.ReasonNoUse && r.Action == detector.ActionTerminate {
			short = true
			assert.Equal(t, 30*time.Minute, r.Duration, "the activity the Tracker read")
			assert.InDelta(t, float64(need), r.Limit, 0, "the activity a terminate needs")
		}
	}
	assert.True(t, short, "the reason is the activity window: %v", v.Explain())
	src.mu.Lock()
	for _, q := range src.queries {
		if q.ResourceID == "i-0000" && !q.End.After(t0) {
			assert.Equal(t, t0.Add(-30*time.Minute), q.Start, "the Tracker reads the quiet period")
			assert.Equal(t, t0, q.End)
		}
	}
	src.mu.Unlock()

	// The same volumes read over the terminate window: terminate, unless
	// a login 20 days ago is in it.
	scan := func(src provider.ActivitySource) detector.Verdict {
		t.Helper()
		fl := f.detector()
		fl.Activity = src
		rep, err := detector.Scan(t.Context(), fl, newEnsemble(t), detector.ScanConfig{Now: t0, ActivityWindow: need})
		require.NoError(t, err)
		for _, v := range rep.Verdicts {
			if v.ResourceID == "i-0000" {
				return v
			}
		}
		require.FailNow(t, "no verdict for i-0000")
		return detector.Verdict{}
	}
	long := scan(&logins{})
	assert.Equal(t, detector.ActionTerminate, long.Action, long.Explain())
	used := scan(&logins{at: map[string][]time.Time{"i-0000": {t0.Add(-20 * 24 * time.Hour)}}})
	assert.Equal(t, detector.ActionNone, used.Action, used.Explain())
}
