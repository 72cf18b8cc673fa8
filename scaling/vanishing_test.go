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
	"github.com/idlescale/idlescale/scaling"
)

// vanishing is a MetricsSource of CPU at 0.95, one sample a minute, whose
// samples stop two minutes into the verification window; it answers only
// its first read of the window (and the finer read that follows it), and
// every later read has no data at all, as the Kubernetes metrics API
// does for pods it no longer reports.
type vanishing struct {
	window
	reads int // reads of the window (its one-step query)
}

func (s *vanishing) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := s.note(q)
	s.mu.Lock()
	if q.Step == q.End.Sub(q.Start) {
		s.reads++
	}
	reads := s.reads
	s.mu.Unlock()
	var samples []provider.Sample
	for t := win.Start.Add(-time.Hour); reads == 1 && t.Before(win.Start.Add(2*time.Minute)); t = t.Add(time.Minute) {
		if !t.Before(q.Start) && t.Before(q.End) {
			samples = append(samples, provider.Sample{Time: t, Value: 0.95})
		}
	}
	return provider.Resample(q, samples)
}

// TestVerificationKeepsTheLatestReadWithData: a window read with data
// that do not reach its end is read again until the Timeout; when the
// later reads have no data at all, the step is checked on the latest
// read that had some (its peak of 0.95 fails the scale in), not taken for
// a window with no data.
func TestVerificationKeepsTheLatestReadWithData(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &vanishing{}
		x, err := scaleInVerifiedOn(t, src, 5*time.Minute, 5*time.Minute, provider.StatMax)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, err.Error(), "unhealthy: 0.95", "checked on the read with data")
		assert.NotContains(t, err.Error(), "no data")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		src.mu.Lock()
		defer src.mu.Unlock()
		assert.Greater(t, src.reads, 2, "read again until the Timeout")
	})
}

// pastOnly is a MetricsSource of CPU at 0.5 with a sample every minute
// from the verification window's end on, and none in the window: the
// source publishes past it, and its one-step read has no data.
type pastOnly struct {
	window
}

func (s *pastOnly) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := s.note(q) // notes a read of the window too
	var samples []provider.Sample
	for t := win.End; t.Before(q.End) && !t.After(time.Now()); t = t.Add(time.Minute) {
		if !t.Before(q.Start) {
			samples = append(samples, provider.Sample{Time: t, Value: 0.5})
		}
	}
	return provider.Resample(q, samples)
}

// TestWindowWithoutDataIsReadUntilTheTimeout: a window whose one-step
// read has no data is read again until the Timeout has passed since it
// ended, even when its source has samples after it: whether a window is
// published is asked only of a window with data, and one without data
// fails the step only once the Timeout has passed ("nor published
// within").
func TestWindowWithoutDataIsReadUntilTheTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 5 * time.Minute
	synctest.Test(t, func(t *testing.T) {
		src := &pastOnly{}
		x, err := scaleInVerifiedOn(t, src, 5*time.Minute, timeout, "")
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, err.Error(), "no data")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		src.mu.Lock()
		defer src.mu.Unlock()
		require.NotEmpty(t, src.reads)
		assert.Equal(t, timeout, src.reads[len(src.reads)-1].Sub(src.reads[0]), "read again until the Timeout")
	})
}

// fiveMinutes is a MetricsSource of CPU at 0.5 as EC2's basic monitoring
// publishes it: a sample every 5 minutes of the clock, stamped at the
// start of its period and published once the period has ended. It counts
// the reads of the verification window (its one-step query).
type fiveMinutes struct {
	mu    sync.Mutex
	reads []time.Time
}

func (s *fiveMinutes) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	if q.Step == q.End.Sub(q.Start) {
		s.mu.Lock()
		s.reads = append(s.reads, time.Now())
		s.mu.Unlock()
	}
	var samples []provider.Sample
	for t := q.Start.Truncate(5 * time.Minute); t.Before(q.End) && !t.Add(5*time.Minute).After(time.Now()); t = t.Add(5 * time.Minute) {
		if !t.Before(q.Start) {
			samples = append(samples, provider.Sample{Time: t, Value: 0.5})
		}
	}
	return provider.Resample(q, samples)
}

// TestFiveMinuteSamplesSeenBeforeTheWindow: a source that samples every
// 5 minutes (EC2's basic monitoring) has one sample in a 5-minute
// verification window, at its start; its period is seen in the samples
// before the window (publishLookback), so the window is published at its
// first read: its only period ends at the window's end. Taken for a
// one-minute source (without the samples before the window), it would be
// read again for the Timeout, waiting for minutes the source never
// publishes.
func TestFiveMinuteSamplesSeenBeforeTheWindow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &fiveMinutes{}
		x, err := scaleInVerifiedOn(t, src, 5*time.Minute, 5*time.Minute, "")
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		src.mu.Lock()
		defer src.mu.Unlock()
		assert.Len(t, src.reads, 1, "checked at its first read")
	})
}
