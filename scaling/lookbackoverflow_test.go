package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestLookbackDoesNotOverflow: the threshold, target-value and HPA
// strategies read a lookback of several steps (Window + 2 steps, five
// steps), which a typo of a step (1000000h) overflowed to a negative
// duration, as 5625bed found for the step strategy: the constructor
// returned a strategy whose Need its own Validate refuses, and a policy
// file was refused naming needs[0].lookback, a field no file has. Such a
// step (or window) is refused naming the field written; every step whose
// lookback fits is taken.
func TestLookbackDoesNotOverflow(t *testing.T) {
	t.Parallel()
	typo := 1_000_000 * time.Hour
	tests := []struct {
		name  string
		give  func() (scaling.MetricNeeder, error)
		field string
	}{
		{"threshold step", func() (scaling.MetricNeeder, error) {
			return scaling.NewThreshold(scaling.ThresholdConfig{Step: typo})
		}, "step"},
		{"threshold window", func() (scaling.MetricNeeder, error) {
			return scaling.NewThreshold(scaling.ThresholdConfig{Window: 1<<63 - 1})
		}, "window"},
		{"target value step", func() (scaling.MetricNeeder, error) {
			return scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.5), Step: typo})
		}, "step"},
		{"hpa step", func() (scaling.MetricNeeder, error) {
			return scaling.NewHPA(scaling.HPAConfig{Step: typo}, "")
		}, "step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.give()
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	// The longest steps and windows whose lookback fits are taken, and
	// their needs are valid.
	long := time.Duration(1<<63-1) / 5
	for _, give := range []func() (scaling.MetricNeeder, error){
		func() (scaling.MetricNeeder, error) {
			return scaling.NewThreshold(scaling.ThresholdConfig{Step: time.Duration(1<<63-1) / 3})
		},
		func() (scaling.MetricNeeder, error) {
			return scaling.NewThreshold(scaling.ThresholdConfig{Step: time.Hour, Window: 1<<63 - 1 - 2*time.Hour})
		},
		func() (scaling.MetricNeeder, error) {
			return scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.5), Step: long})
		},
		func() (scaling.MetricNeeder, error) { return scaling.NewHPA(scaling.HPAConfig{Step: long}, "") },
	} {
		s, err := give()
		require.NoError(t, err)
		for _, n := range s.Needs() {
			require.NoError(t, n.Validate())
		}
	}
}
