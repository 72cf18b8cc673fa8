package scaling_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// gappy is a MetricsSource of CPU at 0.5 sampled every minute, with no
// samples from 6 to 1 minutes before the verification window (an agent
// restarted) nor in the window's last minute (not published yet); it
// notes the times of the reads of the window (its one-step query).
type gappy struct {
	window
}

func (s *gappy) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := s.note(q) // notes a read of the window too
	var samples []provider.Sample
	for t := win.Start.Add(-time.Hour); t.Before(q.End); t = t.Add(time.Minute) {
		gap := !t.Before(win.Start.Add(-6*time.Minute)) && t.Before(win.Start)
		last := !t.Before(win.End.Add(-time.Minute))
		if t.Before(q.Start) || gap || last {
			continue
		}
		samples = append(samples, provider.Sample{Time: t, Value: 0.5})
	}
	return provider.Resample(q, samples)
}

// TestGapBeforeTheWindowIsNoPeriod: the source's period is the shortest
// spacing of its samples, not a longer one across a gap before the
// window: a one-minute source whose window misses its last minute is read
// again until the Timeout, though a gap of 6 minutes lies before it
// (taken for the period, the window would count as published).
func TestGapBeforeTheWindowIsNoPeriod(t *testing.T) {
	t.Parallel()
	const timeout = 5 * time.Minute
	synctest.Test(t, func(t *testing.T) {
		src := &gappy{}
		x, err := scaleInVerifiedOn(t, src, 5*time.Minute, timeout, "")
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		src.mu.Lock()
		defer src.mu.Unlock()
		require.NotEmpty(t, src.reads)
		assert.Equal(t, timeout, src.reads[len(src.reads)-1].Sub(src.reads[0]), "read again until the Timeout")
	})
}
