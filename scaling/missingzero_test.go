package scaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// event is one sample of an event count: value events in the minute at
// minute into the verification window, published when after the
// window's end (negative: before it).
type event struct {
	minute int
	value  float64
	when   time.Duration
}

// eventCount is a MetricsSource of errors as CloudWatch publishes a
// count (Lambda's Errors, an ALB's HTTPCode_Target_5XX_Count): a sample
// for a minute with events only, none for a quiet one. Its reads of the
// window (one-step queries) up to throttled (if set) after the window's
// end are throttled; it notes when the window is read.
type eventCount struct {
	window
	events    []event
	throttled time.Duration
}

func (s *eventCount) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	win := s.note(q) // notes a read of the window too
	if q.Step == q.End.Sub(q.Start) {
		if s.throttled > 0 && !time.Now().After(win.End.Add(s.throttled)) {
			return provider.Series{}, fmt.Errorf("read: %w", provider.ErrThrottled)
		}
	}
	var samples []provider.Sample
	for _, ev := range s.events {
		if time.Now().Before(win.End.Add(ev.when)) {
			continue // not published yet
		}
		samples = append(samples, provider.Sample{Time: win.Start.Add(time.Duration(ev.minute) * time.Minute), Value: ev.value})
	}
	return provider.Resample(q, samples)
}

// noted returns the window and its reads.
func (s *eventCount) noted() (provider.Query, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.win, s.reads
}

// errorsSum is the signal of errors summed over the window, at most
// maxErrors, MissingIsZero with delay.
func errorsSum(maxErrors float64, delay time.Duration) scaling.Signal {
	return scaling.Signal{Metric: provider.MetricErrors, Statistic: provider.StatSum, Max: fp(maxErrors), MissingIsZero: true, PublishDelay: delay}
}

// verifiedOnEvents executes a step of the memory cloud's group "web"
// from `from` instances to `to`, verified on src with sig over a
// 5-minute window within a 10-minute Timeout, and returns what Execute
// does.
func verifiedOnEvents(t *testing.T, src provider.MetricsSource, sig scaling.Signal, from, to int) (scaling.Execution, error) {
	t.Helper()
	c := newCloud(t, from, memory.Config{})
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
	require.NoError(t, err)
	p := e.Plan(decide(t, e, c, to), scaling.PlanOptions{})
	require.Len(t, p.Steps, 1)
	p.Monitoring = scaling.MonitoringPlan{Window: 5 * time.Minute, Timeout: 10 * time.Minute, Signals: []scaling.Signal{sig}}
	return e.Execute(t.Context(), p)
}

// TestQuietEventCountIsHealthy: an error count has no data in a window
// without errors. A MissingIsZero signal reads it as 0, healthy when 0
// is in range, once PublishDelay has passed after the window (5 minutes
// by default, not the 10-minute Timeout). Without MissingIsZero the same
// window is unknown and rolls the step back at the Timeout, as before:
// so did every quiet step verified on an error count.
func TestQuietEventCountIsHealthy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		delay time.Duration
		want  time.Duration // the last read, after the window's end
	}{
		{"default delay", 0, scaling.DefaultPublishDelay},
		{"2-minute delay", 2 * time.Minute, 2 * time.Minute},
		{"delay cut to the Timeout", time.Hour, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &eventCount{}
				x, err := verifiedOnEvents(t, src, errorsSum(0, tc.delay), 4, 3)
				require.NoError(t, err)
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				win, reads := src.noted()
				require.Equal(t, 5*time.Minute, win.End.Sub(win.Start))
				require.NotEmpty(t, reads)
				assert.Equal(t, win.End.Add(tc.want), reads[len(reads)-1], "read again until the delay passed, and then no more")
			})
		})
	}
	t.Run("zero unhealthy", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sig := errorsSum(0, 0)
			sig.Max, sig.Min = nil, fp(1)
			x, err := verifiedOnEvents(t, &eventCount{}, sig, 4, 3)
			require.ErrorIs(t, err, scaling.ErrNotVerified)
			assert.Contains(t, err.Error(), "unhealthy: 0")
			assert.Contains(t, err.Error(), "(missing is 0)")
			assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		})
	})
	t.Run("without MissingIsZero", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sig := errorsSum(0, 0)
			sig.MissingIsZero = false
			src := &eventCount{window: window{span: 5 * time.Minute}}
			x, err := verifiedOnEvents(t, src, sig, 4, 3)
			require.ErrorIs(t, err, scaling.ErrNotVerified)
			assert.Contains(t, err.Error(), "no data for signal")
			assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
			_, reads := src.noted()
			assert.Equal(t, 10*time.Minute, reads[len(reads)-1].Sub(reads[0]), "read again until the Timeout")
		})
	})
}

// TestSparseEventCountWaitsOnlyThePublishDelay: a window with a few
// errors, whose samples never reach its end (its last minutes were
// quiet), counted as partly published and was read again until the
// Timeout (10 minutes) on every step. A MissingIsZero signal is checked
// once PublishDelay has passed after the window, on the errors
// published by then.
func TestSparseEventCountWaitsOnlyThePublishDelay(t *testing.T) {
	t.Parallel()
	for _, delay := range []time.Duration{0, 2 * time.Minute} {
		t.Run(fmt.Sprint(delay), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &eventCount{events: []event{{minute: 1, value: 2, when: -3 * time.Minute}, {minute: 2, value: 1, when: time.Minute}}}
				x, err := verifiedOnEvents(t, src, errorsSum(3, delay), 4, 3)
				require.NoError(t, err)
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				want := delay
				if want == 0 {
					want = scaling.DefaultPublishDelay
				}
				win, reads := src.noted()
				assert.Equal(t, win.End.Add(want), reads[len(reads)-1])

				// One error more, published late but within the delay,
				// is seen.
				src = &eventCount{events: append(src.events, event{minute: 4, value: 1, when: want - time.Second})}
				x, err = verifiedOnEvents(t, src, errorsSum(3, delay), 4, 3)
				require.ErrorIs(t, err, scaling.ErrNotVerified)
				assert.Contains(t, err.Error(), "unhealthy: 4")
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
			})
		})
	}
}

// TestEventCountPublishDelayBoundary pins the delay's boundary: errors
// published up to PublishDelay after the window (the read at the delay
// included) fail the step; published after it, they are not waited for,
// and the step is verified on the quiet window. A delay that is not a
// whole number of polls after the window's wait (2m10s: the polls are
// 15 s apart, from 30 s after the window's end) is read at, not at the
// poll after it.
func TestEventCountPublishDelayBoundary(t *testing.T) {
	t.Parallel()
	for _, delay := range []time.Duration{0, 2 * time.Minute, 2*time.Minute + 10*time.Second} {
		d := delay
		if d == 0 {
			d = scaling.DefaultPublishDelay
		}
		for _, tc := range []struct {
			name string
			when time.Duration
			seen bool
		}{
			{"just before", d - time.Second, true},
			{"at the delay", d, true},
			{"just after", d + time.Second, false},
		} {
			t.Run(fmt.Sprint(delay, " ", tc.name), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					src := &eventCount{events: []event{{minute: 4, value: 3, when: tc.when}}}
					x, err := verifiedOnEvents(t, src, errorsSum(0, delay), 4, 3)
					if tc.seen {
						require.ErrorIs(t, err, scaling.ErrNotVerified)
						assert.Contains(t, err.Error(), "unhealthy: 3")
						assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
						return
					}
					require.NoError(t, err)
					assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				})
			})
		}
	}
}

// TestEventCountToZeroWaitsForItsDelay: a step to zero instances passes
// a signal without data at its first read (no instance is left to
// report it), but a MissingIsZero signal counts events that need no
// instance to be reported (a load balancer's errors): it is waited for
// as at any capacity, and errors published late fail the step.
func TestEventCountToZeroWaitsForItsDelay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &eventCount{events: []event{{minute: 1, value: 5, when: time.Minute}}}
		x, err := verifiedOnEvents(t, src, errorsSum(0, 0), 1, 0)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, err.Error(), "unhealthy: 5")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
	})
	synctest.Test(t, func(t *testing.T) {
		src := &eventCount{}
		x, err := verifiedOnEvents(t, src, errorsSum(0, 0), 1, 0)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		win, reads := src.noted()
		assert.Equal(t, win.End.Add(scaling.DefaultPublishDelay), reads[len(reads)-1])
	})
}

// TestThrottledEventCountIsNotZero: a throttled read of a MissingIsZero
// signal's window is no answer, not a window without events: it is read
// again at the next poll, and never answered by the Timeout, the step is
// not verified, with the throttling as cause.
func TestThrottledEventCountIsNotZero(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &eventCount{throttled: 24 * time.Hour}
		x, err := verifiedOnEvents(t, src, errorsSum(0, 0), 4, 3)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		require.ErrorIs(t, err, provider.ErrThrottled)
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		_, reads := src.noted()
		assert.Equal(t, 10*time.Minute, reads[len(reads)-1].Sub(reads[0]), "read again until the Timeout")
	})
	// Throttled at the delay: read again until a read answers.
	synctest.Test(t, func(t *testing.T) {
		src := &eventCount{events: []event{{minute: 3, value: 1, when: 4 * time.Minute}}}
		// The read at the delay and the next (15 s later) are throttled.
		src.throttled = scaling.DefaultPublishDelay + 15*time.Second
		x, err := verifiedOnEvents(t, src, errorsSum(0, 0), 4, 3)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, err.Error(), "unhealthy: 1")
		win, reads := src.noted()
		assert.Equal(t, win.End.Add(scaling.DefaultPublishDelay+30*time.Second), reads[len(reads)-1])
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
	})
}

// TestMissingIsZeroValidation: a negative PublishDelay, one without
// MissingIsZero (which it would not apply to) and one longer than the
// Timeout are refused, naming the field.
func TestMissingIsZeroValidation(t *testing.T) {
	t.Parallel()
	sig := errorsSum(0, time.Minute)
	require.NoError(t, sig.Validate())
	for _, tc := range []struct {
		name string
		mod  func(*scaling.Signal)
	}{
		{"negative", func(s *scaling.Signal) { s.PublishDelay = -time.Second }},
		{"without missing_is_zero", func(s *scaling.Signal) { s.MissingIsZero = false }},
	} {
		s := sig
		tc.mod(&s)
		var inv *provider.InvalidError
		require.ErrorAs(t, s.Validate(), &inv, tc.name)
		assert.Equal(t, "publish_delay", inv.Field, tc.name)
	}
	v := scaling.VerifyConfig{Timeout: 5 * time.Minute, ScaleOutSignals: []scaling.Signal{errorsSum(0, 6*time.Minute)}}
	var inv *provider.InvalidError
	require.ErrorAs(t, v.Validate(), &inv)
	assert.Equal(t, "scale_out_signals[0].publish_delay", inv.Field)
	v.ScaleOutSignals[0].PublishDelay = 5 * time.Minute
	require.NoError(t, v.Validate())
	v.Timeout = 0 // the engine's: the delay is cut to it
	v.ScaleOutSignals[0].PublishDelay = time.Hour
	require.NoError(t, v.Validate())
}

// TestMissingIsZeroConfig: the fields read from a policy and write to
// JSON under their names.
func TestMissingIsZeroConfig(t *testing.T) {
	t.Parallel()
	target := func(verify string) string {
		return "targets:\n  - id: web\n    verify: " + verify + "\n    strategies: [{type: threshold}]\n"
	}
	cfg, err := scaling.ParseConfig(strings.NewReader(target("{scale_out_signals: [{metric: errors, statistic: sum, max: 0, missing_is_zero: true, publish_delay: 3m}]}")))
	require.NoError(t, err)
	require.Len(t, cfg.Targets, 1)
	assert.Equal(t, []scaling.Signal{errorsSum(0, 3*time.Minute)}, cfg.Targets[0].Verify.ScaleOutSignals)
	b, err := json.Marshal(errorsSum(0, 3*time.Minute))
	require.NoError(t, err)
	assert.JSONEq(t, `{"metric":"errors","statistic":"sum","max":0,"missing_is_zero":true,"publish_delay":180000000000}`, string(b))

	_, err = scaling.ParseConfig(strings.NewReader(target("{timeout: 2m, signals: [{metric: errors, max: 0, missing_is_zero: true, publish_delay: 3m}]}")))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].verify.signals[0].publish_delay", inv.Field)
}

// TestEventCountWindowEndingAfterItsWaitWaitsTheWholeDelay: a window
// that is not a whole number of minutes is read in whole minutes, so the
// window read may end after the wait for it (here a 5m10s window read
// over 6 minutes ends some 20 s after it). Its PublishDelay (the default
// 5 minutes, cut to the 5-minute Timeout) runs from the read window's
// end, and errors published within it fail the step. The polls stopped
// at the Timeout counted from the wait's end, before the delay had
// passed, and a window whose errors were not yet published was taken
// for a quiet one (no data read as 0): the step was verified.
func TestEventCountWindowEndingAfterItsWaitWaitsTheWholeDelay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &eventCount{events: []event{{minute: 5, value: 3, when: scaling.DefaultPublishDelay - time.Second}}}
		c := newCloud(t, 4, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: src}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		p.Monitoring = scaling.MonitoringPlan{Window: 5*time.Minute + 10*time.Second, Timeout: 5 * time.Minute,
			Signals: []scaling.Signal{errorsSum(0, 0)}}
		x, err := e.Execute(t.Context(), p)
		win, reads := src.noted()
		require.Equal(t, 6*time.Minute, win.End.Sub(win.Start), "read in whole minutes")
		require.NotEmpty(t, reads)
		assert.Equal(t, win.End.Add(scaling.DefaultPublishDelay), reads[len(reads)-1], "read again until the delay passed since the read window's end")
		require.ErrorIs(t, err, scaling.ErrNotVerified, "errors published within the delay")
		assert.Contains(t, err.Error(), "unhealthy: 3")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
	})
}

// TestMissingIsZeroRefusesStatisticsTheZerosWouldLower: a MissingIsZero
// signal's window is reduced over the samples published, without the
// zeros of its quiet periods. Its min, last or a percentile of those is
// not what the zeros would give (they would lower it to 0, or toward
// it): a window with one error in one minute of five read as a min of 1,
// where the zeros give 0, so a signal with a floor passed a window that
// was mostly quiet. Such a signal is refused, naming the statistic; sum,
// max, mean and count are accepted, as is a min without MissingIsZero.
func TestMissingIsZeroRefusesStatisticsTheZerosWouldLower(t *testing.T) {
	t.Parallel()
	for _, st := range []provider.Statistic{provider.StatMin, provider.StatLast, "p90", "p99.9"} {
		sig := errorsSum(0, 0)
		sig.Statistic = st
		var inv *provider.InvalidError
		require.ErrorAs(t, sig.Validate(), &inv, st)
		assert.Equal(t, "statistic", inv.Field, st)
		assert.Contains(t, inv.Error(), "missing_is_zero", st)

		v := scaling.VerifyConfig{ScaleOutSignals: []scaling.Signal{sig}}
		require.ErrorAs(t, v.Validate(), &inv, st)
		assert.Equal(t, "scale_out_signals[0].statistic", inv.Field, st)

		sig.MissingIsZero = false
		require.NoError(t, sig.Validate(), "%s without missing_is_zero", st)
	}
	for _, st := range []provider.Statistic{"", provider.StatSum, provider.StatMax, provider.StatMean, provider.StatCount} {
		sig := errorsSum(0, 0)
		sig.Statistic = st
		require.NoError(t, sig.Validate(), st)
	}
}
