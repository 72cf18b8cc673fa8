package detector

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestLearnSeriesCountsEveryStepOnce compares the week learnSeries counts
// with a plain oracle that puts each step with data in the slot of the
// local hour it starts in (time.Time.In, Weekday, Hour): a 7-minute step
// that does not divide the hour, a start off the hour, gaps, New York's
// clocks going forward inside the history as well as UTC, and a run of
// suspect zeros the quality rules leave out.
func TestLearnSeriesCountsEveryStepOnce(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		loc   *time.Location
		step  time.Duration
		zeros bool // two hours of exact zeros after busy steps: masked
	}{
		{"UTC, 5 minutes", time.UTC, 5 * time.Minute, false},
		{"UTC, 7 minutes", time.UTC, 7 * time.Minute, false},
		{"New York, 7 minutes", ny, 7 * time.Minute, false},
		{"New York, 5 minutes", ny, 5 * time.Minute, false},
		{"New York, 5 minutes, suspect zeros", ny, 5 * time.Minute, true},
	} {
		start := time.Date(2026, 2, 27, 0, 3, 0, 0, time.UTC) // DST starts on 8 March in New York
		n := int(16 * 24 * time.Hour / tt.step)
		s := provider.Series{Metric: provider.MetricCPU, Start: start, Step: tt.step, Values: make([]float64, n)}
		for i := range s.Values {
			switch {
			case i%17 == 3, i >= n-900 && i < n-900+int(2*time.Hour/tt.step):
				s.Values[i] = math.NaN() // scattered gaps, and two hours without data
			case s.TimeAt(i).In(tt.loc).Hour() < 8:
				s.Values[i] = 0.01
			default:
				s.Values[i] = 0.5
			}
		}
		zeroFrom, zeroTo := n-2000, n-2000+24
		if tt.zeros {
			s.Values[zeroFrom-1] = 0.5
			for i := zeroFrom; i < zeroTo; i++ {
				s.Values[i] = 0
			}
		}
		q := DataQuality{TrustZeros: !tt.zeros, MinCoverage: 0.5}.withDefaults()
		now := s.End()
		history := 14 * 24 * time.Hour
		p := Profile{Location: tt.loc, IdleShare: 0.9, PeakLevel: 0.4}
		code, _ := learnSeries(s, now, 0.10, history, time.Time{}, q, &p)
		require.Equal(t, qOK, code, tt.name)

		var obs, idle, peaks [HoursPerWeek]uint32
		var seen [HoursPerWeek]uint16
		hours := map[time.Time]bool{} // the local hours with data
		valid := 0
		from := now.Add(-history)
		for i, x := range s.Values {
			at := s.TimeAt(i)
			if at.Before(from) || math.IsNaN(x) || tt.zeros && i >= zeroFrom && i < zeroTo {
				continue
			}
			local := at.In(tt.loc)
			slot := int(local.Weekday())*24 + local.Hour()
			obs[slot]++
			if h := at.Truncate(time.Hour); !hours[h] {
				hours[h] = true
				seen[slot]++
			}
			if x < 0.10 {
				idle[slot]++
			}
			if x >= 0.4 {
				peaks[slot] = 1
			}
			valid++
		}
		assert.Equal(t, obs, p.Observed, tt.name)
		assert.Equal(t, idle, p.IdleSteps, tt.name)
		assert.Equal(t, seen, p.HoursSeen, tt.name)
		for slot := range HoursPerWeek {
			assert.Equal(t, peaks[slot] > 0, p.PeakHours[slot] > 0, "%s: slot %d", tt.name, slot)
		}
		assert.Equal(t, time.Duration(valid)*tt.step, p.History, tt.name)
	}
}

// TestLearnSeriesAllMasked pins that a history whose only data is a run of
// suspect zeros learns nothing and says why (suspect zeros, not "ok").
func TestLearnSeriesAllMasked(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, 2*288+1)}
	s.Values[0] = 0.5 // then two days of exact zeros
	p := Profile{Location: time.UTC, IdleShare: 0.9}
	code, why := learnSeries(s, s.End(), 0.10, 2*24*time.Hour, time.Time{}, DataQuality{MinCoverage: 0.01}.withDefaults(), &p)
	assert.Equal(t, qZeros, code)
	assert.Equal(t, ReasonSuspectZeros, why.Code)
	assert.Zero(t, p.History)
}

// TestFloorDiv pins the floor division slots use for times before 1970
// (negative Unix times) as well as after.
func TestFloorDiv(t *testing.T) {
	t.Parallel()
	for _, tt := range [][3]int64{{59, 60, 0}, {60, 60, 1}, {0, 60, 0}, {-1, 60, -1}, {-60, 60, -1}, {-61, 60, -2}, {-120, 60, -2}} {
		assert.Equal(t, tt[2], floorDiv(tt[0], tt[1]), "%d / %d", tt[0], tt[1])
	}
}

// TestTrackerMinSteps pins the shortest run of zeros a tracker's digest
// watches: the shorter suspect-zero run of the utilization and schedule
// rules that do not trust zeros, in steps rounded up, at least one.
func TestTrackerMinSteps(t *testing.T) {
	t.Parallel()
	q := func(run time.Duration, trust bool) DataQuality {
		return DataQuality{SuspectZeroRun: run, TrustZeros: trust}
	}
	for _, tt := range []struct {
		name        string
		util, sched DataQuality
		step        time.Duration
		want        int
	}{
		{"defaults", DataQuality{}, DataQuality{}, 5 * time.Minute, 6},
		{"utilization's shorter", q(20*time.Minute, false), q(40*time.Minute, false), 5 * time.Minute, 4},
		{"schedule's shorter", q(40*time.Minute, false), q(20*time.Minute, false), 5 * time.Minute, 4},
		{"utilization trusts zeros", q(20*time.Minute, true), q(40*time.Minute, false), 5 * time.Minute, 8},
		{"schedule trusts zeros", q(40*time.Minute, false), q(20*time.Minute, true), 5 * time.Minute, 8},
		{"rounded up", q(31*time.Minute, false), q(31*time.Minute, false), 5 * time.Minute, 7},
		{"half a step rounds up to one", q(30*time.Minute, false), q(30*time.Minute, false), time.Hour, 1},
		{"both trust zeros", q(30*time.Minute, true), q(30*time.Minute, true), 5 * time.Minute, 0},
	} {
		ens, err := NewEnsemble(EnsembleConfig{Utilization: UtilizationConfig{Quality: tt.util}, Schedule: ScheduleConfig{Quality: tt.sched}})
		require.NoError(t, err, tt.name)
		tr, err := NewTracker(ens, TrackerConfig{Step: tt.step}, &MemoryStateStore{})
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, tr.base().minSteps, tt.name)
	}
}

// TestTrackerLevelsWithoutAPeak pins that a schedule metric without a
// peak bound counts no peaks in a digest (as learnSeries takes a peak
// level of 0 as none), and that the schedule's metric is counted idle
// below its threshold.
func TestTrackerLevelsWithoutAPeak(t *testing.T) {
	t.Parallel()
	ens, err := NewEnsemble(EnsembleConfig{Schedule: ScheduleConfig{Metric: provider.MetricRequests, Threshold: 5}})
	require.NoError(t, err)
	require.Zero(t, ens.sched.peak, "requests have no peak bound")
	tr, err := NewTracker(ens, TrackerConfig{}, &MemoryStateStore{})
	require.NoError(t, err)
	i := slicesIndex(tr.base().levels, provider.MetricRequests)
	require.Less(t, i, len(tr.base().levels))
	assert.True(t, math.IsInf(tr.base().levels[i].peak, 1))
	assert.InDelta(t, 5, tr.base().levels[i].idle, 0)
}

// TestViewStepsEndingByNow pins which steps a window view reads: only
// those that end by now (a step that started before now and ends after
// it is not read), and never data after now (staleness is judged on what
// was there at now).
func TestViewStepsEndingByNow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, 40)}
	for i := range s.Values {
		s.Values[i] = 0.01
	}
	q := DataQuality{TrustZeros: true}.withDefaults()
	now := start.Add(10*5*time.Minute + 150*time.Second) // halfway through step 10
	w, code, _ := view(s, now, time.Hour, 0.1, q)
	require.Equal(t, qOK, code)
	assert.Equal(t, 10, w.hi, "step 10 ends after now")
	w, _, _ = view(s, start.Add(10*5*time.Minute), time.Hour, 0.1, q)
	assert.Equal(t, 10, w.hi, "at a step boundary")

	// An hour of gaps before now, data after it: stale at now.
	for i := 8; i < 20; i++ {
		s.Values[i] = math.NaN()
	}
	_, code, why := view(s, start.Add(20*5*time.Minute), 2*time.Hour, 0.1, q)
	assert.Equal(t, qStale, code)
	assert.Equal(t, time.Hour, why.Duration)

	// Data that ends exactly MaxStaleness (30m) before now is fresh; only
	// the first step with data is still data; all gaps are missing.
	fresh := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: []float64{0.01, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}}
	sparse := DataQuality{TrustZeros: true, MinCoverage: 0.01}.withDefaults()
	_, code, _ = view(fresh, fresh.End(), time.Hour, 0.1, sparse)
	assert.Equal(t, qOK, code, "the only data, 30 minutes old")
	_, code, _ = view(fresh, fresh.End().Add(time.Nanosecond), time.Hour, 0.1, sparse)
	assert.Equal(t, qStale, code)
	fresh.Values[0] = math.NaN()
	_, code, why = view(fresh, fresh.End(), time.Hour, 0.1, sparse)
	assert.Equal(t, qMissing, code)
	assert.Equal(t, ReasonMissing, why.Code)
}

// TestSuspectZeroRuns pins the series' suspect-zero rule: the shortest
// run is SuspectZeroRun in steps rounded up (26 and 30 minutes of
// 5-minute steps: 6), and a run is measured whole even when it starts before the
// window.
func TestSuspectZeroRuns(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	series := func(zerosFrom, zeros int) provider.Series {
		s := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, 40)}
		for i := range s.Values {
			s.Values[i] = 0.3
			if i >= zerosFrom && i < zerosFrom+zeros {
				s.Values[i] = 0
			}
		}
		return s
	}
	for _, tt := range []struct {
		name        string
		from, zeros int
		window      int // steps, ending at the series' end (step 40)
		run         time.Duration
		masked      bool
	}{
		{"5 zeros: trusted", 20, 5, 24, 26 * time.Minute, false},
		{"6 zeros: suspect", 20, 6, 24, 26 * time.Minute, true},
		{"6 zeros of a 30-minute run: suspect", 20, 6, 24, 30 * time.Minute, true},
		{"5 zeros of a 30-minute run: trusted", 20, 5, 24, 30 * time.Minute, false},
		{"6 zeros, 3 before the window", 25, 6, 12, 26 * time.Minute, true}, // the window starts at step 28
		{"5 zeros, 2 before the window", 26, 5, 12, 26 * time.Minute, false},
		{"6 zeros ending where the window starts", 22, 6, 12, 26 * time.Minute, false},
	} {
		q := DataQuality{SuspectZeroRun: tt.run, MinCoverage: 0.01}.withDefaults()
		s := series(tt.from, tt.zeros)
		w, code, _ := view(s, s.End(), time.Duration(tt.window)*5*time.Minute, 0.1, q)
		require.Equal(t, qOK, code, tt.name)
		require.Equal(t, 40-tt.window, w.lo, tt.name)
		assert.Equal(t, tt.masked, w.nMasked > 0, tt.name)
	}
	// Gaps between the busy value and the zeros are skipped: the zeros
	// still follow 0.3.
	gapped := series(20, 6)
	gapped.Values[18], gapped.Values[19] = math.NaN(), math.NaN()
	w, _, _ := view(gapped, gapped.End(), 24*5*time.Minute, 0.1, DataQuality{SuspectZeroRun: 26 * time.Minute, MinCoverage: 0.01}.withDefaults())
	assert.Equal(t, 1, w.nMasked, "zeros after gaps after 0.3")

	// The longest run is reported, with the value it followed; of two
	// equally long runs, the first.
	s := series(5, 6)
	s.Values[14] = 0.5
	for i := 15; i < 21; i++ {
		s.Values[i] = 0
	}
	s.Values[24] = 0.7
	for i := 25; i < 33; i++ {
		s.Values[i] = 0
	}
	w, _, _ = view(s, s.End(), 40*5*time.Minute, 0.1, DataQuality{MinCoverage: 0.01}.withDefaults())
	assert.Equal(t, 3, w.nMasked)
	assert.Equal(t, 40*time.Minute, w.zeroRun)
	assert.InDelta(t, 0.7, w.cliff, 0)
	s.Values[31], s.Values[32] = 0.3, 0.3 // now all three are 30 minutes long
	w, _, _ = view(s, s.End(), 40*5*time.Minute, 0.1, DataQuality{MinCoverage: 0.01}.withDefaults())
	assert.Equal(t, 30*time.Minute, w.zeroRun)
	assert.InDelta(t, 0.3, w.cliff, 0, "the first of equally long runs")
}

// TestIsMasked pins a mask's span [lo, hi) and the overflow rule (every
// zero masked once more runs are found than the view holds).
func TestIsMasked(t *testing.T) {
	t.Parallel()
	s := provider.Series{Metric: provider.MetricCPU, Step: time.Minute, Values: []float64{0.5, 0, 0, 0, 0.5, 0}}
	w := windowView{s: s, hi: len(s.Values)}
	w.masked[0], w.nMasked = span{1, 4}, 1
	got := make([]bool, len(s.Values))
	for i := range got {
		got[i] = w.isMasked(i)
	}
	assert.Equal(t, []bool{false, true, true, true, false, false}, got)
	assert.Equal(t, 3, w.maskedData())
	assert.InDelta(t, 1.0/3, w.stat(provider.StatMean, 0, 6), 1e-12, "0.5, 0.5 and the unmasked 0")
	assert.InDelta(t, 0.5, w.stat(provider.StatMax, 0, 6), 0)
	w.overflow = true
	for i := range got {
		got[i] = w.isMasked(i)
	}
	assert.Equal(t, []bool{false, true, true, true, false, true}, got, "overflow: every zero")
	assert.Equal(t, 4, w.maskedData())
	assert.InDelta(t, 0.5, w.stat(provider.StatMean, 0, 6), 1e-12)
}

// TestScheduleRecommendationAtItsMinimums pins the off-hours schedule's
// two thresholds at exactly their values: a week exactly MinRegularity
// regular and a schedule saving exactly MinScheduleSaving are recommended;
// with either minimum just above the value, it is not, and the reason says
// which.
func TestScheduleRecommendationAtItsMinimums(t *testing.T) {
	t.Parallel()
	// Busy on weekdays 09:00–17:00 in two weeks, idle otherwise, one
	// hour of Saturday noon seen once (irregular).
	p := Profile{Location: time.UTC, IdleShare: 0.9}
	for slot := range HoursPerWeek {
		p.Observed[slot], p.HoursSeen[slot] = 24, 2
		day, hour := slot/24, slot%24
		if day >= 1 && day <= 5 && hour >= 9 && hour < 17 {
			continue // busy: no idle steps
		}
		p.IdleSteps[slot] = 24
	}
	p.HoursSeen[6*24+12], p.IdleSteps[6*24+12], p.Observed[6*24+12] = 1, 6, 12
	reg := p.Regularity()
	saved := p.Propose(2 * time.Hour).SavedShare
	require.Greater(t, reg, 0.5)
	require.Less(t, reg, 1.0)
	require.Greater(t, saved, 0.5)
	for _, tt := range []struct {
		name          string
		minReg, minSv float64
		want          bool
		reason        ReasonCode
	}{
		{"both exactly at their minimum", reg, saved, true, ""},
		{"regularity just below its minimum", math.Nextafter(reg, 2), saved, false, ReasonIrregular},
		{"saving just below its minimum", reg, math.Nextafter(saved, 2), false, ReasonSmallSaving},
	} {
		ens, err := NewEnsemble(EnsembleConfig{MinRegularity: tt.minReg, MinScheduleSaving: tt.minSv})
		require.NoError(t, err, tt.name)
		in := Input{Now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), Resource: provider.Resource{ID: "r", Kind: provider.KindInstance, HourlyCost: 1}}
		r := recommender{e: ens, l: ens.lensOf(in.Resource.Kind), in: &in, data: metricData{in: &in}, prof: &p, monthly: HoursPerMonth}
		var v Verdict
		assert.Equal(t, tt.want, r.schedule(&v, true), tt.name)
		if tt.want {
			assert.Equal(t, ActionSchedule, v.Action, tt.name)
			continue
		}
		require.Len(t, v.Reasons, 1, tt.name)
		assert.Equal(t, tt.reason, v.Reasons[0].Code, tt.name)
	}
}

// TestLearnSeriesWithoutData pins that a history without a single value
// (the schedule judges coverage on History itself, so MinCoverage is 0)
// learns nothing and says the data are missing, not suspect zeros.
func TestLearnSeriesWithoutData(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, 2*288)}
	for i := range s.Values {
		s.Values[i] = math.NaN()
	}
	p := Profile{Location: time.UTC, IdleShare: 0.9}
	q := DataQuality{}.withDefaults()
	q.MinCoverage = 0
	code, why := learnSeries(s, s.End(), 0.10, 2*24*time.Hour, time.Time{}, q, &p)
	assert.Equal(t, qMissing, code)
	assert.Equal(t, ReasonMissing, why.Code)
	assert.Zero(t, p.History)
	assert.Zero(t, p.IdleSlots())
}

// TestUtilizationScoreAtAZeroThreshold pins the idle score of a metric
// whose threshold is 0 (allowed: "idle only when nothing at all"): 1 at
// exactly 0, 0 for anything above; and 0.5 exactly at a positive
// threshold, falling above it.
func TestUtilizationScoreAtAZeroThreshold(t *testing.T) {
	t.Parallel()
	u, err := NewUtilization(UtilizationConfig{})
	require.NoError(t, err)
	assert.InDelta(t, 1.0, u.score(0, 0), 0)
	assert.InDelta(t, 0.0, u.score(1e-12, 0), 0)
	assert.InDelta(t, 0.5, u.score(0.1, 0.1), 0)
	assert.Less(t, u.score(0.11, 0.1), 0.5)
	assert.Greater(t, u.score(0.09, 0.1), 0.5)
}

// TestWeekLearnedAcrossBothDSTChanges: a history from one winter to the
// next holds both changes of daylight saving time, so that its first and
// its last step have the same offset. The offset was looked up at every
// hour only when those two differed: every summer step of Berlin's office
// hours (09:00–17:00 on weekdays) was put an hour early, 08:00 read busy
// in 30 of 48 weeks and 16:00 idle in as many, and the week's busy hours
// were named "Mon–Fri 08:00–17:00". A series' and a digest's learning
// both see the right week.
func TestWeekLearnedAcrossBothDSTChanges(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	const history = 48 * 7 * 24 * time.Hour
	now := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	start := now.Add(-history) // 3 February 2025: winter time, as now
	step := 5 * time.Minute
	cpu := provider.Series{Metric: provider.MetricCPU, Start: start, Step: step, Values: make([]float64, int(history/step))}
	for i := range cpu.Values {
		local := cpu.TimeAt(i).In(berlin)
		cpu.Values[i] = 0.02
		if wd := local.Weekday(); wd != time.Saturday && wd != time.Sunday && local.Hour() >= 9 && local.Hour() < 17 {
			cpu.Values[i] = 0.6
		}
	}
	ens, err := NewEnsemble(EnsembleConfig{Schedule: ScheduleConfig{History: history}})
	require.NoError(t, err)
	tr, err := NewTracker(ens, TrackerConfig{}, &MemoryStateStore{})
	require.NoError(t, err)
	in := Input{Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance, TimeZone: "Europe/Berlin"}, Series: []provider.Series{cpu}}
	d := tr.build(&in, now)
	require.NotNil(t, d)
	sq := ens.sched.cfg.Quality
	sq.MinCoverage = 0
	for _, data := range []struct {
		name string
		md   metricData
	}{
		{"series", metricData{in: &in}},
		{"digest", metricData{in: &in, dg: &digestView{d: d, now: now, from: now.Add(-time.Duration(tr.hours) * time.Hour)}}},
	} {
		p := Profile{Location: berlin, IdleShare: 0.9}
		code, _ := data.md.learn(&p, provider.MetricCPU, 0.10, history, sq)
		require.Equal(t, qOK, code, data.name)
		assert.Equal(t, "Mon–Fri 09:00–17:00", p.Busy().String(), data.name)
		monday := int(time.Monday) * 24
		for hour, want := range map[int]float64{8: 1, 9: 0, 16: 0, 17: 1} {
			share, ok := p.Share(monday + hour)
			require.True(t, ok, "%s: Monday %02d:00", data.name, hour)
			assert.InDelta(t, want, share, 1e-9, "%s: Monday %02d:00", data.name, hour)
		}
	}
}
