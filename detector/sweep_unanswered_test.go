package detector_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// unansweringBatcher is a gridFleet whose batch call fails as a whole and
// leaves its reads unanswered (no series, no error: against the batch
// contract, which Scan already reads as the call's failure).
type unansweringBatcher struct{ *gridFleet }

func (u unansweringBatcher) QueryMetrics(context.Context, []provider.MetricRead) error {
	return errUnreachable
}

// TestSweepReadsUnansweredReadsAgain: a Sweep whose batch call fails and
// leaves its reads unanswered reads each query again on its own, as it
// does the reads that carry the call's error, and its verdicts are
// Scan's. (A review found them taken from the batch as answers without a
// series: every resource's read failed, as a series without a step,
// without the call's error, and no resource had a verdict.)
func TestSweepReadsUnansweredReadsAgain(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	now := start.Add(30 * 24 * time.Hour)
	rep, err := tr.Sweep(t.Context(), unansweringBatcher{f}, f, f.resources, detector.SweepConfig{Now: now})
	require.NoError(t, err)
	require.Empty(t, rep.Errors)
	scan, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	require.Len(t, scan.Verdicts, len(f.resources))
	require.Len(t, rep.Verdicts, len(scan.Verdicts))
	for i := range scan.Verdicts {
		require.Equal(t, comparable(scan.Verdicts[i]), comparable(rep.Verdicts[i]))
	}
}
