package reaper_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestSelectConfidenceBounds: the ends of [0, 1] are inside it. A
// confidence of 0 is passed over as below the minimum, not as outside
// [0, 1], and one of 1 meets a minimum of 1; a confidence outside the
// range is passed over naming it exactly as given.
func TestSelectConfidenceBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		give       float64
		min        float64
		wantAction bool
		wantSkip   string
	}{
		{name: "zero", give: 0, wantSkip: "confidence 0.00 below 0.80"},
		{name: "smallest positive", give: math.SmallestNonzeroFloat64, min: 1, wantSkip: "confidence 0.00 below 1.00"},
		{name: "one, minimum one", give: 1, min: 1, wantAction: true},
		{name: "one and a half", give: 1.5, wantSkip: "confidence 1.5 is outside [0, 1]"},
		{name: "just below zero", give: -1e-9, wantSkip: "confidence -1e-09 is outside [0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detector.Verdict{ResourceID: "i-1", State: detector.Idle, Action: detector.ActionStop, Confidence: tt.give}
			got, err := reaper.Select(reaper.Config{MinConfidence: tt.min}, v)
			require.NoError(t, err)
			if tt.wantAction {
				assert.Equal(t, reaper.Selection{Action: "stop"}, got)
				return
			}
			assert.Equal(t, reaper.Selection{Skip: tt.wantSkip}, got)
		})
	}
}

// TestDownsizeThatGrowsNamesTheCurrentSize: the error of a target size
// with more vCPUs than the resource's names the resource's as it is
// (4 vCPU), not rounded to a fixed precision.
func TestDownsizeThatGrowsNamesTheCurrentSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-low", cpu: 0.25, itype: "m5.xlarge"})
	sizer := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) {
		return provider.Size{InstanceType: "m5.2xlarge", VCPU: 8, MemoryMiB: 32768}, nil
	})
	r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-low")
	var ie *provider.InvalidError
	require.ErrorAs(t, rec.Err(), &ie, rec.String())
	assert.Equal(t, "vcpu", ie.Field)
	assert.Equal(t, "is more than the resource's 4: a downsize must not grow it", ie.Reason)
	assert.Empty(t, e.actions(), "not resized")
}
