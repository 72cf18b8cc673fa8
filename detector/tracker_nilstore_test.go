package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestNewTrackerRefusesNilPointerStore: a nil *MemoryStateStore or
// *FileStateStore (a host's store not built, in the interface) is a
// non-nil StateStore whose every call panics, as the nil pointer sources
// Detect and Sweep refuse: NewTracker took it, and the first Detect
// panicked (Sweep inside an errgroup goroutine, ending the process).
// NewTracker refuses it naming tracker.store, as it refuses no store.
func TestNewTrackerRefusesNilPointerStore(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a")
	rs, err := cloud.List(t.Context(), provider.Filter{})
	require.NoError(t, err)
	require.NotEmpty(t, rs)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tests := []struct {
		name  string
		store detector.StateStore
	}{
		{"nil memory store", (*detector.MemoryStateStore)(nil)},
		{"nil file store", (*detector.FileStateStore)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				tr  *detector.Tracker
				err error
			)
			require.NotPanics(t, func() {
				tr, err = detector.NewTracker(ens, detector.TrackerConfig{}, tt.store)
				if err == nil {
					_, _, err = tr.Detect(t.Context(), cloud, nil, rs[0], now)
				}
			})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "tracker.store", ie.Field)
			assert.Nil(t, tr)
		})
	}
}
