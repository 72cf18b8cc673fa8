package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestTrackerRefusesNilFuncAdapters: a nil Func adapter is a non-nil
// interface whose call panics (in Sweep, inside one of its goroutines,
// where nothing recovers it and the host's process ends): Detect and
// Sweep refuse it as Scan does, with an error naming the argument, and
// evaluate nothing.
func TestTrackerRefusesNilFuncAdapters(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a")
	rs, err := cloud.List(t.Context(), provider.Filter{})
	require.NoError(t, err)
	require.NotEmpty(t, rs)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		ms   provider.MetricsSource
		act  provider.ActivitySource
		what string
	}{
		{"nil MetricsSourceFunc", provider.MetricsSourceFunc(nil), nil, "metrics"},
		{"nil ActivitySourceFunc", cloud, provider.ActivitySourceFunc(nil), "activity"},
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
		})
	}
}
