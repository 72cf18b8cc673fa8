package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestVerticalFunctionBoundaries pins a function's sizing where it turns:
// a change of exactly MinChange (10 %) is made, a smaller one is not, for
// memory and for the timeout, up and down; the timeout is at least one
// second; a function of unknown memory keeps its size (it recommended a
// size without memory, which the engine rejected); the fitness is 0.9 ×
// the share of the lookback with memory data, or with duration data when
// there is no memory data; and the reason names what was decided.
func TestVerticalFunctionBoundaries(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	flat := func(m provider.Metric, v float64) provider.Series { return flatSeries(m, 5*time.Minute, 12, v) }
	tests := []struct {
		name    string
		give    scaling.Target
		series  []provider.Series
		want    provider.Size // zero: keep the size
		fitness float64
		reason  string
	}{
		{
			// 0.9 × 640 × 1.15 = 662.4 MiB → 704 (64 MiB steps): +10 % exactly.
			name:    "memory up by exactly MinChange",
			give:    fnTarget(640, 10*time.Second),
			series:  []provider.Series{flat(provider.MetricMemory, 0.9)},
			want:    provider.Size{MemoryMiB: 704, Timeout: 10 * time.Second},
			fitness: 0.9,
			reason:  "memory 640 → 704 MiB",
		},
		{
			// 0.75 × 640 × 1.15 = 552 MiB → 576: −10 % exactly.
			name:    "memory down by exactly MinChange",
			give:    fnTarget(640, 10*time.Second),
			series:  []provider.Series{flat(provider.MetricMemory, 0.75)},
			want:    provider.Size{MemoryMiB: 576, Timeout: 10 * time.Second},
			fitness: 0.9,
			reason:  "memory 640 → 576 MiB",
		},
		{
			// 0.9 × 704 × 1.15 = 728.6 MiB → 768: +9.1 %, not worth it.
			name:    "memory up by less than MinChange",
			give:    fnTarget(704, 10*time.Second),
			series:  []provider.Series{flat(provider.MetricMemory, 0.9)},
			fitness: 0.9,
			reason:  "memory 704 MiB and timeout 10s fit",
		},
		{
			// p99 7 s × 1.5 = 10.5 → 11 s: +10 % exactly.
			name:    "timeout up by exactly MinChange",
			give:    fnTarget(640, 10*time.Second),
			series:  []provider.Series{flat(provider.MetricDuration, 7)},
			fitness: 0.9, // the duration's coverage: no memory data
			want:    provider.Size{MemoryMiB: 640, Timeout: 11 * time.Second},
			reason:  "timeout 10s → 11s",
		},
		{
			// 6 s × 1.5 = 9 s: −10 % exactly.
			name:    "timeout down by exactly MinChange",
			give:    fnTarget(640, 10*time.Second),
			series:  []provider.Series{flat(provider.MetricDuration, 6)},
			fitness: 0.9, // the duration's coverage: no memory data
			want:    provider.Size{MemoryMiB: 640, Timeout: 9 * time.Second},
			reason:  "timeout 10s → 9s",
		},
		{
			// 6.4 s × 1.5 = 9.6 → 10 s, of 11 s: −9.1 %, not worth it.
			name:    "timeout down by less than MinChange",
			give:    fnTarget(640, 11*time.Second),
			series:  []provider.Series{flat(provider.MetricDuration, 6.4)},
			fitness: 0.9, // the duration's coverage: no memory data
			reason:  "memory 640 MiB and timeout 11s fit",
		},
		{
			name:    "a timeout of at least one second",
			give:    fnTarget(640, 10*time.Second),
			series:  []provider.Series{flat(provider.MetricDuration, 0)},
			fitness: 0.9, // the duration's coverage: no memory data
			want:    provider.Size{MemoryMiB: 640, Timeout: time.Second},
			reason:  "timeout 10s → 1s",
		},
		{
			name:    "a function with no timeout gets one",
			give:    fnTarget(640, 0),
			series:  []provider.Series{flat(provider.MetricDuration, 2)},
			fitness: 0.9, // the duration's coverage: no memory data
			want:    provider.Size{MemoryMiB: 640, Timeout: 3 * time.Second},
			reason:  "timeout 0s → 3s",
		},
		{
			// Usage is a share of the memory: with the memory unknown the
			// size stays (a size without memory is no function's).
			name:   "unknown memory",
			give:   fnTarget(0, 10*time.Second),
			series: []provider.Series{flat(provider.MetricMemory, 0.5), flat(provider.MetricDuration, 2)},
			reason: "the function's memory is unknown",
		},
		{
			// Six of the hour's twelve steps have data: fitness 0.45.
			name:    "half the lookback with memory data",
			give:    fnTarget(1024, 10*time.Second),
			series:  []provider.Series{series(provider.MetricMemory, t0, 5*time.Minute, gap, 0.5, gap, 0.5, gap, 0.5, gap, 0.5, gap, 0.5, gap, 0.5)},
			want:    provider.Size{MemoryMiB: 640, Timeout: 10 * time.Second},
			fitness: 0.45,
			reason:  "memory 1024 → 640 MiB",
		},
		{
			// No memory data (an AWS Lambda function without Lambda
			// Insights) and the duration on six of the twelve steps: the
			// duration's coverage, 0.45 (it was 0, "no opinion", for
			// every such function).
			name:    "half the lookback with duration data alone",
			give:    fnTarget(1024, 10*time.Second),
			series:  []provider.Series{series(provider.MetricDuration, t0, 5*time.Minute, gap, 2, gap, 2, gap, 2, gap, 2, gap, 2, gap, 2)},
			want:    provider.Size{MemoryMiB: 1024, Timeout: 3 * time.Second},
			fitness: 0.45,
			reason:  "timeout 10s → 3s",
		},
		{
			name:   "only gaps",
			give:   fnTarget(1024, 10*time.Second),
			series: []provider.Series{flatSeries(provider.MetricMemory, 5*time.Minute, 12, gap), flatSeries(provider.MetricDuration, 5*time.Minute, 12, gap)},
			reason: "no memory or duration data",
		},
		{
			name:   "no series",
			give:   fnTarget(1024, 10*time.Second),
			reason: "no memory or duration data",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := s.Recommend(t.Context(), stateWith(tt.give, tt.series...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.Size, rec.Reason)
			assert.Equal(t, tt.reason, rec.Reason)
			assert.InDelta(t, tt.fitness, rec.Fitness, 1e-12)
			if !tt.want.IsZero() {
				require.NoError(t, rec.Validate(tt.give))
			}
		})
	}
}

// TestVerticalWeightedQuantile pins the weighted quantile the vertical
// strategy sizes from: the smallest value whose cumulative weight
// reaches q × the total weight (inclusive), with weights halving every
// HalfLife of age and gaps left out. With a one-hour half-life and hourly
// samples 4, 3, 2 and 1 hours old the weights are 1/16, 1/8, 1/4 and 1/2
// (total 15/16); at q = 0.6 the target is 9/16 exactly, reached by the
// two lowest values: the oldest (1 s, 1/16) and the newest (2 s, 1/2).
func TestVerticalWeightedQuantile(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{HalfLife: time.Hour, Lookback: 6 * time.Hour, Step: time.Hour, TimeoutPercentile: 0.6})
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		values []float64 // durations, oldest first, ending an hour before now
		want   time.Duration
	}{
		// 2 s × 1.5 = 3 s; had the rounding tolerance gone the other way
		// (the target missed by 1e-12), 3 s × 1.5 = 4.5 → 5 s.
		{"the target reached exactly", []float64{1, 4, 3, 2}, 3 * time.Second},
		// The same with gaps between: their slots weigh nothing. Ages 6,
		// 4, 3, 1 h: weights 1/64, 1/16, 1/8, 1/2 (total 45/64, target
		// 27/64 = 0.421875): 1 s (1/64), then 2 s reaches 33/64.
		{"gaps weigh nothing", []float64{1, gap, 4, 3, gap, 2}, 3 * time.Second},
		// Unweighted, the 0.6 quantile of 1, 2, 8 and 9 s is 8 s (a 12 s
		// timeout); weighted, the two newest hold 3/4 of the weight: 2 s.
		{"recent samples weigh more", []float64{9, 8, 2, 1}, 3 * time.Second},
		// Old samples are not ignored: the newest (1 s) holds 1/2 < 9/16
		// of the weight, so the quantile is the next value, 7 s (11 s).
		{"old samples still count", []float64{9, 8, 7, 1}, 11 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := s.Recommend(t.Context(), stateWith(fnTarget(1024, 60*time.Second), series(provider.MetricDuration, t0, time.Hour, tt.values...)))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.Size.Timeout, rec.Reason)
		})
	}
}

// TestVerticalPicksTheCheapest pins the order of the catalogue's types
// that fit: the cheapest whatever its vCPUs (a pricier type with fewer
// vCPUs after it does not win), then, at equal cost, the fewer vCPUs
// whatever the name; and a function's inputs are named by their
// percentiles.
func TestVerticalPicksTheCheapest(t *testing.T) {
	t.Parallel()
	inst := scaling.Target{ID: "i", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "big", VCPU: 16, MemoryMiB: 65536}}}
	flat := func(m provider.Metric, v float64) provider.Series { return flatSeries(m, 5*time.Minute, 12, v) }
	for _, tt := range []struct {
		name    string
		catalog []scaling.InstanceType
		want    string
	}{
		{"cheapest first, then a pricier one with fewer vCPUs", []scaling.InstanceType{{Name: "cheap", VCPU: 4, MemoryMiB: 16384, HourlyCost: 0.1}, {Name: "pricey", VCPU: 3, MemoryMiB: 16384, HourlyCost: 0.2}}, "cheap"},
		{"equal cost: fewer vCPUs before a smaller name", []scaling.InstanceType{{Name: "b", VCPU: 2.5, MemoryMiB: 16384, HourlyCost: 0.1}, {Name: "a", VCPU: 3, MemoryMiB: 16384, HourlyCost: 0.1}}, "b"},
	} {
		s, err := scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: tt.catalog, Lookback: time.Hour, Step: 5 * time.Minute})
		require.NoError(t, err)
		rec, err := s.Recommend(t.Context(), stateWith(inst, flat(provider.MetricCPU, 0.1), flat(provider.MetricMemory, 0.1)))
		require.NoError(t, err)
		assert.Equal(t, tt.want, rec.Size.InstanceType, "%s: %s", tt.name, rec.Reason)
	}

	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), stateWith(fnTarget(1024, 60*time.Second), flat(provider.MetricMemory, 0.5), flat(provider.MetricDuration, 2)))
	require.NoError(t, err)
	var names []string
	for _, in := range rec.Inputs {
		names = append(names, in.Name)
	}
	assert.Equal(t, []string{"memory p90", "memory needed", "duration p99"}, names)
}
