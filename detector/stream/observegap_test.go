package stream_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
	"github.com/idlescale/idlescale/provider"
)

// TestObserveGapEndsTheRun: a machine idle for half an hour of 5-minute
// steps whose agent then dies while the machine is busy; no sample arrives
// for a day, and when the agent comes back two idle-looking values arrive.
// Observe took the missing day as if no time had passed: the run went on
// from 6 to 8 values and Idle(8), "below the threshold for 40 minutes",
// held although the machine was measured for 40 minutes in all, a day
// apart. Steps without data end the run, as a NaN gap does (and as a
// provider.Series gap and the batch detector treat them): after the
// outage the run starts again at the first value.
func TestObserveGapEndsTheRun(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	for _, tt := range []struct {
		name string
		give stream.SummaryConfig
	}{
		{name: "default step", give: stream.SummaryConfig{Threshold: 0.10}},
		{name: "explicit step", give: stream.SummaryConfig{Threshold: 0.10, Step: step}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := stream.NewSummary(tt.give)
			require.NoError(t, err)
			p, err := stream.NewPercentileSummary(tt.give, 1)
			require.NoError(t, err)
			at := t0
			for range 6 {
				require.NoError(t, s.Observe(at, 0.02))
				require.NoError(t, p.Observe(at, 0.02))
				at = at.Add(step)
			}
			require.Equal(t, 6, s.Run())
			at = at.Add(24 * time.Hour) // the agent was dead for a day
			for range 2 {
				require.NoError(t, s.Observe(at, 0.02))
				require.NoError(t, p.Observe(at, 0.02))
				at = at.Add(step)
			}
			assert.Equal(t, 2, s.Run(), "the day without data ends the run")
			assert.Equal(t, 2, p.Run(), "the day without data ends the run")
			assert.False(t, s.Idle(8))
			assert.False(t, p.Idle(8))
			assert.Equal(t, 8, s.Count(), "the gap is not a value")
		})
	}
}

// Samples a little late (jitter under half a step) keep the run; one
// whole step missing ends it; one in the step of the previous one adds
// no step.
func TestObserveGapTolerance(t *testing.T) {
	t.Parallel()
	const step = time.Minute
	for _, tt := range []struct {
		name string
		give time.Duration // from the previous sample
		want int           // run after a run of 3 and this sample
	}{
		{name: "on time", give: step, want: 4},
		{name: "late by under half a step", give: step + step/2 - time.Nanosecond, want: 4},
		{name: "late by half a step", give: step + step/2, want: 4},
		{name: "late by more than half a step", give: step + step/2 + time.Nanosecond, want: 1},
		{name: "one step missing", give: 2 * step, want: 1},
		// In the step of the previous value: the step counts once (see
		// TestObserveRunCountsSteps).
		{name: "early", give: step / 2, want: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1, Step: step})
			require.NoError(t, err)
			at := t0
			for range 3 {
				require.NoError(t, s.Observe(at, 0.01))
				at = at.Add(step)
			}
			require.NoError(t, s.Observe(at.Add(-step).Add(tt.give), 0.01))
			assert.Equal(t, tt.want, s.Run())
		})
	}
}

// SummaryConfig.Step defaults to 5 minutes; a negative one is refused
// naming stream.step.
func TestSummaryConfigStep(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		give    time.Duration
		wantErr bool
	}{
		{name: "zero means the default", give: 0},
		{name: "a second", give: time.Second},
		{name: "an hour", give: time.Hour},
		{name: "negative", give: -time.Minute, wantErr: true},
		{name: "smallest negative", give: -1, wantErr: true},
		{name: "most negative", give: math.MinInt64, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := stream.SummaryConfig{Threshold: 0.1, Step: tt.give}
			_, err := stream.NewSummary(cfg)
			_, perr := stream.NewPercentileSummary(cfg, 1)
			if !tt.wantErr {
				require.NoError(t, err)
				require.NoError(t, perr)
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "stream.step", ie.Field)
			require.ErrorIs(t, perr, provider.ErrInvalid)
		})
	}
	// The default: a sample 7.5 minutes after the previous keeps the run,
	// one 10 minutes after it (a 5-minute step missing) ends it.
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	require.NoError(t, s.Observe(t0, 0.01))
	require.NoError(t, s.Observe(t0.Add(7*time.Minute+30*time.Second), 0.01))
	assert.Equal(t, 2, s.Run())
	require.NoError(t, s.Observe(t0.Add(17*time.Minute+30*time.Second), 0.01))
	assert.Equal(t, 1, s.Run())
}
