package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// TestTrackerRefusesNilPointerSources: a nil pointer to a source (a
// host's *memory.Cloud or driver not built yet, or built in a branch
// that failed) is, like the nil Func adapters 120f834 refuses, a non-nil
// interface whose call panics: Detect panicked on its first query, and
// Sweep inside one of its errgroup goroutines, where nothing recovers it
// and the host's process ends, where the reaper and coord/shardsweep
// refuse such a source at construction (internal/nilcheck). Detect,
// Sweep and Scan now refuse it with an error naming the argument, and
// evaluate nothing.
func TestTrackerRefusesNilPointerSources(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a")
	rs, err := cloud.List(t.Context(), provider.Filter{})
	require.NoError(t, err)
	require.NotEmpty(t, rs)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	var none *memory.Cloud
	tests := []struct {
		name string
		ms   provider.MetricsSource
		act  provider.ActivitySource
		what string
	}{
		{"nil metrics pointer", none, nil, "metrics"},
		{"nil activity pointer", cloud, none, "activity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &detector.MemoryStateStore{}
			tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
			require.NoError(t, err)
			var ie *provider.InvalidError
			require.NotPanics(t, func() { _, _, err = tr.Detect(t.Context(), tt.ms, tt.act, rs[0], now) })
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "tracker."+tt.what, ie.Field)
			require.NotPanics(t, func() { _, err = tr.Sweep(t.Context(), tt.ms, tt.act, rs, detector.SweepConfig{Now: now}) })
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "sweep."+tt.what, ie.Field)
			assert.Zero(t, store.Len(), "nothing evaluated")
			require.NotPanics(t, func() {
				_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: tt.ms, Activity: tt.act}, ens, detector.ScanConfig{Now: now})
			})
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "fleet."+tt.what, ie.Field)
		})
	}
}
