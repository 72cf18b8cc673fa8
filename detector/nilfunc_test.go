package detector_test

import (
	"context"
	"math"
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

// A custom signal needs a name and a finite weight ≥ 0; each error names
// the signal's field.
func TestCustomSignalValidation(t *testing.T) {
	t.Parallel()
	quiet := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.9}, nil
	})
	for _, tc := range []struct {
		name   string
		weight float64
		field  string
	}{
		{"", 1, "ensemble.signals[0].name"},
		{"cost", math.NaN(), "ensemble.signals.cost.weight"},
		{"cost", math.Inf(1), "ensemble.signals.cost.weight"},
		{"cost", -0.5, "ensemble.signals.cost.weight"},
	} {
		_, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal(tc.name, tc.weight, quiet))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q %v", tc.name, tc.weight)
		assert.Equal(t, tc.field, ie.Field)
	}
	_, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("cost", 0, quiet))
	require.NoError(t, err, "a weight of 0 is allowed")
}

// A custom signal may not take a built-in signal's name, nor the
// ensemble's or the evidence's (the Signal of its own reasons), nor
// another custom signal's: a stop's veto rule reads the activity's and the
// schedule's votes from their own rules, by name, so that a host's GPU
// signal named "schedule" that measured the machine busy was outvoted and
// the machine stopped.
func TestCustomSignalNamesAreItsOwn(t *testing.T) {
	t.Parallel()
	busy := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle, Score: 0.03}, nil
	})
	for _, name := range []string{detector.SignalUtilization, detector.SignalActivity, detector.SignalSchedule, detector.SignalModel, "ensemble", "evidence"} {
		_, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal(name, 0.1, busy))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q", name)
		assert.Equal(t, "ensemble.signals[0].name", ie.Field, "%q", name)
		assert.Equal(t, name, ie.Value, "%q", name)
	}
	_, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, busy), detector.WithSignal("gpu", 0.1, busy))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie, "a name given twice")
	assert.Equal(t, "ensemble.signals[1].name", ie.Field)
	_, err = detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, busy), detector.WithSignal("cost", 0.1, busy))
	require.NoError(t, err)
}
