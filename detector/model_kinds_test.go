package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestModelLeavesCountedKindsUnterminated pins what a model does to the
// kinds judged on counts (DefaultKinds): the model reads CPU, which a
// function, a load balancer and a volume do not have, so its signal is
// unknown for them, and an unknown signal forbids a terminate. With a
// model, such a resource may be reported idle but is never terminated;
// the same resource without a model is.
func TestModelLeavesCountedKindsUnterminated(t *testing.T) {
	t.Parallel()
	m, err := detector.Train(t.Context(), fleetExamples(3, 6), detector.ModelConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	plain, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	withModel, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithModel(m))
	require.NoError(t, err)
	const long = 28 * 24 * time.Hour
	none := days(28, quiet)
	unused := []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}
	for kind, ms := range map[provider.Kind][]provider.Metric{
		provider.KindFunction:     {provider.MetricInvocations},
		provider.KindLoadBalancer: {provider.MetricRequests},
		provider.KindVolume:       {provider.MetricDiskWrite, provider.MetricDiskRead},
	} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			r := res("r", none.Start)
			r.Kind = kind
			if kind == provider.KindVolume {
				r.State = provider.StateStopped // detached: terminable
			}
			in := detector.Input{Now: tEnd, Resource: r, ActivityFrom: tEnd.Add(-long), Activity: unused}
			for _, m := range ms {
				in.Series = append(in.Series, noEvents(none, m))
			}
			v, err := plain.Detect(t.Context(), in)
			require.NoError(t, err)
			require.Equal(t, detector.ActionTerminate, v.Action, "without a model: %s", v.Explain())

			v, err = withModel.Detect(t.Context(), in)
			require.NoError(t, err)
			assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
			c := signal(t, v, detector.SignalModel)
			assert.Equal(t, detector.Unknown, c.State, "the model has no CPU to read")
			why := reasonsOf(v, detector.ReasonMissing)
			require.NotEmpty(t, why, v.Explain())
			assert.Equal(t, detector.SignalModel, why[0].Signal)
			assert.Equal(t, provider.MetricCPU, why[0].Metric)
			abstained := reason(t, v, detector.ReasonAbstained) // the terminate's refusal names the model
			assert.Equal(t, detector.SignalModel, abstained.Signal)
		})
	}
}
