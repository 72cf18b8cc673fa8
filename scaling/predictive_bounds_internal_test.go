package scaling

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPredictiveFallbackReasonAtTheBound: a strategy that fell back and
// whose rolling error is now exactly MaxError is not above it (the
// fallback is for an error above MaxError): its reason says the error is
// back from above the bound but not yet at most 0.9 × MaxError, not that
// it is above it.
func TestPredictiveFallbackReasonAtTheBound(t *testing.T) {
	t.Parallel()
	c := PredictiveConfig{CapacityPerInstance: 10}.withDefaults()
	require.InDelta(t, 1.0, c.MaxError, 0)
	tests := []struct {
		name string
		mase float64
		want string
	}{
		{name: "at the bound", mase: c.MaxError, want: "back below 1.00 but not yet at most 0.90"},
		{name: "above", mase: 1.01, want: "above 1.00: falling back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := predictiveDecision{Standing: StandingFallback, MASE: tt.mase, Last: 25, Reactive: 3}
			assert.Contains(t, d.reason(c, nil), tt.want)
		})
	}
}

// TestPredictorRollingErrorOfSparseScores pins when the rolling error of
// a window of 24 hourly steps is known from fewer than a quarter of its
// steps (6): 4 scored steps over at least a quarter of its time (6 h)
// since the first of them, counted from the first, not the latest; and
// never without a scale (a history of constant demand), however many
// steps were scored.
func TestPredictorRollingErrorOfSparseScores(t *testing.T) {
	t.Parallel()
	c := PredictiveConfig{CapacityPerInstance: 50, Step: time.Hour, ErrorWindow: 24 * time.Hour}.withDefaults()
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		scores  []time.Duration // the scored steps' starts after t0
		seenEnd time.Duration
		scale   float64
		known   bool
	}{
		{name: "every fourth step, 13 h since the first", scores: []time.Duration{0, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour}, seenEnd: 13 * time.Hour, scale: 1, known: true},
		{name: "exactly a quarter of the window since the first", scores: []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, seenEnd: 6 * time.Hour, scale: 1, known: true},
		{name: "less than a quarter since the first", scores: []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, seenEnd: 6*time.Hour - time.Nanosecond, scale: 1},
		{name: "no scale", scores: []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 5 * time.Hour}, seenEnd: 6 * time.Hour, scale: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPredictor(c)
			require.Len(t, p.errs, 24)
			p.scale = tt.scale
			for _, d := range tt.scores {
				p.score(t0.Add(d), 1)
			}
			p.seenEnd = t0.Add(tt.seenEnd)
			if !tt.known {
				assert.True(t, math.IsNaN(p.mase()), "MASE %v", p.mase())
				return
			}
			assert.InDelta(t, 1, p.mase(), 1e-12)
		})
	}
}
