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

// nilRig is the fleet, its resources and the ensemble the nil-argument
// tests below judge at now.
func nilRig(t *testing.T) (now time.Time, cloud *memory.Cloud, rs []provider.Resource, ens *detector.Ensemble) {
	t.Helper()
	now = time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud = nabFleet(t, now, "c6585a")
	rs, err := cloud.List(t.Context(), provider.Filter{})
	require.NoError(t, err)
	require.NotEmpty(t, rs)
	ens, err = detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	return now, cloud, rs, ens
}

// nilSource is a source argument that is a non-nil interface whose call
// panics, and the field its refusal names.
type nilSource struct {
	name string
	ms   provider.MetricsSource
	act  provider.ActivitySource
	what string
	scan bool // Scan's refusal is checked too (fleet.<what>)
}

// assertSourcesRefused checks, on nilRig's values, that Detect and Sweep (and Scan, for the
// rows that say so) refuse each source with an error naming it, without
// a panic, and evaluate nothing.
func assertSourcesRefused(t *testing.T, now time.Time, cloud *memory.Cloud, rs []provider.Resource, ens *detector.Ensemble, tests []nilSource) {
	t.Helper()
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
			if !tt.scan {
				return
			}
			require.NotPanics(t, func() {
				_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: tt.ms, Activity: tt.act}, ens, detector.ScanConfig{Now: now})
			})
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "fleet."+tt.what, ie.Field)
		})
	}
}

// TestTrackerRefusesNilFuncAdapters: a nil Func adapter is a non-nil
// interface whose call panics (in Sweep, inside one of its goroutines,
// where nothing recovers it and the host's process ends): Detect and
// Sweep refuse it as Scan does, with an error naming the argument, and
// evaluate nothing.
func TestTrackerRefusesNilFuncAdapters(t *testing.T) {
	t.Parallel()
	now, cloud, rs, ens := nilRig(t)
	assertSourcesRefused(t, now, cloud, rs, ens, []nilSource{
		{"nil MetricsSourceFunc", provider.MetricsSourceFunc(nil), nil, "metrics", false},
		{"nil ActivitySourceFunc", cloud, provider.ActivitySourceFunc(nil), "activity", false},
	})
}

// TestTrackerRefusesNilPointerSources: a nil pointer to a source (a
// host's *memory.Cloud or driver not built yet, or built in a branch
// that failed) is, like the nil Func adapters, a non-nil interface whose
// call panics: Detect panicked on its first query, and Sweep inside one
// of its errgroup goroutines, where nothing recovers it and the host's
// process ends, where the reaper and coord/shardsweep refuse such a
// source at construction (internal/nilcheck). Detect, Sweep and Scan now
// refuse it with an error naming the argument, and evaluate nothing.
func TestTrackerRefusesNilPointerSources(t *testing.T) {
	t.Parallel()
	now, cloud, rs, ens := nilRig(t)
	var none *memory.Cloud
	assertSourcesRefused(t, now, cloud, rs, ens, []nilSource{
		{"nil metrics pointer", none, nil, "metrics", true},
		{"nil activity pointer", cloud, none, "activity", true},
	})
}

// TestNewTrackerRefusesNilPointerStore: a nil *MemoryStateStore or
// *FileStateStore (a host's store not built, in the interface) is a
// non-nil StateStore whose every call panics, as the nil pointer sources
// Detect and Sweep refuse: NewTracker took it, and the first Detect
// panicked (Sweep inside an errgroup goroutine, ending the process).
// NewTracker refuses it naming tracker.store, as it refuses no store.
func TestNewTrackerRefusesNilPointerStore(t *testing.T) {
	t.Parallel()
	now, cloud, rs, ens := nilRig(t)
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
