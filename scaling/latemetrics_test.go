package scaling_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// published reads the memory cloud as CloudWatch answers: a period's
// datapoint is published minutes after the period ends, and a period
// not published yet reads as a gap.
type published struct {
	*memory.Cloud
	delay time.Duration
}

func (p published) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	s, err := p.Cloud.QueryMetric(ctx, q)
	for i := range s.Values {
		if s.TimeAt(i).Add(s.Step).Add(p.delay).After(time.Now()) {
			s.Values[i] = math.NaN()
		}
	}
	return s, err
}

// TestVerificationWaitsForMetricsPublishedLate: CloudWatch publishes a
// minute's datapoint a few minutes after the minute. A scale in is
// verified once the signal's data for its window has arrived (read again
// within the monitoring plan's Timeout), instead of failing at once on
// a window not published yet: every scale in was rolled back on AWS.
func TestVerificationWaitsForMetricsPublishedLate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: published{Cloud: c, delay: 3 * time.Minute}}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		require.NotEmpty(t, p.Monitoring.Signals)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)

		// Data that never arrives is still unknown: not verified, once
		// the Timeout has passed.
		c2 := newCloud(t, 4, memory.Config{})
		e2, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c2, Metrics: published{Cloud: c2, delay: 24 * time.Hour}}, safetyGate(t))
		require.NoError(t, err)
		start := time.Now()
		x, err = e2.Execute(t.Context(), e2.Plan(decide(t, e2, c2, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Equal(t, scaling.PlanRolledBack, x.Status)
		assert.GreaterOrEqual(t, time.Since(start), scaling.DefaultVerifyTimeout, "read again until the Timeout")
	})
}
