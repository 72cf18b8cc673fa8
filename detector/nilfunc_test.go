package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// A nil Func adapter is a non-nil interface whose call panics (inside a
// Scan goroutine, where nothing recovers it): Scan and WithSignal refuse
// it like a nil interface, naming the field.
func TestNilFuncAdaptersRefused(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a")
	nilFunc := detector.Func(nil)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tests := []struct {
		name  string
		fleet detector.Fleet
		d     detector.Detector
		field string
	}{
		{"nil MetricsSourceFunc", detector.Fleet{Inventory: cloud, Metrics: provider.MetricsSourceFunc(nil)}, ens, "fleet.metrics"},
		{"nil ActivitySourceFunc", detector.Fleet{Inventory: cloud, Metrics: cloud, Activity: provider.ActivitySourceFunc(nil)}, ens, "fleet.activity"},
		{"nil detector Func", detector.Fleet{Inventory: cloud, Metrics: cloud}, nilFunc, "detector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			require.NotPanics(t, func() { _, err = detector.Scan(t.Context(), tt.fleet, tt.d, detector.ScanConfig{Now: now}) })
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}

	_, err = detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("custom", 1, detector.Func(nil)))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "ensemble.signals[0].detector", ie.Field)
}
