package detector

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestSelectNth checks selectNth against a sort on random, sorted,
// reversed, constant and few-valued inputs of many lengths.
func TestSelectNth(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func(i, n int) float64{
		"random":   func(int, int) float64 { return rng.Float64() },
		"sorted":   func(i, _ int) float64 { return float64(i) },
		"reversed": func(i, n int) float64 { return float64(n - i) },
		"constant": func(int, int) float64 { return 0.5 },
		"few":      func(int, int) float64 { return float64(rng.IntN(3)) },
		"organ":    func(i, n int) float64 { return float64(min(i, n-i)) },
	}
	for name, f := range shapes {
		for _, n := range []int{1, 2, 3, 7, 64, 1000, 4032} {
			a := make([]float64, n)
			for i := range a {
				a[i] = f(i, n)
			}
			want := slices.Sorted(slices.Values(a))
			for _, k := range []int{0, n / 2, n * 95 / 100, n - 1} {
				b := slices.Clone(a)
				selectNth(b, k)
				require.InDelta(t, want[k], b[k], 0, "%s n=%d k=%d", name, n, k)
				for i := range b[:k] {
					require.LessOrEqual(t, b[i], b[k], "%s n=%d k=%d: before", name, n, k)
				}
				for i := k + 1; i < n; i++ {
					require.GreaterOrEqual(t, b[i], b[k], "%s n=%d k=%d: after", name, n, k)
				}
			}
		}
	}
}

// TestP99ByCounting: the p99 rule decided by counting the steps at or
// above a bound (what a compact per-resource state can keep) agrees with
// the nearest-rank p99 value computed from the series, on random windows
// and bounds, and the percentiles are the nearest-rank ones.
func TestP99ByCounting(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for trial := range 300 {
		n := 1 + rng.IntN(5000)
		s := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-time.Duration(n) * 5 * time.Minute), Step: 5 * time.Minute, Values: make([]float64, n)}
		spikes := rng.Float64() * 0.03
		for i := range s.Values {
			switch x := rng.Float64(); {
			case x < 0.02:
				s.Values[i] = math.NaN()
			case x < 0.02+spikes:
				s.Values[i] = 0.2 + 0.8*rng.Float64()
			default:
				s.Values[i] = 0.05 * rng.Float64()
			}
		}
		var data []float64
		for _, x := range s.Values {
			if !math.IsNaN(x) {
				data = append(data, x)
			}
		}
		slices.Sort(data)
		bound := data[rng.IntN(len(data))] // a bound equal to a value is the hard case
		if trial%2 == 0 {
			bound = 0.5 * rng.Float64()
		}
		ws := stats(s, now, time.Duration(n)*5*time.Minute, time.Time{}, 0.1, levels{p99: bound, downsize: bound}, DataQuality{TrustZeros: true}.withDefaults())
		require.Equal(t, len(data), ws.n)
		assert.InDelta(t, data[nearestRank(99, len(data))-1], ws.p99, 0, "trial %d", trial)
		assert.InDelta(t, data[nearestRank(95, len(data))-1], ws.p95, 0, "trial %d", trial)
		assert.InDelta(t, data[len(data)-1], ws.max, 0, "trial %d", trial)
		assert.Equal(t, ws.p99 < bound, ws.p99Below(), "trial %d: p99 %v, bound %v, %d of %d at or above", trial, ws.p99, bound, ws.overP99, ws.n)
	}
}
