package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestNilPointerDetectorsRefused: a nil pointer to a detector (a host's
// *detector.Ensemble or *detector.Preset not built, in the interface) is
// a non-nil Detector whose every call panics, as a nil Func is: Scan
// panicked on the caller's goroutine reading its needs, and a custom
// signal made with one panicked at the ensemble's first Detect, inside
// a Scan or Sweep goroutine where nothing recovers it. Scan and
// WithSignal refuse it, as they refuse a nil Func and as the reaper and
// coord/shardsweep refuse a nil pointer detector, naming the field.
func TestNilPointerDetectorsRefused(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a")
	tests := []struct {
		name string
		give detector.Detector
	}{
		{"nil *Ensemble", (*detector.Ensemble)(nil)},
		{"nil *Preset", (*detector.Preset)(nil)},
		{"nil *Utilization", (*detector.Utilization)(nil)},
		{"nil *Activity", (*detector.Activity)(nil)},
		{"nil *Schedule", (*detector.Schedule)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			require.NotPanics(t, func() {
				_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, tt.give, detector.ScanConfig{Now: now})
			})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "detector", ie.Field)

			require.NotPanics(t, func() {
				_, err = detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("custom", 0.2, tt.give))
			})
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "ensemble.signals[0].detector", ie.Field)
		})
	}
}
