package monitor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/scaling"
)

// A forecast event whose error is not a number or infinite (a host's
// predictive strategy that reports its InputForecastMASE as NaN, which
// the engine passes on as it is) is recorded with the error unknown (−1):
// it was converted as it was, the Log refused it (a Value must be
// finite), and the fallback and the alert it raises were lost.
func TestScalingForecastErrorNotFiniteIsUnknown(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, k := range []scaling.EventKind{scaling.EventForecastFallback, scaling.EventForecastRecovered} {
			evs := monitor.ScalingEvents(scaling.Event{Time: t0, Kind: k, Target: "web", Value: v}, 0)
			require.Len(t, evs, 1)
			require.NoError(t, l.Record(t.Context(), evs...), "%s %v", k, v)
			assert.InDelta(t, -1, evs[0].Value, 0, "%s %v: unknown", k, v)
		}
	}
}
