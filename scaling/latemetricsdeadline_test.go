package scaling_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// readTimes is published that notes when each window (by its start) was
// read.
type readTimes struct {
	published
	mu    sync.Mutex
	reads map[time.Time][]time.Time
}

func (r *readTimes) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	r.mu.Lock()
	r.reads[q.Start] = append(r.reads[q.Start], time.Now())
	r.mu.Unlock()
	return r.published.QueryMetric(ctx, q)
}

// TestLateMetricsDeadlineIsTheTimeout: a signal whose data never arrives
// is read again until the monitoring plan's Timeout has passed since its
// first read, and not longer: with a poll interval of 7 minutes, which
// does not divide the Timeout of 10, the step's window is read at 0, 7
// and 10 minutes (the last wait cut to end at the Timeout), then the
// step fails verification. (Kills the mutants of verify's last wait.)
func TestLateMetricsDeadlineIsTheTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		m := &readTimes{published: published{Cloud: c, delay: 24 * time.Hour}, reads: map[time.Time][]time.Time{}}
		e, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 7 * time.Minute}, scaling.Cloud{Scaler: c, Metrics: m}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		require.Equal(t, 10*time.Minute, p.Monitoring.Timeout)
		require.Len(t, p.Monitoring.Signals, 1)
		_, err = e.Execute(t.Context(), p)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		m.mu.Lock()
		defer m.mu.Unlock()
		var first time.Time
		for start := range m.reads {
			if first.IsZero() || start.Before(first) {
				first = start
			}
		}
		reads := m.reads[first]
		require.NotEmpty(t, reads)
		var at []time.Duration
		for _, r := range reads {
			at = append(at, r.Sub(reads[0]))
		}
		assert.Equal(t, []time.Duration{0, 7 * time.Minute, 10 * time.Minute}, at, "the step's window read until the Timeout")
	})
}
