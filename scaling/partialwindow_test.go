package scaling_test

import (
	"context"
	"fmt"
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

// window notes the verification window the engine reads: its one-step
// query (the finer reads of the same metric have shorter steps), and
// when it was read (reads). Before the window is read, a finer read
// (which starts 10 minutes before the window) gives its start, and span
// its length.
type window struct {
	mu    sync.Mutex
	win   provider.Query
	span  time.Duration
	reads []time.Time
}

func (w *window) note(q provider.Query) provider.Query {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q.Step == q.End.Sub(q.Start) {
		w.reads = append(w.reads, time.Now())
	}
	if w.win.Start.IsZero() && q.Step == q.End.Sub(q.Start) {
		w.win = q
	}
	if w.win.Start.IsZero() {
		start := q.Start.Add(10 * time.Minute)
		return provider.Query{Start: start, End: start.Add(w.span)}
	}
	return w.win
}

// scaleInVerifiedOn executes a scale in of the memory cloud's group
// "web" from 4 instances to 3, its step verified on src's CPU (stat, at
// most 0.9) over window within timeout, and returns what Execute does.
func scaleInVerifiedOn(t *testing.T, src provider.MetricsSource, window, timeout time.Duration, stat provider.Statistic) (scaling.Execution, error) {
	t.Helper()
	c := web4(t)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, allowAll{})
	require.NoError(t, err)
	p := planFor(t, e, c, "web", 3)
	p.Monitoring = scaling.MonitoringPlan{Window: window, Timeout: timeout,
		Signals: []scaling.Signal{{Metric: provider.MetricCPU, Statistic: stat, Max: fp(0.9)}}}
	return e.Execute(t.Context(), p)
}

// peakRollsBack executes a scale in of the memory cloud's group "web"
// from 4 instances to 3, its step verified on src's CPU max (at most
// 0.9) over span, and checks that the peak of 0.95 in src's window
// fails the step and rolls it back.
func peakRollsBack(t *testing.T, src provider.MetricsSource, span time.Duration) {
	t.Helper()
	c := newCloud(t, 4, memory.Config{})
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
	require.NoError(t, err)
	p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{Verify: scaling.VerifyConfig{
		Window: span, Signals: []scaling.Signal{{Metric: provider.MetricCPU, Statistic: provider.StatMax, Max: fp(0.9)}}}})
	x, err := e.Execute(t.Context(), p)
	require.ErrorIs(t, err, scaling.ErrNotVerified)
	assert.Contains(t, err.Error(), "unhealthy: 0.95")
	assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
}

// lateMinutes is a MetricsSource of CPU as CloudWatch publishes a
// one-minute metric: a sample every minute, each published delay after
// its minute ended; the window's last minute peaks at 0.95, every other
// minute reads 0.5.
type lateMinutes struct {
	window
	delay time.Duration
}

func (l *lateMinutes) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := l.note(q)
	var samples []provider.Sample
	for t := q.Start.Truncate(time.Minute); t.Before(q.End); t = t.Add(time.Minute) {
		if t.Before(q.Start) || t.Add(time.Minute).Add(l.delay).After(time.Now()) {
			continue
		}
		v := 0.5
		if t.Equal(win.End.Add(-time.Minute)) {
			v = 0.95
		}
		samples = append(samples, provider.Sample{Time: t, Value: v})
	}
	return provider.Resample(q, samples)
}

// TestVerificationWaitsForTheWindowsEnd: a window whose first minutes are
// published and whose last are not yet (CloudWatch's minutes late) is
// read again until its data reach its end, not checked on its first
// minutes as if complete: the peak in its last minute, published three
// minutes after the window ended, fails the scale in. It was verified on
// the minutes before and kept.
func TestVerificationWaitsForTheWindowsEnd(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		peakRollsBack(t, &lateMinutes{delay: 3 * time.Minute, window: window{span: 10 * time.Minute}}, 10*time.Minute)
	})
}

// partial is a MetricsSource of CPU at 0.5 sampled every period, stamped
// at the window's start plus whole periods, whose samples stamped in the
// last cut of the window are never published (nor, unless beyond, those
// after the window); it counts the reads of the window (its one-step
// query).
type partial struct {
	window
	period, cut time.Duration
	beyond      bool
}

func (s *partial) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := s.note(q) // notes a read of the window too
	var samples []provider.Sample
	for t := win.Start.Add(-time.Hour); t.Before(q.End); t = t.Add(s.period) {
		missing := !t.Before(win.End.Add(-s.cut)) && (t.Before(win.End) || !s.beyond)
		if t.Before(q.Start) || missing {
			continue
		}
		samples = append(samples, provider.Sample{Time: t, Value: 0.5})
	}
	return provider.Resample(q, samples)
}

// TestPartlyPublishedWindowBoundary pins when a window with data counts
// as published: when its last sample's period reaches the window's end
// (the period inferred from the samples' spacing, before the window
// too), or when a sample lies past its end. A window
// one period short is read again until the Timeout has passed since it
// ended, and then checked on the data it has (healthy here: completed);
// one that is published is checked at its first read.
func TestPartlyPublishedWindowBoundary(t *testing.T) {
	t.Parallel()
	const timeout = 5 * time.Minute
	for _, tc := range []struct {
		name          string
		window        time.Duration
		period, cut   time.Duration
		beyond, waits bool
	}{
		// One-minute samples: the last minute of the window is its last
		// period.
		{"minutes, the last one there", 5 * time.Minute, time.Minute, 0, false, false},
		{"minutes, the last one missing", 5 * time.Minute, time.Minute, time.Minute, false, true},
		// Three-minute samples at 0, 3 and 6 minutes, the one at 6
		// missing: in a 9-minute window its period [6, 9) ends in the
		// window (one period short); in an 8-minute one it ends after
		// the window, but its sample is stamped in it, and the window's
		// last two minutes have no data without it. With the sample at 6
		// there, the 8-minute window is complete: the next, at 9, is
		// stamped after it.
		{"periods, a whole one missing", 9 * time.Minute, 3 * time.Minute, 3 * time.Minute, false, true},
		{"periods, the window ends within the missing one", 8 * time.Minute, 3 * time.Minute, 2 * time.Minute, false, true},
		{"periods, the last one stamped in the window there", 8 * time.Minute, 3 * time.Minute, time.Minute, false, false},
		// The last three minutes missing, but samples published after
		// the window: the source will not fill them in.
		{"published past the window", 5 * time.Minute, time.Minute, 3 * time.Minute, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &partial{period: tc.period, cut: tc.cut, beyond: tc.beyond, window: window{span: tc.window}}
				x, err := scaleInVerifiedOn(t, src, tc.window, timeout, "")
				require.NoError(t, err)
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				src.mu.Lock()
				win, reads := src.win, src.reads
				src.mu.Unlock()
				require.Equal(t, tc.window, win.End.Sub(win.Start), "a window of whole minutes from the minute the step settled in")
				require.NotEmpty(t, reads)
				if tc.waits {
					assert.Equal(t, timeout, reads[len(reads)-1].Sub(reads[0]), "read again until the Timeout")
					assert.Greater(t, len(reads), 2)
					return
				}
				assert.Len(t, reads, 1, "checked at its first read")
			})
		})
	}
}

// windowReads counts the reads of the verification window (one-step
// queries) of the memory cloud; with coarse, the reads on a grid finer
// than the window fail as unsupported (a counter's sum of EC2 basic
// monitoring by the minute).
type windowReads struct {
	*memory.Cloud
	coarse bool
	mu     sync.Mutex
	reads  int
}

func (w *windowReads) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Step != q.End.Sub(q.Start) {
		if w.coarse {
			return provider.Series{}, provider.ErrUnsupported
		}
	} else {
		w.mu.Lock()
		w.reads++
		w.mu.Unlock()
	}
	return w.Cloud.QueryMetric(ctx, q)
}

// TestPublishedWindowIsReadOnce: the memory cloud, which publishes a
// sample as soon as its minute starts, has its window published at the
// first read (a real source's late minutes are waited for, not every
// source's); a source that cannot read the window by the minute has it
// checked on its one-step read, as before.
func TestPublishedWindowIsReadOnce(t *testing.T) {
	t.Parallel()
	for _, coarse := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "coarse"}[coarse], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				src := &windowReads{Cloud: c, coarse: coarse}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
				require.Len(t, p.Monitoring.Signals, 1)
				x, err := e.Execute(t.Context(), p)
				require.NoError(t, err)
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				src.mu.Lock()
				defer src.mu.Unlock()
				assert.Equal(t, 1, src.reads)
			})
		})
	}
}

// offsetPeriods is a MetricsSource of CPU sampled every five minutes (as
// EC2's basic monitoring), each sample stamped at its period's start and
// published delay after the period ended, the periods starting two
// minutes into the verification window: in a window of ten minutes, the
// samples at 2 and 7 minutes are stamped in it, and the period of the one
// at 7 ends after it. That sample peaks at 0.95; the others read 0.5.
type offsetPeriods struct {
	window
	delay time.Duration
}

func (o *offsetPeriods) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := o.note(q)
	const period = 5 * time.Minute
	var samples []provider.Sample
	for t := win.Start.Add(2*time.Minute - 4*period); t.Before(q.End); t = t.Add(period) {
		if t.Before(q.Start) || t.Add(period).Add(o.delay).After(time.Now()) {
			continue
		}
		v := 0.5
		if t.Equal(win.Start.Add(7 * time.Minute)) {
			v = 0.95
		}
		samples = append(samples, provider.Sample{Time: t, Value: v})
	}
	return provider.Resample(q, samples)
}

// TestPeriodEndingAfterTheWindowIsWaitedFor: a window whose end is not
// aligned to its source's periods holds the sample of a period that ends
// after it (stamped in the window at the period's start, so the window's
// read takes it once published). Until that sample is published the window
// is not: its last three minutes have no data. It was taken as published
// (the period "ends after the window"), and the scale in was verified on
// the sample at 2 minutes, missing the peak at 7 published three minutes
// after the window ended; it is now waited for and fails the scale in.
func TestPeriodEndingAfterTheWindowIsWaitedFor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		peakRollsBack(t, &offsetPeriods{delay: time.Minute, window: window{span: 10 * time.Minute}}, 10*time.Minute)
	})
}

// racyPublish is a MetricsSource of CPU by the minute at 0.5 whose
// window's last minute peaks at 0.95 and is published right after the
// first read of the window returns (before the engine's next call).
type racyPublish struct {
	window
	windowReads int
}

func (r *racyPublish) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := r.note(q)
	r.mu.Lock()
	published := r.windowReads > 0
	if q.Step == q.End.Sub(q.Start) {
		r.windowReads++
	}
	r.mu.Unlock()
	var samples []provider.Sample
	for t := q.Start.Truncate(time.Minute); t.Before(q.End) && t.Before(win.End); t = t.Add(time.Minute) {
		v := 0.5
		if t.Equal(win.End.Add(-time.Minute)) {
			if !published {
				continue
			}
			v = 0.95
		}
		if !t.Before(q.Start) {
			samples = append(samples, provider.Sample{Time: t, Value: v})
		}
	}
	return provider.Resample(q, samples)
}

// TestWindowPublishedBetweenTheReads: the window's last minute is
// published between the read of the window and the finer read that
// checks whether it is published. The window is checked on a read made
// after that check: the peak in its last minute fails the scale in. It
// was checked on the read before, which lacked that minute, and passed.
func TestWindowPublishedBetweenTheReads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		peakRollsBack(t, &racyPublish{window: window{span: 5 * time.Minute}}, 5*time.Minute)
	})
}

// throttled is the memory cloud whose reads of a verification window
// are throttled the first throttled times: its one-step reads with
// window, else the finer reads that tell whether it is published.
type throttled struct {
	*memory.Cloud
	window    bool
	mu        sync.Mutex
	throttled int
	reads     int // reads of the throttled kind asked
}

func (s *throttled) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if (q.Step == q.End.Sub(q.Start)) == s.window {
		s.mu.Lock()
		s.reads++
		n := s.reads
		s.mu.Unlock()
		if n <= s.throttled {
			return provider.Series{}, fmt.Errorf("read: %w", provider.ErrThrottled)
		}
	}
	return s.Cloud.QueryMetric(ctx, q)
}

// TestThrottledGridReadIsReadAgain: a throttled read of the finer grid,
// which only tells whether to wait for a window, says nothing of the
// step: the window is read again at the next poll, and the step is
// verified on it. It failed the step ("could not be read") and rolled a
// healthy scale in back.
func TestThrottledGridReadIsReadAgain(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		src := &throttled{Cloud: c, throttled: 2}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		require.Len(t, p.Monitoring.Signals, 1)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		src.mu.Lock()
		defer src.mu.Unlock()
		assert.Equal(t, 3, src.reads, "read again until a read answered")
	})
	// Throttled until the Timeout: the window is then checked on the
	// data it has, as a window not published by then is.
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		src := &throttled{Cloud: c, throttled: 1 << 30}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
		require.NoError(t, err)
		start := time.Now()
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		assert.GreaterOrEqual(t, time.Since(start), scaling.DefaultVerifyTimeout, "waited out the Timeout")
	})
}

// TestThrottledWindowReadIsReadAgain: a throttled read of the window
// itself says nothing of the step either: it is read again at the next
// poll, and the step verified on it. It failed the step ("could not be
// read") and rolled a healthy step back, which the throttled grid read
// no longer did. Throttled until the Timeout, the step is not verified,
// and the error says why.
func TestThrottledWindowReadIsReadAgain(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		src := &throttled{Cloud: c, window: true, throttled: 2}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		src.mu.Lock()
		defer src.mu.Unlock()
		assert.Equal(t, 3, src.reads, "read again until a read answered")
	})
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		src := &throttled{Cloud: c, window: true, throttled: 1 << 30}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
		require.NoError(t, err)
		start := time.Now()
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		require.ErrorIs(t, err, provider.ErrThrottled, "the cause kept")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		assert.GreaterOrEqual(t, time.Since(start), scaling.DefaultVerifyTimeout, "read again until the Timeout")
	})
}
