package scaling

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// BenchmarkPredictiveDecision measures one decision of a fitted
// predictive strategy on 5-minute data (31 days, daily and weekly
// seasons): the forecast over the lead time and horizon and the sizing,
// without the words of the recommendation.
func BenchmarkPredictiveDecision(b *testing.B) {
	p, err := NewPredictive(PredictiveConfig{CapacityPerInstance: 50, LeadTime: 5 * time.Minute})
	require.NoError(b, err)
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 31*288)
	for t := range y {
		y[t] = 1000 + 600*math.Sin(2*math.Pi*float64(t)/288) + 150*math.Sin(2*math.Pi*float64(t)/2016) + 30*r.NormFloat64()
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute, Values: y}
	st := State{Now: ser.End(), Target: Target{ID: "g", Resource: provider.Resource{ID: "g", Kind: provider.KindGroup},
		Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Max: 1000, Desired: 30}}, Max: 1000}, Metrics: []provider.Series{ser}}
	_, err = p.Recommend(b.Context(), st)
	require.NoError(b, err)
	pr := p.target("g", st.Now)
	require.Equal(b, StandingForecast, pr.standing)
	b.ReportAllocs()
	var d predictiveDecision
	for b.Loop() {
		d = pr.decide(30)
	}
	require.Positive(b, d.Desired)
}

func TestCalendarSeasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give []int
		step time.Duration
		want []int
	}{
		{"5-minute daily and weekly read short", []int{283, 1981}, 5 * time.Minute, []int{288, 2016}},
		{"within 3 % of a day", []int{280}, 5 * time.Minute, []int{288}},
		{"beyond 3 % of a day", []int{279}, 5 * time.Minute, []int{279}},
		{"hourly 23 is 4 % off", []int{23}, time.Hour, []int{23}},
		{"half a day stays", []int{12}, time.Hour, []int{12}},
		{"merged duplicates", []int{287, 289}, 5 * time.Minute, []int{288}},
		{"a step that does not divide a day", []int{3}, 7 * time.Hour, []int{3}},
		// 36 s steps: a day is 2,400 of them and 3 % of it exactly 72.
		{"exactly 3 % of a day", []int{2472, 2328}, 36 * time.Second, []int{2400}},
		{"a step beyond 3 %", []int{2473}, 36 * time.Second, []int{2473}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, calendarSeasons(tt.give, tt.step))
		})
	}
}

// TestPredictiveDefaults pins the predictive strategy's defaults.
func TestPredictiveDefaults(t *testing.T) {
	d := PredictiveConfig{CapacityPerInstance: 10}.withDefaults()
	assert.Equal(t, provider.MetricRequests, d.Metric)
	assert.Equal(t, 5*time.Minute, d.Step)
	assert.Equal(t, time.Hour, d.Horizon)
	assert.InDelta(t, 0.9, d.Quantile, 0)
	assert.InDelta(t, 0.2, *d.Margin, 0)
	assert.InDelta(t, 0.6, d.TargetUtilization, 0)
	assert.Equal(t, 30*24*time.Hour, d.MinHistory)
	assert.Equal(t, 30*24*time.Hour, d.FitWindow, "the fit window is MinHistory")
	assert.Equal(t, time.Hour, d.RefitInterval)
	assert.Equal(t, 7*24*time.Hour, d.ReselectInterval)
	assert.Equal(t, 24*time.Hour, d.ErrorWindow)
	assert.InDelta(t, 1.0, d.MaxError, 0)
}

// TestPredictivePeriodsAndWindows pins the validation of periods (a
// multiple of the step, at least two steps) and of the fit window (at
// least 8 steps), with the limit named in the error.
func TestPredictivePeriodsAndWindows(t *testing.T) {
	base := PredictiveConfig{CapacityPerInstance: 10}
	for _, tc := range []struct {
		periods []time.Duration
		fit     time.Duration
		field   string
		says    string
	}{
		{periods: []time.Duration{10 * time.Minute}},
		{periods: []time.Duration{5 * time.Minute}, field: "periods[0]", says: "multiple of the step 5m0s, at least two steps"},
		{periods: []time.Duration{24 * time.Hour, 12 * time.Minute}, field: "periods[1]"},
		{fit: 40 * time.Minute},
		{fit: 40*time.Minute - time.Second, field: "fit_window", says: "at least 8 steps (40m0s)"},
	} {
		c := base
		c.Periods, c.FitWindow = tc.periods, tc.fit
		err := c.Validate()
		if tc.field == "" {
			require.NoError(t, err, "%v %v", tc.periods, tc.fit)
			continue
		}
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "%v %v", tc.periods, tc.fit)
		assert.Equal(t, tc.field, inv.Field)
		assert.Contains(t, err.Error(), tc.says)
	}
	c := base
	c.Horizon = 4 * time.Hour
	assert.ErrorContains(t, c.Validate(), "lead time + horizon must be at most 47 steps of 5m0s")
}

// TestPredictiveFitness pins the fitness of each standing: a forecast
// 0.9 plus up to 0.1 as its error falls below the bound, a fallback 0.4,
// a short history up to 0.3 in proportion, no model 0.2.
func TestPredictiveFitness(t *testing.T) {
	day := 24 * time.Hour
	assert.InDelta(t, 0.9, fitnessFor(StandingForecast, math.NaN(), 1, 0, 0), 1e-12)
	assert.InDelta(t, 1.0, fitnessFor(StandingForecast, 0, 1, 0, 0), 1e-12)
	assert.InDelta(t, 0.95, fitnessFor(StandingForecast, 0.5, 1, 0, 0), 1e-12)
	assert.InDelta(t, 0.975, fitnessFor(StandingForecast, 0.5, 2, 0, 0), 1e-12)
	assert.InDelta(t, 0.9, fitnessFor(StandingForecast, 3, 1, 0, 0), 1e-12, "never below 0.9")
	assert.InDelta(t, 0.4, fitnessFor(StandingFallback, 3, 1, 0, 0), 1e-12)
	assert.InDelta(t, 0.1, fitnessFor(StandingShortHistory, 0, 1, 10*day, 30*day), 1e-12)
	assert.InDelta(t, 0.3, fitnessFor(StandingShortHistory, 0, 1, 40*day, 30*day), 1e-12, "at most 0.3")
	assert.InDelta(t, 0.2, fitnessFor(StandingNoModel, 0, 1, 0, 0), 1e-12)
}

// TestPredictiveReason pins the words of a forecast decision: the
// quantile, the peak before the margin, the window, the margin, the
// demand per instance, and the notes of a held scale in and of the
// reactive floor.
func TestPredictiveReason(t *testing.T) {
	c := PredictiveConfig{CapacityPerInstance: 100, LeadTime: 5 * time.Minute}.withDefaults()
	pr := &predictor{cfg: c}
	d := predictiveDecision{Standing: StandingForecast, Desired: 7, Reactive: 3, Last: 150, Up: 5, Hold: 7, Peak: 360, MASE: 0.5}
	got := d.reason(c, pr)
	assert.Equal(t, "predictive: aseasonal forecast p90 of requests ≤ 300 within 1h5m0s (unknown(), MASE 0.50) × 1.20 / 60 per instance: 5; scale in held at 7 for the next 1h5m0s", got)
	d = predictiveDecision{Standing: StandingForecast, Desired: 6, Reactive: 6, Last: 330, Up: 4, Hold: 4, Peak: 240, MASE: 0.5}
	assert.Contains(t, d.reason(c, pr), "; not below the reactive ⌈330 / 60⌉ = 6")
	assert.NotContains(t, d.reason(c, pr), "held")
	d = predictiveDecision{Standing: StandingForecast, Desired: 5, Reactive: 3, Up: 5, Hold: 5, Peak: 360, MASE: 0.5}
	assert.NotContains(t, d.reason(c, pr), ";", "nothing held, not at the floor")
	d = predictiveDecision{Standing: StandingForecast, Desired: 5, Reactive: 3, Up: 5, Hold: 7, Peak: 360, MASE: 0.5}
	assert.NotContains(t, d.reason(c, pr), "held", "a hold the bounds kept at the first step's need holds nothing")
}

// TestPredictiveInputsAndRounding pins the audit inputs (an unknown MASE
// is −1; fallback 1 unless forecasting), the reactive floor's note only
// above the first step's need, and how the usable history is rounded in
// words (to the hour from an hour, else to the minute).
func TestPredictiveInputsAndRounding(t *testing.T) {
	c := PredictiveConfig{CapacityPerInstance: 100}.withDefaults()
	in := func(d predictiveDecision) map[string]float64 {
		out := map[string]float64{}
		for _, x := range d.inputs(c) {
			out[x.Name] = x.Value
		}
		return out
	}
	got := in(predictiveDecision{Standing: StandingForecast, MASE: math.NaN(), Last: 42, Peak: 90, Reactive: 2})
	assert.Equal(t, map[string]float64{"requests": 42, "forecast peak": 90, "reactive": 2, InputForecastMASE: -1, InputForecastFallback: 0}, got)
	got = in(predictiveDecision{Standing: StandingShortHistory, MASE: 0.7})
	assert.InDelta(t, 0.7, got[InputForecastMASE], 0)
	assert.InDelta(t, 1.0, got[InputForecastFallback], 0)

	pr := &predictor{cfg: c}
	d := predictiveDecision{Standing: StandingForecast, Desired: 5, Reactive: 5, Up: 5, Hold: 5, Peak: 360, MASE: 0.5}
	assert.NotContains(t, d.reason(c, pr), "not below", "the floor equals the first step's need")

	assert.Equal(t, 2*time.Hour, roundDuration(90*time.Minute))
	assert.Equal(t, time.Hour, roundDuration(time.Hour+29*time.Minute))
	assert.Equal(t, 10*time.Minute, roundDuration(10*time.Minute+20*time.Second))
	assert.Equal(t, 59*time.Minute, roundDuration(59*time.Minute+29*time.Second))
}

// TestPredictorEdges pins the predictor on its edges: the names of
// patterns, a series without a step, a negative first value, a series of
// zeros (idle demand, valid), a series that is all gaps, a decision
// before the series starts, and the history at exactly MinHistory.
func TestPredictorEdges(t *testing.T) {
	assert.Equal(t, Pattern{Name: "daily", Period: 24 * time.Hour}, patternOf(24*time.Hour))
	assert.Equal(t, Pattern{Name: "weekly", Period: 7 * 24 * time.Hour}, patternOf(7*24*time.Hour))
	assert.Equal(t, Pattern{Name: "every 12h0m0s", Period: 12 * time.Hour}, patternOf(12*time.Hour))

	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	step := 5 * time.Minute
	recommend := func(t *testing.T, c PredictiveConfig, vals []float64, now time.Time) (*predictor, Recommendation, error) {
		t.Helper()
		c.CapacityPerInstance = 50
		p, err := NewPredictive(c)
		require.NoError(t, err)
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: step, Values: vals}
		st := State{Now: now, Target: Target{ID: "g", Resource: provider.Resource{ID: "g", Kind: provider.KindGroup},
			Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Max: 1000, Desired: 3}}, Max: 1000}, Metrics: []provider.Series{ser}}
		rec, err := p.Recommend(t.Context(), st)
		return p.target("g", now), rec, err
	}
	flat := func(n int, v float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	end := start.Add(288 * step)

	_, _, err := recommend(t, PredictiveConfig{}, flat(288, 100), end)
	require.NoError(t, err)
	// Recommend reads only series at the strategy's step; observe itself
	// refuses a series without one.
	np := newPredictor(PredictiveConfig{CapacityPerInstance: 50}.withDefaults())
	err = np.observe(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Values: flat(288, 1)}, end)
	require.ErrorContains(t, err, "requests.step", "a series without a step")

	neg := flat(288, 100)
	neg[0] = -1
	_, _, err = recommend(t, PredictiveConfig{}, neg, end)
	require.ErrorContains(t, err, "demand must be finite and ≥ 0", "the first value is checked too")

	pr, rec, err := recommend(t, PredictiveConfig{}, flat(288, 0), end)
	require.NoError(t, err, "zero demand is valid")
	assert.Equal(t, StandingShortHistory, pr.standing)
	assert.Equal(t, 24*time.Hour, pr.history)
	assert.Equal(t, 0, rec.Capacity.Desired, rec.Reason)

	pr, _, err = recommend(t, PredictiveConfig{}, flat(288, math.NaN()), end)
	require.NoError(t, err)
	assert.Zero(t, pr.history, "all gaps: no usable history")

	pr, _, err = recommend(t, PredictiveConfig{}, flat(288, 100), start.Add(-time.Hour))
	require.NoError(t, err, "a decision before the series starts")
	assert.Zero(t, pr.history)

	// Exactly MinHistory of history forecasts; a step less does not.
	day := flat(2*288, 0)
	for i := range day {
		day[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/288)
	}
	pr, _, err = recommend(t, PredictiveConfig{MinHistory: 48 * time.Hour, Periods: []time.Duration{24 * time.Hour}}, day, start.Add(48*time.Hour))
	require.NoError(t, err)
	assert.NotEqual(t, StandingShortHistory, pr.standing, "48h of history meets a MinHistory of 48h")
	pr, _, err = recommend(t, PredictiveConfig{MinHistory: 48*time.Hour + step, Periods: []time.Duration{24 * time.Hour}}, day, start.Add(48*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, StandingShortHistory, pr.standing)
}

// TestPredictorFeedsGaps pins how a fitted predictor reads the steps
// after its fit: a gap of at most maxGap steps (3 by default) is bridged
// and the history goes on; a gap at the end waits for the step after it;
// a longer gap restarts the usable history after it (short history
// again). maxGap itself: 3 by default, MaxGapDuration over the step,
// none for a negative MaxGap.
func TestPredictorFeedsGaps(t *testing.T) {
	assert.Equal(t, 3, PredictiveConfig{Step: 5 * time.Minute}.maxGap())
	assert.Equal(t, 6, PredictiveConfig{Step: 5 * time.Minute, Gaps: forecast.GapPolicy{MaxGap: 2, MaxGapDuration: 30 * time.Minute}}.maxGap())
	assert.Equal(t, 2, PredictiveConfig{Step: 5 * time.Minute, Gaps: forecast.GapPolicy{MaxGap: 2}}.maxGap())
	assert.Equal(t, 0, PredictiveConfig{Step: 5 * time.Minute, Gaps: forecast.GapPolicy{MaxGap: -1}}.maxGap())

	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	step := 5 * time.Minute
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	fitted := func(t *testing.T, vals []float64) (*predictor, provider.Series) {
		t.Helper()
		pr := newPredictor(c)
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: step, Values: vals}
		require.NoError(t, pr.observe(t.Context(), ser, start.Add(48*time.Hour)))
		require.Equal(t, StandingForecast, pr.standing)
		return pr, ser
	}
	for _, tc := range []struct {
		name    string
		gap     int // NaN steps after the first new step
		tail    int // steps after the gap
		history time.Duration
		fedEnd  int // steps from start
		want    PredictiveStanding
	}{
		{"short gap bridged", 3, 2, 48*time.Hour + 6*step, 576 + 6, StandingForecast},
		{"gap at the end waits", 2, 0, 48*time.Hour + 3*step, 576 + 1, StandingForecast},
		{"long gap restarts", 4, 2, 2 * step, 576 + 7, StandingShortHistory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := dailyWave(576 + 1 + tc.gap + tc.tail)
			for i := 577; i < 577+tc.gap; i++ {
				vals[i] = math.NaN()
			}
			pr, ser := fitted(t, vals[:576])
			ser.Values = vals
			require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
			assert.Equal(t, tc.history, pr.history)
			assert.Equal(t, start.Add(time.Duration(tc.fedEnd)*step), pr.fedEnd)
			assert.Equal(t, tc.want, pr.standing)
			if tc.tail > 0 {
				assert.InDelta(t, vals[len(vals)-1], pr.last, 0)
			} else {
				assert.InDelta(t, vals[576], pr.last, 0, "the last value before the gap")
			}
		})
	}
}

// TestPredictorRollingError pins the rolling MASE: unknown (NaN) until a
// quarter of the window (at least 4 steps) was scored or without a
// scale; the mean absolute error over the scale after that, over the
// last window only; above MaxError only when strictly above.
func TestPredictorRollingError(t *testing.T) {
	c := PredictiveConfig{CapacityPerInstance: 50, ErrorWindow: 40 * time.Minute, MaxError: 0.5}.withDefaults()
	p := newPredictor(c)
	require.Len(t, p.errs, 8)
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	tick := func() time.Time { at = at.Add(c.Step); return at } // the next step's start
	p.scale = 2
	for range 3 {
		p.score(tick(), 1)
	}
	assert.True(t, math.IsNaN(p.mase()), "3 of at least 4")
	assert.False(t, p.maseAbove(c.MaxError), "unknown is not above")
	p.score(tick(), 1)
	assert.InDelta(t, 0.5, p.mase(), 1e-12, "mean error 1 over scale 2")
	assert.False(t, p.maseAbove(c.MaxError), "at MaxError, not above")
	for range 8 {
		p.score(tick(), 3)
	}
	assert.InDelta(t, 1.5, p.mase(), 1e-12, "only the last 8 errors")
	assert.True(t, p.maseAbove(c.MaxError))
	p.expireErrors(at.Add(-3 * c.Step))
	assert.Equal(t, 4, p.errN, "the steps from the cutoff on are kept")
	assert.InDelta(t, 1.5, p.mase(), 1e-12)
	p.expireErrors(at.Add(c.Step))
	assert.Equal(t, 0, p.errN, "every step before the cutoff is dropped")
	assert.True(t, math.IsNaN(p.mase()), "none left")
	p.score(tick(), 1)
	assert.Equal(t, 1, p.errN, "scored again after")
	p.scale = 0
	assert.True(t, math.IsNaN(p.mase()), "no scale")

	long := newPredictor(PredictiveConfig{CapacityPerInstance: 50}.withDefaults()) // 24 h of 5-minute steps
	long.scale = 1
	for range 71 {
		long.score(tick(), 1)
	}
	assert.True(t, math.IsNaN(long.mase()), "71 of a quarter of 288")
	long.score(tick(), 1)
	assert.InDelta(t, 1, long.mase(), 1e-12)

	none := &predictor{cfg: c}
	none.score(tick(), 5) // no window: nothing to score, no panic
	assert.True(t, math.IsNaN(none.mase()))
}

// TestPredictorRefitSchedule pins when a predictor fits: the model is
// chosen at the first decision with enough history, its parameters are
// estimated again at the first decision of each RefitInterval (aligned
// to it) and the model chosen again at each ReselectInterval; between
// them nothing is fitted. A failed fit is retried at the next refit
// time, not at every decision, even when a reselection is due.
func TestPredictorRefitSchedule(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{
		CapacityPerInstance: 50, Step: time.Hour, MinHistory: 7 * 24 * time.Hour, Periods: []time.Duration{24 * time.Hour},
		RefitInterval: 6 * time.Hour, ReselectInterval: 48 * time.Hour,
	}.withDefaults()
	vals := make([]float64, 30*24)
	for i := range vals {
		vals[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/24)
	}
	pr := newPredictor(c)
	observe := func(t *testing.T, now time.Time) {
		t.Helper()
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: vals[:now.Sub(start)/time.Hour]}
		require.NoError(t, pr.observe(t.Context(), ser, now))
	}
	now := start.Add(8 * 24 * time.Hour) // a midnight: aligned to 6h
	observe(t, now)
	require.NotNil(t, pr.model, "the first decision with enough history fits")
	firstSelect := now.Truncate(48 * time.Hour)
	assert.Equal(t, now, pr.fitAt)
	assert.Equal(t, firstSelect, pr.selectAt)

	for _, h := range []time.Duration{1, 5} { // within the refit interval
		observe(t, now.Add(h*time.Hour))
		assert.Equal(t, now, pr.fitAt, "no refit %s after the fit", h*time.Hour)
	}
	chosen := pr.model
	observe(t, now.Add(6*time.Hour))
	assert.Equal(t, now.Add(6*time.Hour), pr.fitAt, "refit at the next 6h boundary")
	assert.Equal(t, firstSelect, pr.selectAt, "a refit is not a reselection")
	assert.Same(t, chosen, pr.model, "a refit estimates the chosen model again, it does not run Auto")
	observe(t, now.Add(13*time.Hour))
	assert.Equal(t, now.Add(12*time.Hour), pr.fitAt, "aligned to the interval, not to the last fit")

	reselect := firstSelect.Add(48 * time.Hour)
	observe(t, reselect.Add(time.Hour))
	assert.Equal(t, reselect, pr.selectAt, "chosen again at the reselect boundary")
	assert.Equal(t, reselect, pr.fitAt)
	assert.NotSame(t, chosen, pr.model, "a reselection runs Auto")

	// A model dropped for a short history is chosen again at the next
	// decision with enough history, within the same intervals.
	pr.model, pr.fitErr = nil, nil
	observe(t, reselect.Add(2*time.Hour))
	assert.NotNil(t, pr.model)

	// A failed fit (made to look so: no model, an error) waits for the
	// next refit time.
	dropped := reselect.Add(time.Hour)
	pr.model, pr.fitErr = nil, errors.New("no fit")
	observe(t, dropped.Add(time.Hour))
	assert.Nil(t, pr.model, "not retried within the refit interval")
	assert.Equal(t, StandingNoModel, pr.standing)
	pr.selectAt = reselect.Add(-96 * time.Hour) // a reselection is due too
	observe(t, dropped.Add(2*time.Hour))
	assert.Nil(t, pr.model, "not retried within the refit interval, even when a reselection is due")
	observe(t, reselect.Add(6*time.Hour))
	require.NotNil(t, pr.model, "retried at the next refit time")
	require.NoError(t, pr.fitErr)
	assert.Equal(t, reselect.Add(6*time.Hour), pr.fitAt)
	assert.Equal(t, reselect, pr.selectAt, "the retry reselected")
}

// updates records the values a predictor feeds its model.
type updates struct {
	forecast.Model
	got []float64
}

func (u *updates) Update(v float64) error {
	u.got = append(u.got, v)
	return u.Model.Update(v)
}

// TestPredictorBridgesGapsLinearly pins the values a fitted predictor
// feeds its model across a short gap: the line from the last value
// before the gap to the first after it (3 missing steps between 100 and
// 140: 110, 120, 130), then that value; a short gap at the end feeds
// nothing yet.
func TestPredictorBridgesGapsLinearly(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	step := 5 * time.Minute
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	vals := append(make([]float64, 0, 576+8), dailyWave(576)...)
	pr := newPredictor(c)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: step, Values: vals}
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	require.NotNil(t, pr.model)
	rec := &updates{Model: pr.model}
	pr.model = rec

	ser.Values = append(vals, 100, math.NaN(), math.NaN(), math.NaN(), 140, 150, math.NaN(), math.NaN())
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	assert.Equal(t, []float64{100, 110, 120, 130, 140, 150}, rec.got)
	assert.Equal(t, StandingForecast, pr.standing)
}

// TestPredictorFitEndsAtTheLastValue: a fit whose window ends in gaps (at
// most maxGap steps) leaves the model's state at the last step with a
// value, not at the end of the window, so that the forecast starts from
// there.
func TestPredictorFitEndsAtTheLastValue(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	step := 5 * time.Minute
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	for _, gap := range []int{0, 1, 2} {
		vals := dailyWave(864 + gap)
		for i := len(vals) - gap; i < len(vals); i++ {
			vals[i] = math.NaN()
		}
		pr := newPredictor(c)
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: step, Values: vals}
		require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
		require.Equal(t, StandingForecast, pr.standing, "gap %d: %+v", gap, pr.status())
		assert.Equal(t, ser.TimeAt(len(vals)-gap), pr.fedEnd, "gap %d", gap)
		assert.InDelta(t, vals[len(vals)-gap-1], pr.lastVal, 0, "gap %d", gap)
	}
}

// TestSpecPeriods lists the seasons a model spec uses: its Period when
// above 1, its Periods, and its members', sorted and once each.
func TestSpecPeriods(t *testing.T) {
	assert.Empty(t, specPeriods(forecast.Spec{Kind: forecast.KindHoltWinters, Period: 1}))
	assert.Empty(t, specPeriods(forecast.Spec{Kind: forecast.KindHoltWinters}))
	assert.Equal(t, []int{24}, specPeriods(forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24}))
	assert.Equal(t, []int{24, 168}, specPeriods(forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
		{Kind: forecast.KindHarmonic, Periods: []int{168, 24}}, {Kind: forecast.KindHoltWinters, Period: 24}, {Kind: forecast.KindHoltWinters, Period: 1},
	}}))
}

// TestNaiveScale pins the in-sample error of the lag-h naive forecast:
// mean |y_s − y_{s−h}| over the len(y)−h pairs, NaN without a pair.
func TestNaiveScale(t *testing.T) {
	y := []float64{1, 2, 4, 7, 7}
	assert.InDelta(t, (1+2+3+0)/4.0, naiveScale(y, 1), 1e-15)
	assert.InDelta(t, (3+5+3)/3.0, naiveScale(y, 2), 1e-15)
	assert.InDelta(t, 6.0, naiveScale(y, 4), 1e-15)
	assert.True(t, math.IsNaN(naiveScale(y, 5)))
	assert.True(t, math.IsNaN(naiveScale(y, 6)))
}

// TestPredictorErrorScale: a fit scales the rolling error by the larger
// in-sample error of the two simple forecasts, the value lead+1 steps
// before and the value a season before (here a level that rises every
// day makes the seasonal one the larger).
func TestPredictorErrorScale(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	y := risingDailyWave(864)
	pr := fedPredictor(t, c, start, y)
	require.Equal(t, StandingForecast, pr.standing)
	lead, season := naiveScale(y, c.leadSteps()+1), naiveScale(y, 288)
	require.Greater(t, season, lead)
	assert.InDelta(t, season, pr.scale, 1e-12)
}

// TestPredictiveCandidates: forecast's defaults, plus, from two seasons,
// a harmonic regression whose orders per season are at most half the
// period, 20 and 48/seasons, and at least 1.
func TestPredictiveCandidates(t *testing.T) {
	harmonic := func(cands []forecast.Spec) *forecast.Spec {
		for i := range cands {
			if cands[i].Kind == forecast.KindHarmonic && len(cands[i].Periods) > 1 {
				return &cands[i]
			}
		}
		return nil
	}
	one := predictiveCandidates([]int{288})
	assert.Equal(t, forecast.DefaultCandidates([]int{288}), one)
	assert.Nil(t, harmonic(one), "one season: no multi-season harmonic")
	for _, tc := range []struct {
		periods, orders []int
	}{
		{[]int{288, 2016}, []int{20, 20}},      // capped at 20
		{[]int{24, 168}, []int{12, 20}},        // half the day
		{[]int{12, 24, 168}, []int{6, 12, 16}}, // 48/3
		{[]int{1, 24}, []int{1, 12}},           // at least 1
	} {
		got := predictiveCandidates(tc.periods)
		assert.Equal(t, forecast.DefaultCandidates(tc.periods), got[:len(got)-1], "%v", tc.periods)
		h := harmonic(got)
		require.NotNil(t, h, "%v", tc.periods)
		assert.Equal(t, tc.periods, h.Periods)
		assert.Equal(t, tc.orders, h.Harmonics, "%v", tc.periods)
	}
}

// TestPredictorPinnedModel: a pinned model is the one fitted (not one
// Auto selects), on the seasons it models.
func TestPredictorPinnedModel(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	pinned := forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 144}
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour}, Model: &pinned}.withDefaults()
	y := dailyWave(864)
	pr := fedPredictor(t, c, start, y)
	require.Equal(t, StandingForecast, pr.standing, "%+v", pr.status())
	assert.Equal(t, pinned, pr.spec)
	assert.Equal(t, []int{144}, pr.periods)
	assert.Equal(t, pinned.String(), pr.status().Model)
}

// TestPredictorScoresEveryStep runs a fitted predictor (lead time: two
// steps) step by step for longer than its pending forecasts could hold
// uncompacted (64): the forecast of the step new instances would serve is
// scored against that step's value when it arrives, then dropped, so
// that at most lead+1 forecasts wait and the rolling error follows the
// latest steps.
func TestPredictorScoresEveryStep(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour},
		LeadTime: 10 * time.Minute, RefitInterval: 7 * 24 * time.Hour, ReselectInterval: 7 * 24 * time.Hour}.withDefaults()
	const fit, run = 864, 200
	y := dailyWave(fit + run)
	pr := newPredictor(c)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: y[:fit]}
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	require.Equal(t, StandingForecast, pr.standing, "%+v", pr.status())
	require.Greater(t, len(pr.errs), run, "the error window holds every step of the run")
	first := pr.errN
	for n := fit + 1; n <= fit+run; n++ {
		pr.decide(3)
		ser.Values = y[:n]
		require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
		require.LessOrEqual(t, len(pr.preds), c.leadSteps()+1, "step %d: pending forecasts are dropped once scored", n)
	}
	scored := pr.errN - first
	// Each forecast is scored against the value of the step it was made
	// for: on a clean sine the error is far below the naive forecasts'.
	assert.Less(t, pr.mase(), 0.2)
	assert.GreaterOrEqual(t, scored, run-c.leadSteps()-1, "every step after the first lead is scored")
}

// TestPredictorDecidesAcrossATrailingGap: when the latest steps are a gap
// of maxGap steps (the model's state waits at the step before it), the
// forecast still covers the whole window from the step in progress.
func TestPredictorDecidesAcrossATrailingGap(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	const fit = 864
	gap := c.maxGap()
	y := dailyWave(fit + 1 + gap)
	for i := fit + 1; i < len(y); i++ {
		y[i] = math.NaN()
	}
	pr := newPredictor(c)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: y[:fit]}
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	want := pr.decide(3)
	require.Equal(t, StandingForecast, want.Standing)
	ser.Values = y
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	require.Equal(t, StandingForecast, pr.standing)
	require.Equal(t, ser.TimeAt(fit+1), pr.fedEnd, "the state waits before the gap")
	d := pr.decide(3)
	assert.Equal(t, StandingForecast, d.Standing)
	assert.Positive(t, d.Up)
	assert.GreaterOrEqual(t, d.Hold, d.Up)
	assert.False(t, math.IsNaN(d.Peak) || math.IsInf(d.Peak, 0), "peak %v", d.Peak)
}

// TestPredictorReadsOnlyCompleteSteps: a series that runs past now (the
// step in progress, or later) is read up to the last step that ended by
// now, as the same series cut there.
func TestPredictorReadsOnlyCompleteSteps(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	y := dailyWave(900)
	for i := range y {
		y[i] += float64(i % 7)
	}
	now := start.Add(864*c.Step + 2*time.Minute) // 864 steps ended, the next in progress
	long, cut := newPredictor(c), newPredictor(c)
	require.NoError(t, long.observe(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: y}, now))
	require.NoError(t, cut.observe(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: y[:864]}, now))
	require.Equal(t, StandingForecast, long.standing)
	assert.Equal(t, start.Add(864*c.Step), long.seenEnd)
	assert.Equal(t, cut.seenEnd, long.seenEnd)
	assert.Equal(t, cut.fedEnd, long.fedEnd)
	assert.InDelta(t, y[863], long.last, 0)
	assert.Equal(t, fmt.Sprintf("%+v", cut.decide(3)), fmt.Sprintf("%+v", long.decide(3)), "printed: the MASE is NaN")
}

// TestPredictorContinuesOnASlidingWindow: reads of a fixed-length window
// whose start moves on by whole steps (as a host reads the last N hours)
// continue the predictor's state — the rolling error goes on — instead of
// rebuilding it at every read.
func TestPredictorContinuesOnASlidingWindow(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour},
		RefitInterval: 7 * 24 * time.Hour, ReselectInterval: 7 * 24 * time.Hour}.withDefaults()
	const fit, run = 864, 60
	y := dailyWave(fit + run)
	pr := newPredictor(c)
	require.NoError(t, pr.observe(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: y[:fit]}, start.Add(fit*c.Step)))
	require.Equal(t, StandingForecast, pr.standing)
	fitted := pr.fitAt
	for n := fit + 1; n <= fit+run; n++ {
		pr.decide(3)
		from := n - fit // the window keeps its length
		ser := provider.Series{Metric: provider.MetricRequests, Start: start.Add(time.Duration(from) * c.Step), Step: c.Step, Values: y[from:n]}
		require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	}
	assert.Equal(t, fitted, pr.fitAt, "no refit: the state went on")
	assert.GreaterOrEqual(t, pr.errN, run-c.leadSteps()-1, "every step was scored")
}

// TestPredictorGapOnlyHistory: a series of nothing but gaps is usable
// history when the gap is one the policy bridges (at most maxGap steps),
// and none when it is longer.
func TestPredictorGapOnlyHistory(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50}.withDefaults()
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{c.maxGap(), time.Duration(c.maxGap()) * c.Step},
		{c.maxGap() + 1, 0},
	} {
		vals := make([]float64, tc.n)
		for i := range vals {
			vals[i] = math.NaN()
		}
		pr := newPredictor(c)
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: vals}
		require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
		assert.Equal(t, tc.want, pr.history, "%d gap steps", tc.n)
		assert.Equal(t, StandingShortHistory, pr.standing)
	}
}

// TestPredictorReadWithoutACompleteStep: a read that starts where the
// last one ended and holds only the step in progress adds nothing (no
// complete step), and the fitted state stays.
func TestPredictorReadWithoutACompleteStep(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	y := dailyWave(864)
	pr := fedPredictor(t, c, start, y)
	require.Equal(t, StandingForecast, pr.standing)
	fedEnd, seenEnd := pr.fedEnd, pr.seenEnd
	partial := provider.Series{Metric: provider.MetricRequests, Start: seenEnd, Step: c.Step, Values: []float64{120}}
	require.NoError(t, pr.observe(t.Context(), partial, seenEnd.Add(time.Minute)))
	assert.Equal(t, StandingForecast, pr.standing)
	assert.Equal(t, fedEnd, pr.fedEnd)
	assert.Equal(t, seenEnd, pr.seenEnd)
}

// TestPredictorErrorScaleWithoutSeasons: a model without seasons (here a
// pinned one-step naive model) scales the rolling error by the lead-step
// naive error alone.
func TestPredictorErrorScaleWithoutSeasons(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	pinned := forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 1}
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, FitWindow: 72 * time.Hour, Model: &pinned}.withDefaults()
	y := risingDailyWave(864)
	pr := fedPredictor(t, c, start, y)
	require.Equal(t, StandingForecast, pr.standing, "%+v", pr.status())
	require.Empty(t, pr.periods)
	assert.InDelta(t, naiveScale(y, c.leadSteps()+1), pr.scale, 1e-12)
}

// dailyWave is n five-minute steps of demand around 100 with a daily
// swing of ±50.
func dailyWave(n int) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/288)
	}
	return y
}

// fedPredictor returns a predictor of c that has observed the requests y
// from start to their end.
func fedPredictor(t *testing.T, c PredictiveConfig, start time.Time, y []float64) *predictor {
	t.Helper()
	pr := newPredictor(c)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: c.Step, Values: y}
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	return pr
}

// risingDailyWave is dailyWave whose level rises by 30 every day.
func risingDailyWave(n int) []float64 {
	y := dailyWave(n)
	for i := range y {
		y[i] += 30 * float64(i/288)
	}
	return y
}

// TestPredictorFailedRefitKeepsTheHysteresis: a predictor that fell back
// stays in fallback until its rolling error is at most 0.9 × MaxError,
// also when a refit failed meanwhile (no model for a while) or a
// forecast failed: the standing it had fallen back from was forgotten
// with the failure, and the next model sized from its forecast at once
// with an error of 0.95 × MaxError, the band the hysteresis holds.
func TestPredictorFailedRefitKeepsTheHysteresis(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{
		CapacityPerInstance: 50, Step: time.Hour, MinHistory: 7 * 24 * time.Hour, Periods: []time.Duration{24 * time.Hour},
		RefitInterval: 6 * time.Hour,
	}.withDefaults()
	vals := make([]float64, 30*24)
	for i := range vals {
		vals[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/24)
	}
	pr := newPredictor(c)
	observe := func(t *testing.T, now time.Time) {
		t.Helper()
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: vals[:now.Sub(start)/time.Hour]}
		require.NoError(t, pr.observe(t.Context(), ser, now))
	}
	now := start.Add(8 * 24 * time.Hour) // aligned to 6h
	observe(t, now)
	require.NotNil(t, pr.model)
	require.Positive(t, pr.scale)
	// An error of 1.1 × MaxError: it falls back; then of 0.8 × MaxError,
	// 0.95 × MaxError over both: held in fallback.
	for k := 15; k >= 8; k-- {
		pr.score(now.Add(-time.Duration(k)*time.Hour), 1.1*c.MaxError*pr.scale)
	}
	observe(t, now.Add(time.Hour))
	require.Equal(t, StandingFallback, pr.standing, "fell back: MASE %.3f", pr.mase())
	for k := 7; k >= 0; k-- {
		pr.score(now.Add(-time.Duration(k)*time.Hour), 0.8*c.MaxError*pr.scale)
	}
	observe(t, now.Add(2*time.Hour))
	require.Equal(t, StandingFallback, pr.standing, "held: MASE %.3f", pr.mase())

	pr.model, pr.fitErr = nil, errors.New("no fit") // a refit that failed
	observe(t, now.Add(3*time.Hour))
	require.Equal(t, StandingNoModel, pr.standing)
	observe(t, now.Add(6*time.Hour))
	require.NotNil(t, pr.model, "fitted again")
	require.InDelta(t, 0.95, pr.mase(), 0.02)
	assert.Equal(t, StandingFallback, pr.standing, "still above 0.9 × MaxError: MASE %.3f", pr.mase())

	// A forecast that failed (NoModel with the model kept) too.
	pr.standing = StandingNoModel // as decide leaves it when Forecast fails
	observe(t, now.Add(7*time.Hour))
	assert.Equal(t, StandingFallback, pr.standing, "after a failed forecast: MASE %.3f", pr.mase())
}

// TestPredictorStatusAfterALongGap: a gap longer than the gap policy
// restarts the usable history, and the status no longer reports the
// seasons of the model it dropped: it reported the old model's daily
// season beside no model and two hours of history, as if the new history
// had been found daily.
func TestPredictorStatusAfterALongGap(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, Step: time.Hour, MinHistory: 7 * 24 * time.Hour}.withDefaults()
	vals := make([]float64, 11*24)
	for i := range vals {
		vals[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/24)
	}
	pr := newPredictor(c)
	observe := func(n int) {
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: vals[:n]}
		require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	}
	observe(10 * 24)
	st := pr.status()
	require.Equal(t, StandingForecast, st.Standing)
	require.NotEmpty(t, st.Patterns)
	for i := 10*24 + 2; i < 10*24+12; i++ {
		vals[i] = math.NaN()
	}
	observe(10*24 + 14)
	st = pr.status()
	require.Equal(t, StandingShortHistory, st.Standing)
	assert.Equal(t, 2*time.Hour, st.History)
	assert.Empty(t, st.Model)
	assert.Empty(t, st.Patterns, "no model, no seasons")
}
