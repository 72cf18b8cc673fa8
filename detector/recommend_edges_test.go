package detector_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestRecommendActsOnlyAboveTheThreshold pins that a confidence exactly
// at ActThreshold (0.8) recommends nothing and says so, and one above it
// goes on to the evidence.
func TestRecommendActsOnlyAboveTheThreshold(t *testing.T) {
	t.Parallel()
	now := t0.Add(3 * 24 * time.Hour)
	for _, tt := range []struct {
		score     float64
		belowConf bool
	}{{0.8, true}, {math.Nextafter(0.8, 1), false}} {
		ens, err := detector.NewEnsemble(detector.EnsembleConfig{AllowWithoutUtilization: true},
			detector.WithSignal("a", 1, fixedVote(detector.Idle, tt.score)), detector.WithSignal("b", 1, fixedVote(detector.Idle, tt.score)))
		require.NoError(t, err)
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("vm", t0)})
		require.NoError(t, err)
		require.Equal(t, detector.Idle, v.State)
		require.InDelta(t, tt.score, v.Confidence, 0)
		got := reasonsOf(v, detector.ReasonBelowConf)
		if tt.belowConf {
			require.Len(t, got, 1, v.Explain())
			assert.Equal(t, detector.Reason{Signal: "ensemble", Code: detector.ReasonBelowConf, Value: 0.8, Limit: 0.8}, got[0])
		} else {
			assert.Empty(t, got, v.Explain())
		}
		assert.Equal(t, detector.ActionNone, v.Action)
	}
}

// TestRecommendCoverageAtItsLimit pins the evidence's coverage rule at
// MinCoverage (95 %) exactly: over a 20-day window (5,760 steps), 5,472
// steps of data are enough and 5,471 are not.
func TestRecommendCoverageAtItsLimit(t *testing.T) {
	t.Parallel()
	const steps = 20 * 288
	now := t0.Add(steps * 5 * time.Minute)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{Window: 20 * 24 * time.Hour}})
	require.NoError(t, err)
	for _, tt := range []struct {
		data  int
		short bool
	}{{5472, false}, {5471, true}} {
		cpu := flat("vm", now, 20, func(i int) float64 {
			if i < steps-tt.data {
				return math.NaN()
			}
			return 0.01
		})
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("vm", t0.Add(-time.Hour)), Series: []provider.Series{cpu}})
		require.NoError(t, err)
		require.Equal(t, detector.Idle, v.State, v.Explain())
		require.Greater(t, v.Confidence, 0.8, v.Explain())
		short := reasonsOf(v, detector.ReasonShortEvidence)
		if tt.short {
			require.Len(t, short, 1, v.Explain())
			assert.InDelta(t, 5471.0/5760, short[0].Value, 1e-12)
		} else {
			assert.Empty(t, short, v.Explain())
		}
	}
}

// TestRecommendReasonFigures pins the figures the recommendation's
// reasons carry: an idle group's downsize compares its p99 and max scaled
// to the smaller size (÷ (1 − DownsizeSaving)) with the limits, and a
// function's terminate rule reports the activity window it saw (Quiet,
// 30 minutes, when the input does not say) against the 28 days it needs.
func TestRecommendReasonFigures(t *testing.T) {
	t.Parallel()
	now := t0.Add(30 * 24 * time.Hour)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cpu := flat("g", now, 30, func(int) float64 { return 0.01 })
	group := res("g", t0.Add(-time.Hour))
	group.Kind = provider.KindGroup
	v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: group, Series: []provider.Series{cpu}})
	require.NoError(t, err)
	require.Equal(t, detector.ActionDownsize, v.Action, v.Explain())
	fits := reasonsOf(v, detector.ReasonFits)
	require.Len(t, fits, 2, v.Explain())
	assert.InDelta(t, 0.02, fits[0].Value, 1e-12, "p99 0.01 on half the size")
	assert.InDelta(t, 0.7, fits[0].Limit, 0)
	assert.InDelta(t, 0.02, fits[1].Value, 1e-12, "max 0.01 on half the size")
	assert.InDelta(t, 0.9, fits[1].Limit, 0)

	fn := res("g", t0.Add(-time.Hour)) // the series above is resource g's
	fn.Kind = provider.KindFunction
	v, err = ens.Detect(t.Context(), detector.Input{Now: now, Resource: fn, Series: []provider.Series{noEvents(cpu, provider.MetricInvocations)},
		Activity: []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}})
	require.NoError(t, err)
	noUse := reasonsOf(v, detector.ReasonNoUse)
	require.Len(t, noUse, 1, v.Explain())
	assert.Equal(t, 30*time.Minute, noUse[0].Duration)
	assert.InDelta(t, float64(28*24*time.Hour), noUse[0].Limit, 0)
	assert.Equal(t, detector.ActionNone, v.Action, "30 minutes of activity data do not show 28 days of no use")
}
