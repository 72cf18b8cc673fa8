package detector

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
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
		if len(data) == 0 {
			continue // every step a gap: nothing to rank (possible for n = 1)
		}
		slices.Sort(data)
		// A bound equal to a value is the hard case; the values at the
		// p99's rank and just above it are the boundary of p99Below.
		rank := nearestRank(99, len(data))
		var bound float64
		switch trial % 4 {
		case 0:
			bound = 0.5 * rng.Float64()
		case 1:
			bound = data[rng.IntN(len(data))]
		case 2:
			bound = data[min(rank, len(data)-1)] // n − rank values at or above it: p99 below
		case 3:
			bound = data[rank-1] // the p99 itself: not below
		}
		ws := stats(s, now, time.Duration(n)*5*time.Minute, time.Time{}, 0.1, levels{p99: bound, downsize: bound}, DataQuality{TrustZeros: true}.withDefaults())
		require.Equal(t, len(data), ws.n)
		assert.InDelta(t, data[nearestRank(99, len(data))-1], ws.p99, 0, "trial %d", trial)
		assert.InDelta(t, data[nearestRank(95, len(data))-1], ws.p95, 0, "trial %d", trial)
		assert.InDelta(t, data[len(data)-1], ws.max, 0, "trial %d", trial)
		assert.Equal(t, ws.p99 < bound, ws.p99Below(), "trial %d: p99 %v, bound %v, %d of %d at or above", trial, ws.p99, bound, ws.overP99, ws.n)
	}
}

func TestAtMost(t *testing.T) {
	t.Parallel()
	assert.True(t, atMost(0.10, 0.10), "the limit itself")
	assert.True(t, atMost(0.30000000000000004/3, 0.10), "a rounding error of a mean at the limit")
	assert.False(t, atMost(0.1000001, 0.10))
	assert.True(t, atMost(5e6, 5e6))
	assert.False(t, atMost(5.00001e6, 5e6))
}

// hourBucket is what a compact per-resource state would keep for one hour
// of one metric: counts, a sum and a maximum (see "Evidence" in the package
// documentation).
type hourBucket struct {
	n, idle, overP99, overDown int
	sum, max                   float64
	peak                       bool
}

// TestEvidenceFromHourlyCounts: the evidence decisions can be computed
// from hourly buckets of counts, sums and maxima instead of the series. On
// every NAB EC2 CPU trace played twice (28 days), at every hourly check
// point of the last 7 days, merging the buckets of the window gives the
// same steps with data, the same count over the p99 bound (so the same p99
// decision), the same max and, per hour of the week, the same observed,
// idle, seen and peak counts as the detector's full reads.
func TestEvidenceFromHourlyCounts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "nab", "ec2_cpu_utilization_*.csv"))
	require.NoError(t, err)
	require.Len(t, files, 8)
	ens, err := NewEnsemble(EnsembleConfig{})
	require.NoError(t, err)
	b := ens.cfg.Evidence.PeakBounds[provider.MetricCPU]
	lv := levels{p99: b.P99, downsize: ens.cfg.Evidence.DownsizeP99 * (1 - ens.cfg.DownsizeSaving)}
	thr := ens.sched.cfg.Threshold
	for _, f := range files {
		samples, err := trace.ReadCSVFile(f, trace.CSVOptions{Scale: 0.01})
		require.NoError(t, err)
		start := samples[0].Time.Truncate(time.Hour)
		end := samples[len(samples)-1].Time.Add(5 * time.Minute)
		one, err := provider.Resample(provider.Query{ResourceID: "r", Metric: provider.MetricCPU, Start: start, End: end, Step: 5 * time.Minute}, samples)
		require.NoError(t, err)
		s := one.Clone()
		s.Values = append(slices.Clone(one.Values), one.Values...)
		// The state: one bucket per hour, filled once.
		buckets := map[time.Time]*hourBucket{}
		for i, x := range s.Values {
			h := s.TimeAt(i).Truncate(time.Hour)
			bk := buckets[h]
			if bk == nil {
				bk = &hourBucket{max: math.Inf(-1)}
				buckets[h] = bk
			}
			if math.IsNaN(x) {
				continue
			}
			bk.n++
			bk.sum += x
			bk.max = max(bk.max, x)
			if x < thr {
				bk.idle++
			}
			if x >= lv.p99 {
				bk.overP99++
			}
			if x >= lv.downsize {
				bk.overDown++
			}
			bk.peak = bk.peak || x >= b.Max
		}
		in := Input{Now: s.End(), Resource: provider.Resource{ID: "r", Kind: provider.KindInstance}, Series: []provider.Series{s}}
		for now := s.End().Truncate(time.Hour).Add(-7 * 24 * time.Hour); !now.After(s.End()); now = now.Add(time.Hour) {
			in.Now = now
			ws := stats(s, now, ens.cfg.Evidence.Window, time.Time{}, 0.10, lv, ens.util.cfg.Quality)
			var m hourBucket
			m.max = math.Inf(-1)
			for h := now.Add(-ens.cfg.Evidence.Window); h.Before(now); h = h.Add(time.Hour) {
				if bk := buckets[h]; bk != nil {
					m.n += bk.n
					m.overP99 += bk.overP99
					m.overDown += bk.overDown
					m.max = max(m.max, bk.max)
				}
			}
			require.Equal(t, ws.n, m.n, "%s %s", f, now)
			require.Equal(t, ws.overP99, m.overP99, "%s %s", f, now)
			require.Equal(t, ws.overDownsize, m.overDown, "%s %s", f, now)
			require.InDelta(t, ws.max, m.max, 0, "%s %s", f, now)
			var p Profile
			code, _ := ens.sched.learn(&in, metricData{in: &in}, &p)
			require.Equal(t, qOK, code)
			var q Profile
			for h := now.Add(-ens.sched.cfg.History); h.Before(now); h = h.Add(time.Hour) {
				bk := buckets[h]
				if bk == nil || bk.n == 0 {
					continue
				}
				slot := p.Slot(h)
				q.Observed[slot] += uint32(bk.n)
				q.IdleSteps[slot] += uint32(bk.idle)
				q.HoursSeen[slot]++
				if bk.peak {
					q.PeakHours[slot]++
				}
			}
			require.Equal(t, p.Observed, q.Observed, "%s %s", f, now)
			require.Equal(t, p.IdleSteps, q.IdleSteps, "%s %s", f, now)
			require.Equal(t, p.HoursSeen, q.HoursSeen, "%s %s", f, now)
			require.Equal(t, p.PeakHours, q.PeakHours, "%s %s", f, now)
		}
	}
}

// TestStatsPercentilesWhenTheSampleMisleads: the percentiles collect only
// the values above a cut taken from an evenly spaced sample; a series whose
// sampled steps are exactly its rare peaks puts the cut above the p95, and
// the statistics must still be exact.
func TestStatsPercentilesWhenTheSampleMisleads(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 4096
	s := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-n * 5 * time.Minute), Step: 5 * time.Minute, Values: make([]float64, n)}
	for i := range s.Values {
		s.Values[i] = 0.01 + 0.0001*float64(i%50)
		if i%(n/64) == 0 {
			s.Values[i] = 1 // every sampled step, and only those
		}
	}
	assert.InDelta(t, 1, sampleCut(s.Values), 0, "the sample sees only the peaks")
	ws := stats(s, now, n*5*time.Minute, time.Time{}, 0.1, levels{p99: 0.1, downsize: 0.35}, DataQuality{}.withDefaults())
	data := slices.Sorted(slices.Values(s.Values))
	require.Equal(t, n, ws.n)
	assert.InDelta(t, data[nearestRank(95, n)-1], ws.p95, 0)
	assert.InDelta(t, data[nearestRank(99, n)-1], ws.p99, 0)
	assert.InDelta(t, 1, ws.max, 0)
	assert.Equal(t, 64, ws.overP99)
}

// TestStatsLeavesOutSuspectZeros pins that the evidence statistics do not
// count a run of zeros the quality rules mask (an hour of zeros right
// after a value at the threshold: an agent that stopped reporting), and
// that p99Below is false without data.
func TestStatsLeavesOutSuspectZeros(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 288
	s := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-n * 5 * time.Minute), Step: 5 * time.Minute, Values: make([]float64, n)}
	for i := range s.Values {
		s.Values[i] = 0.02
	}
	s.Values[99] = 0.1
	for i := 100; i < 112; i++ { // an hour of zeros after 0.1
		s.Values[i] = 0
	}
	q := DataQuality{}.withDefaults()
	ws := stats(s, now, 24*time.Hour, time.Time{}, 0.1, levels{p99: 0.5, downsize: 0.5}, q)
	require.Equal(t, qOK, ws.code)
	assert.Equal(t, n-12, ws.n, "the masked zeros are not data")
	assert.InDelta(t, 0.02, ws.p95, 0, "the p95 of the data, not of the zeros")
	trusted := stats(s, now, 24*time.Hour, time.Time{}, 0.1, levels{p99: 0.5, downsize: 0.5}, DataQuality{TrustZeros: true}.withDefaults())
	assert.Equal(t, n, trusted.n, "trusted zeros count")

	// The window's only data masked: suspect zeros, not "no steps".
	for i := 100; i < n; i++ {
		s.Values[i] = 0
	}
	ws = stats(s, now, time.Duration(n-100)*5*time.Minute, time.Time{}, 0.1, levels{p99: 0.5, downsize: 0.5}, q)
	assert.Equal(t, qZeros, ws.code)
	assert.Equal(t, ReasonSuspectZeros, ws.why.Code)
	assert.Zero(t, ws.n)
	// Launched after the last step: no data, and nothing wrong with it.
	ws = stats(flatCopy(s), now, 24*time.Hour, now.Add(-time.Minute), 0.1, levels{p99: 0.5, downsize: 0.5}, q)
	assert.Equal(t, qOK, ws.code)
	assert.Zero(t, ws.n)
	assert.True(t, math.IsNaN(ws.p99) && math.IsNaN(ws.max))

	assert.False(t, (&windowStats{}).p99Below(), "no data: nothing is below")
	assert.True(t, (&windowStats{n: 1}).p99Below())
	assert.False(t, (&windowStats{n: 1, overP99: 1}).p99Below())
}

// flatCopy is s with every value 0.02.
func flatCopy(s provider.Series) provider.Series {
	c := s.Clone()
	for i := range c.Values {
		c.Values[i] = 0.02
	}
	return c
}

// TestStatsPercentilesMostlyGaps: when most sampled steps are gaps, the
// sample cannot place a cut (−Inf: every value is collected), and the
// statistics are exact over the values there are.
func TestStatsPercentilesMostlyGaps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 4096
	s := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-n * 5 * time.Minute), Step: 5 * time.Minute, Values: make([]float64, n)}
	var data []float64
	for i := range s.Values {
		s.Values[i] = math.NaN()
		if i%4 == 3 { // never a sampled step (multiples of 64)
			s.Values[i] = 0.01 + 0.001*float64(i%97)
			data = append(data, s.Values[i])
		}
	}
	assert.True(t, math.IsInf(sampleCut(s.Values), -1))
	ws := stats(s, now, n*5*time.Minute, time.Time{}, 0.1, levels{p99: 0.1, downsize: 0.35}, DataQuality{}.withDefaults())
	slices.Sort(data)
	require.Equal(t, len(data), ws.n)
	assert.InDelta(t, data[nearestRank(95, len(data))-1], ws.p95, 0)
	assert.InDelta(t, data[nearestRank(99, len(data))-1], ws.p99, 0)
	assert.InDelta(t, data[len(data)-1], ws.max, 0)
}

// TestStatsPercentilesWhenTheSampleMisleadsLeaveOutSuspectZeros: when the
// sample's cut is above the p95 and every value is collected again, the
// masked suspect zeros (an hour of zeros after a value at the threshold)
// are still left out, as the first pass left them out of n.
func TestStatsPercentilesWhenTheSampleMisleadsLeaveOutSuspectZeros(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 4096
	s := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-n * 5 * time.Minute), Step: 5 * time.Minute, Values: make([]float64, n)}
	var data []float64
	for i := range s.Values {
		switch {
		case i%(n/64) == 0:
			s.Values[i] = 1 // every sampled step, and only those
		case i == 99:
			s.Values[i] = 0.1
		case i >= 100 && i < 112: // an hour of zeros after 0.1: masked
			s.Values[i] = 0
			continue
		default:
			s.Values[i] = 0.01 + 1e-6*float64(i) // all different
		}
		data = append(data, s.Values[i])
	}
	require.InDelta(t, 1, sampleCut(s.Values), 0, "the sample sees only the peaks")
	ws := stats(s, now, n*5*time.Minute, time.Time{}, 0.1, levels{p99: 0.5, downsize: 0.5}, DataQuality{}.withDefaults())
	require.Equal(t, qOK, ws.code)
	slices.Sort(data)
	require.Equal(t, n-12, ws.n, "the masked zeros are not data")
	assert.InDelta(t, data[nearestRank(95, len(data))-1], ws.p95, 0)
	assert.InDelta(t, data[nearestRank(99, len(data))-1], ws.p99, 0)
	assert.InDelta(t, 1, ws.max, 0)
}
