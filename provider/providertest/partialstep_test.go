package providertest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/providertest"
)

// TestCorrectDriverPassesWithAPartialLastStep: a correct driver (the
// memory cloud) passes the suite with a Subject.MetricQuery whose range
// ends inside a step (5½ steps) and whose data go on past End with
// larger values. MetricsSource/Statistics read twice the step up to
// q.Start + 2·⌊Steps()/2⌋ steps, Steps() counting the partial step: past
// End (to Start + 6 steps), so the last step of twice the step held a
// sample the range's own steps did not, and a correct driver failed.
func TestCorrectDriverPassesWithAPartialLastStep(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Subject {
		s := newMemorySubject(t)
		q := &s.MetricQuery
		q.Metric, q.End = provider.MetricMemory, q.Start.Add(11*q.Step/2)
		var samples []provider.Sample
		for k := range 48 {
			at := q.Start.Add(time.Duration(k) * 5 * time.Minute)
			v := 0.3 + float64(k%4)/10
			if !at.Before(q.End) {
				v = 0.95 // past End: no step of the range holds it
			}
			samples = append(samples, provider.Sample{Time: at, Value: v})
		}
		require.NoError(t, s.Provider.(*memory.Cloud).AddSamples("i-1", provider.MetricMemory, samples...))
		s.FirstSample = q.Start
		return s
	})
}
