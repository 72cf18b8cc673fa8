package detector

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// levelSeries returns a series of n 5-minute steps from start whose values
// are often exactly at the levels the rules compare with (0.10, 0.20,
// 0.35, 0.05), with isolated exact zeros (too short to be suspect) and, in
// every hour, the steps in gaps (NaN).
func levelSeries(m provider.Metric, start time.Time, n int, rng *rand.Rand, gaps []int) provider.Series {
	s := provider.Series{Metric: m, Start: start, Step: 5 * time.Minute, Values: make([]float64, n)}
	exact := [...]float64{0.10, 0.20, 0.7 * 0.5, 0.05, 0}
	for i := range s.Values {
		switch x := rng.Float64(); {
		case x < 0.3:
			s.Values[i] = exact[rng.IntN(len(exact))]
		default:
			s.Values[i] = 0.3 * rng.Float64()
		}
		for _, g := range gaps {
			if i%12 == g {
				s.Values[i] = math.NaN()
			}
		}
	}
	// No runs of zeros (gaps inside count): a digest answers only without
	// suspect ones.
	last := math.NaN()
	for i, x := range s.Values {
		if x == 0 && last == 0 {
			s.Values[i] = 0.01
		}
		if !math.IsNaN(s.Values[i]) {
			last = s.Values[i]
		}
	}
	return s
}

// TestDigestAnswersAsTheSeries compares, statistic by statistic, what a
// digest answers with what the same strategies compute from the series: the
// utilization statistic, hold and coverage code, the learned week, and the
// evidence counts, sum and max over both windows with and without a launch
// time, on values exactly at the levels (a flipped comparison changes a
// count) and with exactly the minimum coverage. It also checks that a
// digest brought forward hour by hour holds the same buckets as one built
// from a full read.
func TestDigestAnswersAsTheSeries(t *testing.T) {
	t.Parallel()
	q := DataQuality{MinCoverage: 0.75} // 3 of 12 steps missing: exactly at the limit
	ens, err := NewEnsemble(EnsembleConfig{Utilization: UtilizationConfig{Quality: q, Statistics: map[provider.Metric]provider.Statistic{provider.MetricMemory: provider.StatMax}}})
	require.NoError(t, err)
	tr, err := NewTracker(ens, TrackerConfig{}, &MemoryStateStore{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(11, 12))
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	const n = 40 * 288
	full := map[provider.Metric]provider.Series{
		provider.MetricCPU:                levelSeries(provider.MetricCPU, start, n, rng, []int{2, 7, 11}),
		provider.MetricMemory:             levelSeries(provider.MetricMemory, start, n, rng, nil),
		provider.MetricNetworkUtilization: levelSeries(provider.MetricNetworkUtilization, start, n, rng, []int{0, 1, 2, 3}),
	}
	history := time.Duration(tr.hours) * time.Hour
	locs := []*time.Location{time.UTC}
	for _, name := range []string{"America/New_York", "Asia/Tokyo"} {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		locs = append(locs, loc)
	}
	read := func(now time.Time) Input {
		in := Input{Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance}}
		for _, m := range tr.needs.Metrics {
			s, ok := full[m]
			if !ok {
				continue
			}
			i := int(now.Add(-history).Sub(start) / s.Step)
			cut := s.Clone()
			cut.Start, cut.Values = s.TimeAt(i), append([]float64(nil), s.Values[i:i+int(history/s.Step)]...)
			in.Series = append(in.Series, cut)
		}
		return in
	}
	now0 := start.Add(history)
	moving := tr.build(new(read(now0)), now0)
	require.NotNil(t, moving)
	for now := now0.Add(time.Hour); now.Before(start.Add(n * 5 * time.Minute)); now = now.Add(time.Duration(1+rng.IntN(9)) * time.Hour) {
		in := read(now)
		for i := range moving.metrics {
			md := &moving.metrics[i]
			s, ok := full[md.metric]
			if !ok {
				s = gapSeries(provider.Query{Metric: md.metric, Start: start, End: now, Step: 5 * time.Minute})
			}
			k := int(moving.next.Sub(start) / s.Step)
			md.fold(moving, provider.Series{Metric: md.metric, Start: moving.next, Step: s.Step, Values: s.Values[k : k+int(now.Sub(moving.next)/s.Step)]}, &tr.base().levels[i], tr.base().minSteps)
		}
		moving.next = now
		built := tr.build(&in, now)
		require.NotNil(t, built)
		require.Empty(t, tr.fits(built, in.Resource, now), "no reason for a full read")
		for i := range built.metrics {
			require.Equal(t, built.metrics[i].counts, moving.metrics[i].counts, "%s at %s: counts", built.metrics[i].metric, now)
			require.Equal(t, built.metrics[i].sums, moving.metrics[i].sums, "%s at %s: sums", built.metrics[i].metric, now)
			require.Equal(t, built.metrics[i].peaks, moving.metrics[i].peaks, "%s at %s: peaks", built.metrics[i].metric, now)
			require.Equal(t, built.metrics[i].lastData, moving.metrics[i].lastData)
		}
		series := metricData{in: &in}
		digest := metricData{in: &in, dg: &digestView{d: built, now: now, from: now.Add(-history)}}
		u := ens.util.cfg
		for _, m := range tr.needs.Metrics {
			ss, okS := series.has(m)
			ds, okD := digest.has(m)
			require.Equal(t, okS, okD, "%s has", m)
			if !okS {
				continue
			}
			require.Equal(t, ss, ds)
			st := u.Statistics[m]
			if st == "" {
				st = provider.StatMean
			}
			x1, h1, xd1, hd1, c1, w1 := series.utilization(m, u.Thresholds[m], st, u.Window, u.Hold, u.Quality)
			x2, h2, xd2, hd2, c2, w2 := digest.utilization(m, u.Thresholds[m], st, u.Window, u.Hold, u.Quality)
			require.Equal(t, c1, c2, "%s at %s: utilization code", m, now)
			require.Equal(t, xd1, xd2, "%s at %s: the span read", m, now)
			require.Equal(t, hd1, hd2, "%s at %s: the hold's span read", m, now)
			require.Equal(t, w1, w2)
			// The statistics too when the data fails the rules (the
			// network's hours miss 4 of 12 steps): they can show load.
			require.True(t, sameBits(x1, x2), "%s at %s: %s %v, %v", m, now, st, x1, x2)
			require.True(t, sameBits(h1, h2), "%s at %s: hold %s %v, %v", m, now, st, h1, h2)
			for _, launch := range []time.Time{{}, now.Add(-100 * time.Hour), now.Add(-1000 * time.Hour), now.Add(-time.Minute)} { // the last: no step since
				for _, window := range []time.Duration{ens.cfg.Evidence.Window, ens.cfg.Evidence.TerminateWindow} {
					lv := levels{p99: tr.base().levels[slicesIndex(tr.base().levels, m)].over, downsize: tr.base().levels[slicesIndex(tr.base().levels, m)].down}
					a := series.stats(m, window, launch, u.Thresholds[m], lv, u.Quality)
					b := digest.stats(m, window, launch, u.Thresholds[m], lv, u.Quality)
					a.p95, a.p99, b.p95, b.p99 = 0, 0, 0, 0 // not known from a digest (NaN there)
					if a.n == 0 {
						require.True(t, math.IsNaN(a.max) && math.IsNaN(b.max), "no data: no max (%v, %v)", a.max, b.max)
						a.max, b.max = 0, 0 // NaN ≠ NaN
					}
					// The sum of an evidence window (shown as a mean) is
					// not known from a digest.
					require.True(t, math.IsNaN(b.sum), "%s: the evidence sum from a digest: %v", m, b.sum)
					a.sum, b.sum = 0, 0
					require.Equal(t, a, b, "%s at %s: window %s, launch %s", m, now, window, launch)
				}
			}
		}
		// The week in UTC, in a zone whose daylight saving time starts
		// inside the histories (New York, 8 March 2026) and in Tokyo.
		for _, loc := range locs {
			var p1, p2 Profile
			p1 = Profile{Location: loc, IdleShare: 0.9, PeakLevel: ens.sched.peak}
			p2 = p1
			sq := ens.sched.cfg.Quality
			sq.MinCoverage = 0
			c1, _ := series.learn(&p1, ens.sched.cfg.Metric, ens.sched.cfg.Threshold, ens.sched.cfg.History, sq)
			c2, _ := digest.learn(&p2, ens.sched.cfg.Metric, ens.sched.cfg.Threshold, ens.sched.cfg.History, sq)
			require.Equal(t, c1, c2)
			assert.Equal(t, p1, p2, "profile in %s at %s", loc, now)
		}
	}
}

// sameBits reports whether a and b are the same float64, NaN equal to NaN.
func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

func slicesIndex(lv []metricLevels, m provider.Metric) int {
	for i := range lv {
		if lv[i].metric == m {
			return i
		}
	}
	return -1
}

// sampleDigest is a small valid digest: three hours of CPU, the last two
// counted (the first of them empty), with sums, and memory without data.
func sampleDigest() *digest {
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	return &digest{fp: 42, step: 5 * time.Minute, next: now, hours: 3, sumHours: 2, metrics: []metricDigest{
		{metric: provider.MetricCPU, keepSums: true, lastData: now, last: 0.2, runPrev: math.NaN(), launched: emptyBucket(),
			counts: []counts{{}, {n: 4, idle: 2, over: 1, down: 1, peak: true}}, sums: []float64{0, 0.5},
			peaks: []peak{{hour: unixHour(now) - 1, max: 0.2}}},
		{metric: provider.MetricMemory, last: math.NaN(), runPrev: math.NaN(), runStart: now.Add(-time.Hour), suspectEnd: now, launched: emptyBucket()},
	}}
}

// FuzzDecodeDigest: decoding any bytes returns a digest or an error
// wrapping errCorruptState, never panics, and a digest that decodes
// encodes back to the same bytes.
func FuzzDecodeDigest(f *testing.F) {
	f.Add(sampleDigest().encode(nil))
	f.Add([]byte(digestMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(b []byte) {
			d, err := decodeDigest(b)
			if err != nil {
				require.ErrorIs(t, err, errCorruptState)
				return
			}
			require.Equal(t, b, d.encode(nil))
		}
		check(b)
		if len(b) >= 8 {
			// The same bytes with a valid checksum, to reach the fields.
			fixed := binary.LittleEndian.AppendUint32(slices.Clone(b[:len(b)-4]), crc32.ChecksumIEEE(b[:len(b)-4]))
			check(fixed)
		}
	})
}

// TestDigestFlagsSuspectZeros pins when a digest sends a resource to a
// full read for zeros the quality rules could mask: a run of at least
// minSteps exact zeros (gaps inside it count) that follows a value at or
// above the cliff (gaps before it skipped); one step shorter, or after a
// value just below the cliff, is trusted. A run at the end of what was
// folded counts once it is long enough, and a run that goes on into the
// next fold is measured from its first zero.
func TestDigestFlagsSuspectZeros(t *testing.T) {
	t.Parallel()
	_, tr := defaultTracker(t)
	require.Equal(t, 6, tr.base().minSteps, "30 minutes of 5-minute steps")
	cpu := slicesIndex(tr.base().levels, provider.MetricCPU)
	require.Less(t, cpu, len(tr.base().levels))
	cliff := tr.base().levels[cpu].cliff
	require.False(t, math.IsInf(cliff, 0))
	below := math.Nextafter(cliff, math.Inf(-1))

	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	n0 := tr.hours * 12 // the steps of the first read
	now0 := start.Add(time.Duration(tr.hours) * time.Hour)
	res := provider.Resource{ID: "r", Kind: provider.KindInstance}
	// values is the history plus one more hour at 0.5, with run written so
	// that it ends at step end (exclusive) of the whole.
	values := func(end int, run ...float64) []float64 {
		v := make([]float64, n0+12)
		for i := range v {
			v[i] = 0.5
		}
		copy(v[end-len(run):], run)
		return v
	}
	zeros := func(k int) []float64 { return make([]float64, k) }
	withPrev := func(prev float64, run ...float64) []float64 { return append([]float64{prev}, run...) }
	digestAt := func(v []float64) *digest {
		in := Input{Now: now0, Resource: res, Series: []provider.Series{{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: v[:n0]}}}
		d := tr.build(&in, now0)
		require.NotNil(t, d)
		return d
	}
	// next folds the hour after now0 into d.
	next := func(d *digest, v []float64) {
		now := now0.Add(time.Hour)
		for i := range d.metrics {
			md := &d.metrics[i]
			s := gapSeries(provider.Query{Metric: md.metric, Start: now0, End: now, Step: 5 * time.Minute})
			if md.metric == provider.MetricCPU {
				s.Values = v[n0:]
			}
			md.fold(d, s, &tr.base().levels[i], tr.base().minSteps)
		}
		d.next = now
	}
	gap := math.NaN()
	for _, tt := range []struct {
		name  string
		v     []float64
		first FullRead // after the first read
		then  FullRead // after the next hour
	}{
		{"minSteps zeros after the cliff", values(n0-12, withPrev(cliff, append(zeros(6), 0.5)...)...), FullSuspectZeros, FullSuspectZeros},
		{"one step shorter", values(n0-12, withPrev(cliff, append(zeros(5), 0.5)...)...), "", ""},
		{"after a value just below the cliff", values(n0-12, withPrev(below, append(zeros(6), 0.5)...)...), "", ""},
		{"gaps inside the run count", values(n0-12, withPrev(cliff, 0, 0, gap, gap, 0, 0, 0.5)...), FullSuspectZeros, FullSuspectZeros},
		{"gaps before the run are skipped", values(n0-12, withPrev(cliff, gap, gap, 0, 0, 0, 0, 0, 0, 0.5)...), FullSuspectZeros, FullSuspectZeros},
		{"a run at the end, long enough", values(n0, withPrev(cliff, zeros(6)...)...), FullSuspectZeros, FullSuspectZeros},
		{"a run at the end, one step short, completed next hour", values(n0+1, withPrev(cliff, zeros(6)...)...), "", FullSuspectZeros},
		{"a run at the end, one step short, ended next hour", values(n0, withPrev(cliff, zeros(5)...)...), "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := digestAt(tt.v)
			assert.Equal(t, tt.first, tr.fits(d, res, now0), "after the first read")
			next(d, tt.v)
			assert.Equal(t, tt.then, tr.fits(d, res, now0.Add(time.Hour)), "after the next hour")
		})
	}
}

// TestDigestLearnsEmptyHours compares the week a digest learns with the
// series' where whole hours have no data: an hour without a step is not
// an hour seen (the random series of TestDigestAnswersAsTheSeries have
// data in every hour).
func TestDigestLearnsEmptyHours(t *testing.T) {
	t.Parallel()
	ens, tr := defaultTracker(t)
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	n := tr.hours * 12
	now := start.Add(time.Duration(tr.hours) * time.Hour)
	cpu := provider.Series{Metric: ens.sched.cfg.Metric, Start: start, Step: 5 * time.Minute, Values: make([]float64, n)}
	for i := range cpu.Values {
		cpu.Values[i] = []float64{0.01, 0.5}[i/12%3%2] // two quiet hours, one busy
		if h := i / 12; h%50 == 7 || h%50 == 30 && i%12 < 6 {
			cpu.Values[i] = math.NaN() // an hour without data, half of one
		}
	}
	in := Input{Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance}, Series: []provider.Series{cpu}}
	d := tr.build(&in, now)
	require.NotNil(t, d)
	series := metricData{in: &in}
	digest := metricData{in: &in, dg: &digestView{d: d, now: now, from: start}}
	p1 := Profile{Location: time.UTC, IdleShare: 0.9, PeakLevel: ens.sched.peak}
	p2 := p1
	sq := ens.sched.cfg.Quality
	sq.MinCoverage = 0
	c1, _ := series.learn(&p1, ens.sched.cfg.Metric, ens.sched.cfg.Threshold, ens.sched.cfg.History, sq)
	c2, _ := digest.learn(&p2, ens.sched.cfg.Metric, ens.sched.cfg.Threshold, ens.sched.cfg.History, sq)
	require.Equal(t, qOK, c1)
	require.Equal(t, c1, c2)
	require.Less(t, slices.Min(p1.HoursSeen[:]), slices.Max(p1.HoursSeen[:]), "some hours of the week were seen less often")
	assert.Equal(t, p1, p2)
}

// TestDigestRoundTrip pins that a digest built from a read decodes from
// its encoding without error into an equal digest that encodes to the
// same bytes. (A decode that fails is not seen in the verdicts: the
// Tracker falls back to a full read, which agrees.)
func TestDigestRoundTrip(t *testing.T) {
	t.Parallel()
	_, tr := defaultTracker(t)
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	now := start.Add(time.Duration(tr.hours) * time.Hour)
	rng := rand.New(rand.NewPCG(3, 4))
	in := Input{Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance, LaunchTime: start.Add(90 * time.Minute)}, Series: []provider.Series{
		levelSeries(provider.MetricCPU, start, tr.hours*12, rng, []int{3}),
		levelSeries(provider.MetricNetworkUtilization, start, tr.hours*12, rng, nil),
	}}
	d := tr.build(&in, now)
	require.NotNil(t, d)
	require.Positive(t, d.metrics[0].launched.n, "the launch hour's own bucket")
	require.Len(t, d.metrics[0].sums, tr.base().sumHours, "cpu keeps the utilization window's sums")
	require.NotEmpty(t, d.metrics[0].peaks)
	in.Series = in.Series[:1]
	cpuOnly := tr.build(&in, now)
	require.NotNil(t, cpuOnly)
	for _, dg := range []*digest{d, cpuOnly, sampleDigest(), {fp: 1, step: time.Hour, next: now, hours: 1}} {
		b := dg.encode(nil)
		back, err := decodeDigest(b)
		require.NoError(t, err)
		assert.Equal(t, b, back.encode(nil))
		assert.Equal(t, dg.next, back.next)
		require.Len(t, back.metrics, len(dg.metrics))
		for i := range dg.metrics {
			want, got := dg.metrics[i], back.metrics[i]
			assert.Equal(t, want.metric, got.metric)
			assert.Equal(t, want.keepSums, got.keepSums)
			assert.Equal(t, want.lastData, got.lastData)
			assert.Equal(t, want.runStart, got.runStart)
			assert.Equal(t, want.suspectEnd, got.suspectEnd)
			assert.Equal(t, want.launched, got.launched)
			assert.Len(t, got.counts, len(want.counts))
			if len(want.counts) > 0 {
				assert.Equal(t, want.counts, got.counts)
				assert.Equal(t, want.sums, got.sums)
				assert.Equal(t, want.peaks, got.peaks)
			}
		}
	}
}

// TestDecodeDigestRefusesCorruptState pins that every inconsistent,
// truncated or non-canonical state is refused with errCorruptState (never
// a panic, never a digest): each field out of its range, counts above the
// steps of an hour or a peak flag without data, a sum or a maximum that is
// not finite, peaks out of order, on an hour without data or missing the
// last hour with data, more hours than kept, unknown flags and column
// modes, a column in a longer form than the encoder writes, trailing
// bytes, and every truncation (with a valid checksum).
func TestDecodeDigestRefusesCorruptState(t *testing.T) {
	t.Parallel()
	good := sampleDigest
	_, err := decodeDigest(good().encode(nil))
	require.NoError(t, err)
	withCRC := func(body []byte) []byte {
		return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.ChecksumIEEE(body))
	}
	cpu := func(f func(md *metricDigest)) *digest {
		d := good()
		f(&d.metrics[0])
		return d
	}
	countsAt := func(i int, f func(c *counts)) *digest {
		return cpu(func(md *metricDigest) { f(&md.counts[i]) })
	}
	for _, tt := range []struct {
		name string
		d    *digest
		want string
	}{
		{"step 0", func() *digest { d := good(); d.step = 0; return d }(), "step 0s"},
		{"step not dividing an hour", func() *digest { d := good(); d.step = 7 * time.Minute; return d }(), "step 7m0s"},
		{"no hours", func() *digest { d := good(); d.hours = 0; return d }(), "0 hours"},
		{"too many hours", func() *digest { d := good(); d.hours = 1<<16 + 1; return d }(), "65537 hours"},
		{"more hours of sums than of counts", func() *digest { d := good(); d.sumHours = 4; return d }(), "4 of sums"},
		{"more counts than hours", func() *digest { d := good(); d.hours, d.sumHours = 1, 1; return d }(), "2 hours of counts, at most 1"},
		{"13 steps in an hour of 12", countsAt(1, func(c *counts) { c.n, c.idle, c.over, c.down = 13, 0, 0, 0 }), "the counts of hour 1 are inconsistent"},
		{"idle above steps", countsAt(1, func(c *counts) { c.idle = 5 }), "the counts of hour 1 are inconsistent"},
		{"over above steps", countsAt(1, func(c *counts) { c.over = 5 }), "the counts of hour 1 are inconsistent"},
		{"downsize above steps", countsAt(1, func(c *counts) { c.down = 5 }), "the counts of hour 1 are inconsistent"},
		{"a peak hour without data", countsAt(0, func(c *counts) { c.peak = true }), "the counts of hour 0 are inconsistent"},
		{"NaN sum", cpu(func(md *metricDigest) { md.sums[1] = math.NaN() }), "the sum of hour 1 is NaN"},
		{"infinite sum", cpu(func(md *metricDigest) { md.sums[1] = math.Inf(1) }), "the sum of hour 1 is +Inf"},
		{"infinite max", cpu(func(md *metricDigest) { md.peaks[0].max = math.Inf(1) }), "peak 0 is inconsistent"},
		{"a peak on an hour without data", cpu(func(md *metricDigest) { md.peaks = append([]peak{{hour: md.peaks[0].hour - 1, max: 1}}, md.peaks...) }), "peak 0 is inconsistent"},
		{"peaks not decreasing", cpu(func(md *metricDigest) {
			md.counts[0] = counts{n: 1}
			md.peaks = append([]peak{{hour: md.peaks[0].hour - 1, max: 0.2}}, md.peaks...)
		}), "peak 1 is inconsistent"},
		{"more peaks than hours", cpu(func(md *metricDigest) {
			md.counts[0] = counts{n: 1}
			md.peaks = append([]peak{{hour: md.peaks[0].hour - 1, max: 0.5}, {hour: md.peaks[0].hour - 1, max: 0.4}}, md.peaks...)
		}), "3 peaks in 2 hours"},
		{"the last hour with data is no peak", cpu(func(md *metricDigest) { md.peaks = nil }), "the peaks do not end at the last hour with data"},
		{"a peak without data", func() *digest { d := good(); d.metrics[1].peaks = []peak{{hour: 1, max: 1}}; return d }(), "memory: 1 peaks in 0 hours"},
		{"launch hour's bucket", cpu(func(md *metricDigest) { md.launched = bucket{counts: counts{n: 13}, sum: 1, max: 1} }), "launch hour's bucket is inconsistent"},
		{"launch hour's NaN max", cpu(func(md *metricDigest) { md.launched = bucket{counts: counts{n: 1}, sum: 1, max: math.NaN()} }), "launch hour's bucket is inconsistent"},
	} {
		_, err := decodeDigest(tt.d.encode(nil))
		require.ErrorIs(t, err, errCorruptState, tt.name)
		require.ErrorContains(t, err, tt.want, tt.name)
	}
	// At the limits, accepted: 12 steps of 12, counts equal to the steps,
	// 65,536 hours, sums over all of them, a 1-hour step.
	for _, d := range []*digest{
		countsAt(1, func(c *counts) { c.n, c.idle, c.over, c.down = 12, 12, 12, 12 }),
		func() *digest { d := good(); d.hours = 1 << 16; return d }(),
		func() *digest { d := good(); d.sumHours = d.hours; return d }(),
		func() *digest {
			d := good()
			d.step, d.metrics[0].counts = time.Hour, []counts{{}, {n: 1}}
			return d
		}(),
	} {
		_, err := decodeDigest(d.encode(nil))
		require.NoError(t, err)
	}
	b := good().encode(nil)
	body := b[:len(b)-4]
	// CPU's flags byte follows its name; its n column ([0, 4]) is packed
	// in 3 bits (mode 4, one byte 0b100_000) and its peak column ([0, 1])
	// in 1 bit (mode 2, one byte 0b10).
	at := func(pattern ...byte) int {
		i := slices.Index(body, pattern[0])
		for ; i >= 0 && i+len(pattern) <= len(body); i++ {
			if string(body[i:i+len(pattern)]) == string(pattern) {
				return i
			}
		}
		t.Fatalf("% x not in the encoding", pattern)
		return -1
	}
	for _, tt := range []struct {
		name  string
		patch func(b []byte)
		want  string
	}{
		{"unknown flag", func(b []byte) { b[at(3, 'c', 'p', 'u')+4] |= 0x80 }, "cpu: flags"},
		{"unknown column mode", func(b []byte) { b[at(2, 4, 0x20)+1] = 10 }, "column mode 10"},
		{"a wider column than the encoder writes", func(b []byte) { i := at(2, 4, 0x20); b[i+1], b[i+2] = 5, 0x40 }, "not in the canonical encoding"},
		{"a peak flag of 2", func(b []byte) { i := at(2, 2, 0x02); b[i+1], b[i+2] = 3, 0x08 }, "the counts of hour 0 are inconsistent"},
		{"a launch flag of 2", func(b []byte) { b[at(3, 'c', 'p', 'u')-2] = 2 }, "launch flag"},
	} {
		bad := slices.Clone(body)
		tt.patch(bad)
		_, err := decodeDigest(withCRC(bad))
		require.ErrorIs(t, err, errCorruptState, tt.name)
		require.ErrorContains(t, err, tt.want, tt.name)
	}
	_, err = decodeDigest(withCRC(append(slices.Clone(body), 0)))
	require.ErrorContains(t, err, "1 trailing bytes")
	for n := len(digestMagic); n < len(body); n++ {
		_, err := decodeDigest(withCRC(body[:n]))
		require.ErrorIs(t, err, errCorruptState, "truncated to %d of %d bytes", n, len(body))
	}
	_, err = decodeDigest(withCRC([]byte(digestMagic)))
	require.ErrorContains(t, err, "truncated", "the magic and a checksum, nothing else")
	_, err = decodeDigest(b[:len(b)-1])
	require.ErrorContains(t, err, "checksum mismatch")
	_, err = decodeDigest([]byte("ISD2xxxx"))
	require.ErrorContains(t, err, "not a digest")
}

// defaultTracker is a tracker of the default ensemble over a memory store.
func defaultTracker(t *testing.T) (*Ensemble, *Tracker) {
	t.Helper()
	ens, err := NewEnsemble(EnsembleConfig{})
	require.NoError(t, err)
	tr, err := NewTracker(ens, TrackerConfig{}, &MemoryStateStore{})
	require.NoError(t, err)
	return ens, tr
}

// TestDigestSize pins the state's size that the Tracker documents: with
// the defaults, a metric whose every hour holds different counts and whose
// hourly maxima fall hour after hour for the whole history (so that every
// hour is a peak) takes at most 7.8 KB, and one steady metric (the same
// counts every hour, one peak) about 40 bytes plus its name and, for a
// metric the utilization signal reads, 8 bytes for each hour of its window.
func TestDigestSize(t *testing.T) {
	t.Parallel()
	ens, tr := defaultTracker(t)
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	now := start.Add(time.Duration(tr.hours) * time.Hour)
	n := tr.hours * 12
	worst := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, n)}
	steady := provider.Series{Metric: provider.MetricMemory, Start: start, Step: 5 * time.Minute, Values: make([]float64, n)}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range worst.Values {
		h := i / 12
		// Below the hour's max, a value chosen so that the hour's counts
		// vary: steps with data, idle, over the p99 bound, over the
		// downsize limit, peaks.
		top := 0.99 - 0.0005*float64(h)
		worst.Values[i] = []float64{0.01, 0.15, 0.25, 0.5, top, math.NaN()}[rng.IntN(6)]
		if i%12 == 11 {
			worst.Values[i] = top
		}
		steady.Values[i] = 0.3
	}
	in := Input{Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance}, Series: []provider.Series{worst, steady}}
	d := tr.build(&in, now)
	require.NotNil(t, d)
	cpu, mem := &d.metrics[0], &d.metrics[slicesIndex(tr.base().levels, provider.MetricMemory)]
	require.Len(t, cpu.peaks, tr.hours, "every hour a peak")
	require.Len(t, mem.peaks, 1)
	only := func(md *metricDigest) int {
		one := &digest{fp: d.fp, step: d.step, next: d.next, hours: d.hours, sumHours: d.sumHours, metrics: []metricDigest{*md}}
		empty := &digest{fp: d.fp, step: d.step, next: d.next, hours: d.hours, sumHours: d.sumHours}
		return len(one.encode(nil)) - len(empty.encode(nil))
	}
	worstSize, steadySize := only(cpu), only(mem)
	t.Logf("worst %d bytes, steady %d bytes (%s), whole digest %d bytes", worstSize, steadySize, mem.metric, len(d.encode(nil)))
	assert.LessOrEqual(t, worstSize, 7800)
	assert.Greater(t, worstSize, 7400, "the worst case is near the bound documented")
	assert.LessOrEqual(t, steadySize, 40+len(mem.metric)+8*tr.base().sumHours)
	_ = ens
}

// base returns the view of the resources the ensemble's default lens
// judges (every kind without a KindConfig).
func (t *Tracker) base() *trackView { return t.views[&t.e.lens] }

// TestTrackerReadsInFullAZoneOffTheHourInItsHistory: a digest keeps its
// counts per UTC hour, which a zone off the hour splits between two local
// hours, so a Tracker reads such a resource in full. It looked at the
// zone's offsets at the history's first hour and at now only: Lord Howe
// Island is 11 hours ahead of UTC in summer and 10½ in winter, and a
// history of a year from summer to summer (a schedule's History of 48
// weeks) was kept in a state, its winter steps put in the wrong local
// hours, where a full read puts them right.
func TestTrackerReadsInFullAZoneOffTheHourInItsHistory(t *testing.T) {
	t.Parallel()
	const history = 48 * 7 * 24 * time.Hour
	ens, err := NewEnsemble(EnsembleConfig{Schedule: ScheduleConfig{History: history}})
	require.NoError(t, err)
	tr, err := NewTracker(ens, TrackerConfig{}, &MemoryStateStore{})
	require.NoError(t, err)
	now := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	start := now.Add(-time.Duration(tr.hours) * time.Hour) // February 2025: summer there
	cpu := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, tr.hours*12)}
	for i := range cpu.Values {
		cpu.Values[i] = 0.02
	}
	for _, tt := range []struct {
		zone string
		want FullRead
	}{
		{"Australia/Lord_Howe", FullZoneOffHour},
		{"Asia/Kolkata", FullZoneOffHour},
		{"Europe/Berlin", ""},
		{"", ""},
	} {
		r := provider.Resource{ID: "r", Kind: provider.KindInstance, TimeZone: tt.zone}
		in := Input{Now: now, Resource: r, Series: []provider.Series{cpu}}
		d := tr.build(&in, now)
		require.NotNil(t, d)
		assert.Equal(t, tt.want, tr.fits(d, r, now), tt.zone)
	}
}
