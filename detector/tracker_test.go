package detector_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// gridFleet serves full-grid series by resource and metric: a query gets
// the steps of [Start, End), gaps outside the stored series; a metric it
// does not hold is unsupported. Activity is zero of every kind over the
// whole query (no use) for the resources in quiet.
type gridFleet struct {
	resources []provider.Resource
	series    map[string]map[provider.Metric]provider.Series
	quiet     map[string]bool
}

func (f *gridFleet) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return slices.Clone(f.resources), nil
}

func (f *gridFleet) Get(_ context.Context, id string) (provider.Resource, error) {
	for _, r := range f.resources {
		if r.ID == id {
			return r, nil
		}
	}
	return provider.Resource{}, provider.ErrNotFound
}

func (f *gridFleet) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	s, ok := f.series[q.ResourceID][q.Metric]
	if !ok {
		return provider.Series{}, provider.ErrUnsupported
	}
	out := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	for i := range out.Values {
		out.Values[i] = math.NaN()
		t := out.TimeAt(i)
		if k := int(t.Sub(s.Start) / s.Step); !t.Before(s.Start) && k < len(s.Values) && t.Sub(s.Start)%s.Step == 0 {
			out.Values[i] = s.Values[k]
		}
	}
	return out, nil
}

func (f *gridFleet) Activity(_ context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	if !f.quiet[q.ResourceID] {
		return nil, provider.ErrUnsupported
	}
	var out []provider.ActivityCount
	for _, k := range provider.ActivityKinds() {
		out = append(out, provider.ActivityCount{Kind: k})
	}
	return out, nil
}

// comparable returns v with what a Tracker's incremental path does not
// know replaced: the percentiles of evidence reasons, and their mean (see
// Tracker; sameMeans checks it). NaN values
// become −1 so that equal verdicts compare equal.
func comparable(v detector.Verdict) detector.Verdict {
	nan := func(x float64) float64 {
		if math.IsNaN(x) {
			return -1
		}
		return x
	}
	v.Reasons = slices.Clone(v.Reasons)
	for i := range v.Reasons {
		r := &v.Reasons[i]
		r.Stats.P95, r.Stats.P99 = 0, 0
		if r.Signal == "evidence" {
			r.Stats.Mean = 0
		}
		if r.Signal == "evidence" && r.Statistic == provider.Percentile(99) {
			r.Value = 0
		}
		r.Value, r.Limit = nan(r.Value), nan(r.Limit)
		r.Stats.Mean, r.Stats.Max = nan(r.Stats.Mean), nan(r.Stats.Max)
	}
	v.Score, v.Confidence = nan(v.Score), nan(v.Confidence)
	return v
}

// sameMeans checks the means of the evidence reasons of two verdicts: a
// full read's (want) and got, equal when got is a full read too, unknown
// (NaN) when got comes from a state, which keeps no evidence sums.
func sameMeans(t *testing.T, want, got detector.Verdict, fromState bool) {
	t.Helper()
	require.Len(t, got.Reasons, len(want.Reasons))
	for i, r := range want.Reasons {
		if r.Signal != "evidence" || r.Code != detector.ReasonEvidence {
			continue
		}
		if fromState {
			require.True(t, math.IsNaN(got.Reasons[i].Stats.Mean), "%s mean from a state: %v", r.Metric, got.Reasons[i].Stats.Mean)
			continue
		}
		require.Equal(t, math.Float64bits(r.Stats.Mean), math.Float64bits(got.Reasons[i].Stats.Mean), "%s mean", r.Metric)
	}
}

// traceFleet builds a fleet of the eight NAB EC2 CPU traces, each played
// three times (six weeks) from an hour-aligned start, with the shapes that
// exercise the Tracker's rules: memory from another trace, a network
// series with a day of gaps, a disk series of exact zeros (some following a
// busy value, which the quality rules mask: the Tracker reads those in
// full), a resource launched off the hour, one in a half-hour time zone,
// values exactly at the rules' levels, data as old as the staleness limit
// and a dead agent, quiet activity for half of them.
func traceFleet(t testing.TB, start time.Time) *gridFleet {
	t.Helper()
	ids := []string{"24ae8d", "53ea38", "5f5533", "77c1ca", "825cc2", "ac20cd", "c6585a", "fe7f93"}
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{}, quiet: map[string]bool{}}
	for i, id := range ids {
		cpu := tile(nabCPU(t, id), 3)
		cpu.Start = start
		ms := map[provider.Metric]provider.Series{provider.MetricCPU: cpu}
		if i%2 == 0 {
			mem := tile(nabCPU(t, ids[(i+3)%len(ids)]), 3)
			mem.Start, mem.Metric = start, provider.MetricMemory
			for k := range mem.Values {
				mem.Values[k] *= 0.6
			}
			ms[provider.MetricMemory] = mem
		}
		if i%3 == 0 {
			net := synth(id, start, 5*time.Minute, len(cpu.Values), func(k int) float64 { return 0.01 + 0.03*noise(k+i) })
			net.Metric = provider.MetricNetworkUtilization
			for k := 20 * 288; k < 21*288; k++ {
				net.Values[k] = math.NaN()
			}
			ms[provider.MetricNetworkUtilization] = net
		}
		if i == 1 || i == 4 {
			// Disk: idle with hours of exact zeros; for i == 4 one run
			// follows a busy step (a dead agent), which makes the
			// Tracker read in full while it is in the history.
			disk := synth(id, start, 5*time.Minute, len(cpu.Values), func(k int) float64 {
				if k%288 < 100 {
					return 0
				}
				return 0.01 * noise(k)
			})
			disk.Metric = provider.MetricDiskUtilization
			if i == 4 {
				disk.Values[30*288-1] = 0.5
			}
			ms[provider.MetricDiskUtilization] = disk
		}
		switch i {
		case 6:
			// Values exactly at the levels the rules compare with (the
			// idle threshold and P99 bound 10 %, the peak bound 20 %, the
			// downsize limit 70 % × (1 − 50 %)), so that a flipped
			// comparison changes a count.
			for k := range cpu.Values {
				if k%7 == 0 {
					cpu.Values[k] = [...]float64{0.10, 0.20, 0.7 * 0.5}[k%3]
				}
			}
		case 7:
			// The last half hour of every third hour missing: at the next
			// hour the data is exactly as old as the staleness limit.
			for k := range cpu.Values {
				if k%36 >= 30 {
					cpu.Values[k] = math.NaN()
				}
			}
			// And a dead agent for the last two days.
			for k := len(cpu.Values) - 2*288; k < len(cpu.Values); k++ {
				cpu.Values[k] = math.NaN()
			}
		}
		r := res("r-"+id, start)
		switch i {
		case 2:
			r.LaunchTime = start.Add(33*24*time.Hour + 20*time.Minute)
		case 3:
			r.TimeZone = "Asia/Kolkata"
		case 5:
			r.TimeZone = "America/New_York"
		}
		f.resources = append(f.resources, r)
		f.series[r.ID] = ms
		f.quiet[r.ID] = i%2 == 1
	}
	return f
}

// TestTrackerEqualsFullRead is the equivalence property: on real traces,
// at random evaluation times (hours apart, some off the hour), with states
// now and then lost, corrupted or made with other settings, every verdict
// of a Tracker equals the verdict of Detect on a full read of the same
// data (Scan's), and most of them come from the state.
func TestTrackerEqualsFullRead(t *testing.T) {
	t.Parallel()
	// From January, and from February so that the histories cross the
	// start of daylight saving time in New York (8 March 2026).
	for _, start := range []time.Time{time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)} {
		t.Run(start.Format("2006-01-02"), func(t *testing.T) {
			t.Parallel()
			trackerEqualsFullRead(t, start)
		})
	}
}

func trackerEqualsFullRead(t *testing.T, start time.Time) {
	f := traceFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	store := &detector.MemoryStateStore{}
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
	require.NoError(t, err)
	end := f.series["r-24ae8d"][provider.MetricCPU].End()
	rng := rand.New(rand.NewPCG(7, uint64(len(f.resources))))
	why := map[detector.FullRead]int{}
	incremental, states, idle, actions := 0, 0, 0, map[detector.Action]int{}
	for _, r := range f.resources {
		for now := start.Add(27*24*time.Hour + time.Duration(rng.IntN(48))*time.Hour); now.Before(end); now = now.Add(time.Duration(1+rng.IntN(30)) * time.Hour) {
			at := now
			switch rng.IntN(40) {
			case 3, 4:
				// Stopped and started: a new launch time off the hour,
				// inside the history (and then in the evidence windows).
				r.LaunchTime = now.Add(-time.Duration(1+rng.IntN(400))*time.Hour - time.Duration(1+rng.IntN(59))*time.Minute)
			case 0:
				at = now.Add(17 * time.Minute) // off the hour: read in full
			case 1:
				require.NoError(t, store.Save(t.Context(), r.ID, []byte("ISD1 garbage")))
			case 2:
				st, err := store.Load(t.Context(), r.ID)
				if err == nil {
					st[len(st)/2] ^= 0xff // a flipped byte: corrupt or another value
					require.NoError(t, store.Save(t.Context(), r.ID, st))
				}
			}
			rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: &gridFleet{resources: []provider.Resource{r}}, Metrics: f}, ens, detector.ScanConfig{Now: at})
			require.NoError(t, err)
			require.Empty(t, rep.Errors)
			require.Len(t, rep.Verdicts, 1)
			want := rep.Verdicts[0]
			got, read, err := tr.Detect(t.Context(), f, nil, r, at)
			require.NoError(t, err)
			require.Equal(t, comparable(want), comparable(got), "%s at %s (full read %v: %s)", r.ID, at, read.Full, read.Why)
			sameMeans(t, want, got, !read.Full)
			if read.Full {
				why[read.Why]++
			} else {
				incremental++
				assert.Positive(t, read.StateBytes)
				states += read.StateBytes
			}
			if want.State == detector.Idle {
				idle++
			}
			actions[want.Action]++
		}
	}
	t.Logf("incremental %d, full reads %v, idle verdicts %d, actions %v, mean state %d bytes", incremental, why, idle, actions, states/max(incremental, 1))
	total := incremental
	for _, n := range why {
		total += n
	}
	assert.Greater(t, incremental, total/2, "most evaluations come from the state")
	assert.LessOrEqual(t, states/max(incremental, 1), 2048, "the mean state is at most 2 KB (the Tracker's documentation)")
	for _, w := range []detector.FullRead{detector.FullNewResource, detector.FullOffTheHour, detector.FullCorruptState, detector.FullSuspectZeros,
		detector.FullLaunchChanged, detector.FullZoneOffHour} {
		assert.Positive(t, why[w], "a full read for %q", w)
	}
	assert.Positive(t, idle, "some verdicts are idle")
	assert.Greater(t, len(actions), 1, "more than one kind of action")
}

// BenchmarkTracker compares, for one resource with the default ensemble
// (28 days of 5-minute cpu, memory and network on the in-memory grid
// source), an hourly evaluation from the stored state (load, read one
// hour, fold, detect, save) with a full read and Detect (what Scan does per
// resource). It reports the data points read and the state's size.
func BenchmarkTracker(b *testing.B) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(b, start)
	r := f.resources[0]
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(b, err)
	now := start.Add(30 * 24 * time.Hour)
	b.Run("incremental", func(b *testing.B) {
		store := &detector.MemoryStateStore{}
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
		require.NoError(b, err)
		_, _, err = tr.Detect(b.Context(), f, nil, r, now.Add(-time.Hour))
		require.NoError(b, err)
		state, err := store.Load(b.Context(), r.ID)
		require.NoError(b, err)
		var read detector.Read
		for b.Loop() {
			require.NoError(b, store.Save(b.Context(), r.ID, state)) // one hour behind
			_, read, err = tr.Detect(b.Context(), f, nil, r, now)
			if err != nil || read.Full {
				b.Fatal(err, read.Why)
			}
		}
		b.ReportMetric(float64(read.Points), "points/op")
		b.ReportMetric(float64(read.StateBytes), "state-bytes")
	})
	b.Run("full", func(b *testing.B) {
		store := &detector.MemoryStateStore{}
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
		require.NoError(b, err)
		var read detector.Read
		for b.Loop() {
			_, read, err = tr.Detect(b.Context(), f, nil, r, now.Add(17*time.Minute)) // off the hour: always a full read
			if err != nil || !read.Full {
				b.Fatal(err, read.Why)
			}
		}
		b.ReportMetric(float64(read.Points), "points/op")
	})
}

// TestTrackerWhenTheDataStops: a Tracker's verdicts follow the quality
// rules of a full read when a resource's data stops. Data that stops an
// hour ago within a MaxStaleness of 2h leaves the hold period (1h) without
// a step: from the state as from a full read the utilization is Unknown,
// stale for the hold, never the day's mean held. A dead agent whose last
// hour is zero-filled after a step above the threshold is read in full
// (a state cannot mask the zeros) and is Unknown too, the zeros suspect.
func TestTrackerWhenTheDataStops(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	const n = 15 * 288
	gaps := synth("r-gaps", start, 5*time.Minute, n, func(i int) float64 { return 0.02 + 0.01*noise(i) })
	dead := synth("r-dead", start, 5*time.Minute, n+12, func(i int) float64 {
		switch {
		case i >= n:
			return 0 // the hour after: exact zeros
		case i == n-1:
			return 0.15
		}
		return 0.02 + 0.01*noise(i)
	})
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{
		"r-gaps": {provider.MetricCPU: gaps},
		"r-dead": {provider.MetricCPU: dead},
	}}
	for _, id := range []string{"r-gaps", "r-dead"} {
		f.resources = append(f.resources, res(id, start.Add(-time.Hour)))
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Quality: detector.DataQuality{MaxStaleness: 2 * time.Hour}}})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	end := gaps.End() // on the hour
	for _, r := range f.resources {
		for _, now := range []time.Time{end.Add(-time.Hour), end, end.Add(time.Hour), end.Add(2 * time.Hour)} {
			rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: f}, ens, detector.ScanConfig{Now: now})
			require.NoError(t, err)
			require.Len(t, rep.Verdicts, 1)
			want := rep.Verdicts[0]
			got, read, err := tr.Detect(t.Context(), f, nil, r, now)
			require.NoError(t, err)
			require.Equal(t, comparable(want), comparable(got), "%s at %s (full read %v: %s)", r.ID, now, read.Full, read.Why)
			util := got.Signals[0]
			require.Equal(t, detector.SignalUtilization, util.Signal)
			if !now.After(end) {
				assert.Equal(t, detector.Idle, got.State, "%s at %s: %v", r.ID, now, got.Explain())
				continue
			}
			assert.Equal(t, detector.Unknown, got.State, "%s at %s: %v", r.ID, now, got.Explain())
			assert.Equal(t, detector.Unknown, util.State, "%s at %s", r.ID, now)
			switch r.ID {
			case "r-gaps":
				assert.False(t, read.Full, "%s at %s: from the state (%s)", r.ID, now, read.Why)
				why := reason(t, got, detector.ReasonStale)
				assert.Equal(t, now.Sub(end), why.Duration)
				assert.InDelta(t, float64(time.Hour), why.Limit, 0, "the hold")
			case "r-dead":
				assert.Equal(t, detector.FullSuspectZeros, read.Why, "%s at %s", r.ID, now)
				why := reason(t, got, detector.ReasonSuspectZeros)
				assert.Equal(t, detector.SignalUtilization, why.Signal, got.Explain())
				assert.InDelta(t, 0.15, why.Value, 0, "the value the zeros follow")
			}
		}
	}
}

// TestTrackerReadsGappyMemoryAsAFullRead: from the state as from a full
// read, a memory series that fails the coverage rule (30 % of its steps
// missing) vetoes idleness when it shows load (90 %) and makes the
// utilization Unknown when it does not (5 %): the state keeps the sums
// that give the load of the data there is.
func TestTrackerReadsGappyMemoryAsAFullRead(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	const n = 15 * 288
	cpu := synth("r", start, 5*time.Minute, n, func(i int) float64 { return 0.02 + 0.01*noise(i) })
	memory := func(level float64) provider.Series {
		s := synth("r", start, 5*time.Minute, n, func(i int) float64 {
			if i%10 < 3 {
				return math.NaN()
			}
			return level
		})
		s.Metric = provider.MetricMemory
		return s
	}
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{
		"r-busy":  {provider.MetricCPU: cpu, provider.MetricMemory: memory(0.9)},
		"r-quiet": {provider.MetricCPU: cpu, provider.MetricMemory: memory(0.05)},
	}}
	want := map[string]detector.State{"r-busy": detector.NotIdle, "r-quiet": detector.Unknown}
	for _, id := range []string{"r-busy", "r-quiet"} {
		f.resources = append(f.resources, res(id, start.Add(-time.Hour)))
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	end := cpu.End()
	for _, r := range f.resources {
		for k, now := range []time.Time{end.Add(-2 * time.Hour), end.Add(-time.Hour), end} {
			rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: f}, ens, detector.ScanConfig{Now: now})
			require.NoError(t, err)
			require.Len(t, rep.Verdicts, 1)
			got, read, err := tr.Detect(t.Context(), f, nil, r, now)
			require.NoError(t, err)
			require.Equal(t, comparable(rep.Verdicts[0]), comparable(got), "%s at %s (full read %v: %s)", r.ID, now, read.Full, read.Why)
			assert.Equal(t, k == 0, read.Full, "%s at %s: %s", r.ID, now, read.Why)
			assert.Equal(t, want[r.ID], got.Signals[0].State, "%s at %s: %v", r.ID, now, got.Explain())
			assert.Equal(t, want[r.ID], got.State, "%s at %s: %v", r.ID, now, got.Explain())
		}
	}
}
