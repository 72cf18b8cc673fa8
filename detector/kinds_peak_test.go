package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestTerminateReadsTheKindsPeaks: a function whose own invocations show
// use inside the terminate window (a monthly job, invoked 20 days ago) is
// not terminated, whatever the activity source says: its counts, like a
// machine's CPU, have a peak bound (DefaultPeakBounds of its kind's
// thresholds). Before, the bounds were the CPU lens's only, and an
// activity source that does not count the invocations (logins, or API
// calls on the function's configuration, none in 28 days) let the
// terminate through on the 24-hour utilization and the learned week,
// which one invocation 20 days ago does not move. A load balancer's
// requests likewise.
func TestTerminateReadsTheKindsPeaks(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	long := 28 * 24 * time.Hour
	for kind, m := range map[provider.Kind]provider.Metric{provider.KindFunction: provider.MetricInvocations, provider.KindLoadBalancer: provider.MetricRequests} {
		none := noEvents(days(28, quiet), m)
		detect := func(s provider.Series) detector.Verdict {
			r := res("r", s.Start)
			r.Kind = kind
			v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}, ActivityFrom: tEnd.Add(-long),
				Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}})
			require.NoError(t, err)
			return v
		}
		v := detect(none)
		require.Equal(t, detector.ActionTerminate, v.Action, "%s: none in 28 days: %v", kind, v.Explain())
		v = detect(eventAt(none, tEnd.Add(-20*24*time.Hour)))
		assert.Equal(t, detector.Idle, v.State, "%s: %v", kind, v.Explain())
		assert.Equal(t, detector.ActionNone, v.Action, "%s: one use 20 days ago: %v", kind, v.Explain())
		if v.Action == detector.ActionNone {
			peak := reason(t, v, detector.ReasonPeak)
			assert.Equal(t, m, peak.Metric, v.Explain())
		}
	}
}

// TestConfigKindsIsACopy: what a caller does to the Kinds of an
// ensemble's Config() (a copy to start another configuration from) does
// not reach the ensemble, which is safe for concurrent use and judges as
// it was made: before, Config() returned the ensemble's own map, and the
// thresholds its load balancers were judged on with it.
func TestConfigKindsIsACopy(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	kinds := ens.Config().Kinds
	kinds[provider.KindLoadBalancer].Utilization.Thresholds[provider.MetricRequests] = 1e9
	kinds[provider.KindLoadBalancer].Utilization.Required[0] = provider.MetricCPU
	delete(kinds, provider.KindFunction)
	assert.Equal(t, detector.DefaultKinds(), ens.Config().Kinds)

	s := eventAt(noEvents(days(28, quiet), provider.MetricRequests), tEnd.Add(-3*time.Hour))
	r := res("r", s.Start)
	r.Kind = provider.KindLoadBalancer
	v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.NotIdle, v.State, "a request 3 hours ago: %v", v.Explain())
}
