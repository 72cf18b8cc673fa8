package detector_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// randomShape fills v with segments of random shapes: quiet noise, load,
// exact zeros, gaps, a level near the thresholds, single spikes, a
// working-day pattern; scale multiplies the values (1 for a fraction).
func randomShape(rng *rand.Rand, v []float64, scale float64, start time.Time, step time.Duration) {
	base := rng.Float64() * 0.08
	for i := 0; i < len(v); {
		n := 1 + rng.IntN(1+[...]int{6, 40, 300, 2000}[rng.IntN(4)])
		kind := rng.IntN(9)
		for k := i; k < min(len(v), i+n); k++ {
			var x float64
			switch kind {
			case 0, 1:
				x = base + 0.02*rng.Float64()
			case 2:
				x = 0.3 + 0.6*rng.Float64()
			case 3:
				x = 0
			case 4:
				x = math.NaN()
			case 5:
				x = [...]float64{0.05, 0.1, 0.1, 0.2, 0.35, 0.099}[rng.IntN(6)]
			case 6:
				x = base
				if rng.IntN(50) == 0 {
					x = 0.95
				}
			case 7:
				if h := start.Add(time.Duration(k) * step).Hour(); h >= 9 && h < 17 {
					x = 0.5
				} else {
					x = 0.01
				}
			default:
				base = rng.Float64() * 0.15 // a step change of the level
				x = base
			}
			if !math.IsNaN(x) {
				x *= scale
			}
			v[k] = x
		}
		i += n
	}
}

// TestTrackerEqualsFullReadRandom is the equivalence property on random
// fleets: random shapes (gaps, exact zeros after load, level steps,
// spikes), kinds, zones (with daylight saving time, half-hour and
// half-hour-DST zones), launch times moved, evaluations hours apart and
// now and then off the hour, ensembles with other windows, qualities and
// statistics, trackers at other steps. Every verdict of a Tracker equals
// Scan's. TRACKER_SEEDS="FROM TO" runs seeds FROM to TO−1 (default 0 2).
func TestTrackerEqualsFullReadRandom(t *testing.T) {
	t.Parallel()
	from, to := uint64(0), uint64(2)
	if x := os.Getenv("TRACKER_SEEDS"); x != "" {
		_, _ = fmt.Sscan(x, &from, &to)
	}
	for seed := from; seed < to; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			trackerEqualsFullReadRandom(t, seed)
		})
	}
}

// randomFleet returns a fleet of k resources of random kinds, zones,
// launch times and shapes (randomShape) of n steps of step from start.
func randomFleet(rng *rand.Rand, seed uint64, k int, start time.Time, step time.Duration, n int) *gridFleet {
	zones := []string{"", "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London"}
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{}, quiet: map[string]bool{}}
	for i := range k {
		id := fmt.Sprintf("r-%d-%d", seed, i)
		r := res(id, start.Add(-time.Hour))
		r.TimeZone = zones[rng.IntN(len(zones))]
		var metrics []provider.Metric
		scale := 1.0
		switch rng.IntN(7) {
		case 0:
			r.Kind = provider.KindFunction
			metrics = []provider.Metric{provider.MetricInvocations}
			scale = 1e-4
		case 5:
			r.Kind = provider.KindLoadBalancer
			metrics = []provider.Metric{provider.MetricRequests, provider.MetricConnections}
			scale = 1e-4
		case 1:
			r.Kind = provider.KindVolume
			metrics = []provider.Metric{provider.MetricDiskWrite, provider.MetricDiskRead}
			scale = 1e-4
		default:
			metrics = []provider.Metric{provider.MetricCPU}
			for _, m := range []provider.Metric{provider.MetricMemory, provider.MetricNetworkUtilization, provider.MetricDiskUtilization} {
				if rng.IntN(2) == 0 {
					metrics = append(metrics, m)
				}
			}
		}
		f.series[id] = map[provider.Metric]provider.Series{}
		for _, m := range metrics {
			s := provider.Series{ResourceID: id, Metric: m, Start: start, Step: step, Values: make([]float64, n)}
			randomShape(rng, s.Values, scale, start, step)
			f.series[id][m] = s
		}
		if rng.IntN(3) == 0 {
			r.LaunchTime = start.Add(time.Duration(rng.IntN(30*24*60)) * time.Minute)
		}
		f.resources = append(f.resources, r)
		f.quiet[id] = rng.IntN(2) == 0
	}
	return f
}

func trackerEqualsFullReadRandom(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	const step = 5 * time.Minute
	const n = 40 * 288
	f := randomFleet(rng, seed, 8, start, step, n)
	cfg := detector.EnsembleConfig{}
	tcfg := detector.TrackerConfig{}
	if seed%2 == 1 {
		q := detector.DataQuality{TrustZeros: rng.IntN(2) == 0, MaxStaleness: time.Duration(rng.IntN(3)) * time.Hour, SuspectZeroRun: time.Duration(rng.IntN(3)) * time.Hour}
		cfg.Utilization = detector.UtilizationConfig{Window: time.Duration(1+rng.IntN(48)) * time.Hour, Hold: time.Duration(rng.IntN(4)) * time.Hour, Quality: q,
			Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: [...]provider.Statistic{provider.StatMean, provider.StatMax}[rng.IntN(2)]}}
		q2 := q
		q2.TrustZeros = rng.IntN(2) == 0
		cfg.Schedule = detector.ScheduleConfig{History: time.Duration(7+rng.IntN(21)) * 24 * time.Hour, Quality: q2}
		cfg.Evidence.Window = time.Duration(3+rng.IntN(12)) * 24 * time.Hour
		cfg.Evidence.TerminateWindow = cfg.Evidence.Window + time.Duration(rng.IntN(10))*24*time.Hour
		tcfg.Step = [...]time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute}[rng.IntN(4)]
		tcfg.Statistic = [...]provider.Statistic{"", provider.StatMean, provider.StatMax}[rng.IntN(3)]
	}
	t.Logf("config %+v, tracker %+v", cfg, tcfg)
	ens, err := detector.NewEnsemble(cfg)
	require.NoError(t, err)
	store := &detector.MemoryStateStore{}
	tr, err := detector.NewTracker(ens, tcfg, store)
	require.NoError(t, err)
	end := start.Add(n * step)
	why := map[detector.FullRead]int{}
	states := map[detector.State]int{}
	for _, r := range f.resources {
		for now := start.Add(time.Duration(24+rng.IntN(24*20)) * time.Hour); now.Before(end); now = now.Add(time.Duration(1+rng.IntN(8)) * time.Hour) {
			at := now
			switch rng.IntN(40) {
			case 0:
				at = now.Add(time.Duration(1+rng.IntN(59)) * time.Minute)
			case 1:
				r.LaunchTime = now.Add(-time.Duration(1+rng.IntN(600*60)) * time.Minute)
			case 2:
				r.LaunchTime = now.Add(-time.Duration(rng.IntN(600)) * time.Hour) // on the hour
			case 3:
				r.LaunchTime = time.Time{}
			case 4:
				r.LaunchTime = now.Add(time.Duration(rng.IntN(120)) * time.Minute) // ahead of now
			}
			rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: f}, ens, detector.ScanConfig{Now: at, Step: tcfg.Step, Statistic: tcfg.Statistic})
			require.NoError(t, err)
			require.Len(t, rep.Verdicts, 1)
			want := rep.Verdicts[0]
			got, read, err := tr.Detect(t.Context(), f, nil, r, at)
			require.NoError(t, err)
			require.Equal(t, comparable(want), comparable(got), "%s (%s, %s, launch %s) at %s (full read %v: %s)\nwant %s\ngot  %s",
				r.ID, r.Kind, r.TimeZone, r.LaunchTime, at, read.Full, read.Why, want.Explain(), got.Explain())
			why[read.Why]++
			states[want.State]++
		}
	}
	t.Logf("reads %v, states %v", why, states)
}

// TestSweepEqualsDetectRandom: a Sweep over a random fleet, at random
// hours, with random chunks, parts (MaxPoints) and concurrency, gives
// every resource the verdict a Tracker's Detect gives it alone, and saves
// the same states.
func TestSweepEqualsDetectRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	const n = 36 * 288
	f := randomFleet(rng, 0, 12, start, 5*time.Minute, n)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	sweepStore, aloneStore := &detector.MemoryStateStore{}, &detector.MemoryStateStore{}
	sweeper, err := detector.NewTracker(ens, detector.TrackerConfig{}, sweepStore)
	require.NoError(t, err)
	alone, err := detector.NewTracker(ens, detector.TrackerConfig{}, aloneStore)
	require.NoError(t, err)
	end := start.Add(n * 5 * time.Minute)
	for now := start.Add(29 * 24 * time.Hour); now.Before(end); now = now.Add(time.Duration(1+rng.IntN(12)) * time.Hour) {
		at := now
		if rng.IntN(10) == 0 {
			at = now.Add(time.Duration(1+rng.IntN(59)) * time.Minute)
		}
		// Some resources not swept this time.
		var rs []provider.Resource
		for _, r := range f.resources {
			if rng.IntN(5) > 0 {
				rs = append(rs, r)
			}
		}
		cfg := detector.SweepConfig{Now: at, Chunk: 1 + rng.IntN(8), Concurrency: 1 + rng.IntN(4), MaxPoints: 1 + rng.IntN(40000)}
		rep, err := sweeper.Sweep(t.Context(), f, nil, rs, cfg)
		require.NoError(t, err)
		require.Empty(t, rep.Errors)
		require.Len(t, rep.Verdicts, len(rs))
		slices.SortFunc(rs, func(a, b provider.Resource) int { return strings.Compare(a.ID, b.ID) })
		for i, r := range rs {
			want, _, err := alone.Detect(t.Context(), f, nil, r, at)
			require.NoError(t, err)
			require.Equal(t, comparable(want), comparable(rep.Verdicts[i]), "%s at %s (%+v)", r.ID, at, cfg)
			a, errA := aloneStore.Load(t.Context(), r.ID)
			b, errB := sweepStore.Load(t.Context(), r.ID)
			require.Equal(t, errA, errB)
			require.Equal(t, a, b, "%s's state at %s", r.ID, at)
		}
	}
}
