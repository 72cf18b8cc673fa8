package forecast_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

func TestFitBadInput(t *testing.T) {
	t.Parallel()
	good := seasonal(24*10, 100, 0, 10, 1, 1)
	withNaN := append([]float64(nil), good...)
	withNaN[7] = math.NaN()
	withNeg := append([]float64(nil), good...)
	withNeg[9] = -1
	newHW := func(mul bool) func() (forecast.Model, error) {
		return func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Multiplicative: mul, Damped: true})
		}
	}
	models := map[string]func() (forecast.Model, error){
		"seasonal naive": func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) },
		"holt-winters":   newHW(false),
		"harmonic": func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
		},
		"auto": func() (forecast.Model, error) { return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}}) },
	}
	tests := []struct {
		name      string
		give      []float64
		wantErr   error
		wantField string
	}{
		{"empty", nil, forecast.ErrInsufficientData, ""},
		{"constant", make([]float64, 240), forecast.ErrInsufficientData, ""},
		{"all NaN", []float64{math.NaN(), math.NaN(), math.NaN()}, provider.ErrInvalid, "y[0]"},
		{"a NaN inside", withNaN, provider.ErrInvalid, "y[7]"},
		{"too short: less than two seasons", good[:47], forecast.ErrInsufficientData, ""},
	}
	for name, newModel := range models {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				m, err := newModel()
				require.NoError(t, err)
				err = m.Fit(tt.give)
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorIs(t, err, provider.ErrInvalid, "every bad-input error matches provider.ErrInvalid")
				if tt.wantField != "" {
					var ie *provider.InvalidError
					require.ErrorAs(t, err, &ie)
					assert.Equal(t, tt.wantField, ie.Field)
				}
				assert.ErrorIs(t, m.Forecast(make([]float64, 3), nil, nil), forecast.ErrNotFitted, "a failed Fit leaves the model unfitted")
			})
		}
	}
	t.Run("multiplicative needs positive data", func(t *testing.T) {
		t.Parallel()
		m, err := newHW(true)()
		require.NoError(t, err)
		err = m.Fit(withNeg)
		require.ErrorIs(t, err, forecast.ErrNonPositive)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "y[9]", ie.Field)
		require.NoError(t, m.Fit(good))
		require.ErrorIs(t, m.Update(0), forecast.ErrNonPositive)
	})
}

func TestForecastBadArguments(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewSeasonalNaive(24)
	require.NoError(t, err)
	require.NoError(t, m.Fit(seasonal(24*5, 100, 0, 10, 1, 1)))
	tests := []struct {
		name      string
		point     []float64
		quantiles []float64
		bands     [][]float64
		wantField string
	}{
		{"horizon 0", nil, nil, nil, "horizon"},
		{"quantile 0", make([]float64, 2), []float64{0}, [][]float64{make([]float64, 2)}, "quantiles[0]"},
		{"quantile 1", make([]float64, 2), []float64{0.5, 1}, [][]float64{make([]float64, 2), make([]float64, 2)}, "quantiles[1]"},
		{"quantile NaN", make([]float64, 2), []float64{math.NaN()}, [][]float64{make([]float64, 2)}, "quantiles[0]"},
		{"missing band", make([]float64, 2), []float64{0.5}, nil, "bands"},
		{"short band", make([]float64, 2), []float64{0.5}, [][]float64{make([]float64, 1)}, "bands[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := m.Forecast(tt.point, tt.quantiles, tt.bands)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field)
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		give      func() error
		wantField string
	}{
		{"seasonal period 0", func() error { _, err := forecast.NewSeasonalNaive(0); return err }, "period"},
		{"seasonal mean 0 seasons", func() error { _, err := forecast.NewSeasonalMean(24, 0); return err }, "seasons"},
		{"seasonal negative seasons", func() error {
			_, err := forecast.NewSeasonal(forecast.SeasonalConfig{Period: 2, Seasons: -1})
			return err
		}, "seasons"},
		{"holt-winters period 1", func() error {
			_, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 1})
			return err
		}, "period"},
		{"holt-winters negative evaluations", func() error {
			_, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, MaxEvaluations: -1})
			return err
		}, "max_evaluations"},
		{"harmonic no period", func() error { _, err := forecast.NewHarmonic(forecast.HarmonicConfig{}); return err }, "periods"},
		{"harmonic too many harmonics", func() error {
			_, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}, Harmonics: []int{13}})
			return err
		}, "harmonics[0]"},
		{"harmonic too many columns", func() error {
			_, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{168, 336}, Harmonics: []int{30, 30}})
			return err
		}, "harmonics"},
		{"negative interval horizon", func() error {
			_, err := forecast.NewSeasonal(forecast.SeasonalConfig{Period: 2, Intervals: forecast.IntervalOptions{Horizon: -1}})
			return err
		}, "intervals.horizon"},
		{"ensemble unknown rule", func() error { _, err := forecast.NewEnsemble("vote"); return err }, "combine"},
		{"ensemble without members", func() error { _, err := forecast.NewEnsemble(forecast.CombineMean); return err }, "members"},
		{"ensemble foreign member", func() error {
			_, err := forecast.NewEnsemble(forecast.CombineMean, foreignModel{})
			return err
		}, "members[0]"},
		{"ensemble typed nil member", func() error {
			var sn *forecast.SeasonalNaive
			_, err := forecast.NewEnsemble(forecast.CombineMean, sn)
			return err
		}, "members[0]"},
		{"auto unknown candidate", func() error {
			_, err := forecast.NewAuto(forecast.AutoConfig{Candidates: []forecast.Spec{{Kind: "arima"}}})
			return err
		}, ""},
		// Auto is a known kind that a Spec does not build: it said
		// unknown model kind "auto".
		{"auto candidate of kind auto", func() error {
			_, err := forecast.NewAuto(forecast.AutoConfig{Candidates: []forecast.Spec{{Kind: forecast.KindAuto}}})
			return err
		}, "candidates[0].kind"},
		{"auto negative period", func() error { _, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{-24}}); return err }, "periods[0]"},
		{"func nil", func() error { _, err := forecast.NewFunc(3, nil, forecast.IntervalOptions{}); return err }, "func"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.give()
			require.ErrorIs(t, err, provider.ErrInvalid)
			if tt.wantField == "" {
				require.ErrorIs(t, err, forecast.ErrUnknownKind)
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field)
		})
	}
}

type foreignModel struct{}

func (foreignModel) Fit([]float64) error                          { return nil }
func (foreignModel) Forecast(_, _ []float64, _ [][]float64) error { return nil }
func (foreignModel) Update(float64) error                         { return nil }

func TestPrepareGaps(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name    string
		give    []float64
		policy  forecast.GapPolicy
		want    []float64
		wantGap *forecast.GapError
	}{
		{"short gap interpolated, never zero", []float64{1, nan, nan, 4, 5}, forecast.GapPolicy{}, []float64{1, 2, 3, 4, 5}, nil},
		// b − a overflowed: the gap became +Inf, which Fit then refused
		// as if the series held it.
		{"gap between the largest values of opposite signs", []float64{-1.5e308, nan, 1.5e308}, forecast.GapPolicy{}, []float64{-1.5e308, 0, 1.5e308}, nil},
		{"leading and trailing gaps trimmed", []float64{nan, 1, 2, nan}, forecast.GapPolicy{}, []float64{1, 2}, nil},
		{"long gap refused", []float64{1, nan, nan, nan, nan, 6}, forecast.GapPolicy{}, nil, &forecast.GapError{Index: 1, Length: 4, Max: 3}},
		{"max gap by duration", []float64{1, nan, nan, nan, nan, 6}, forecast.GapPolicy{MaxGapDuration: 4 * time.Hour}, []float64{1, 2, 3, 4, 5, 6}, nil},
		{"negative refuses every gap", []float64{1, nan, 3}, forecast.GapPolicy{MaxGap: -1}, nil, &forecast.GapError{Index: 1, Length: 1, Max: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := forecast.Prepare(seriesOf(tt.give), tt.policy)
			if tt.wantGap != nil {
				require.ErrorIs(t, err, forecast.ErrLongGap)
				require.ErrorIs(t, err, provider.ErrInvalid)
				var ge *forecast.GapError
				require.ErrorAs(t, err, &ge)
				assert.Equal(t, tt.wantGap, ge)
				return
			}
			require.NoError(t, err)
			assert.InDeltaSlice(t, tt.want, got, 1e-12)
		})
	}
	t.Run("all gaps", func(t *testing.T) {
		t.Parallel()
		_, err := forecast.Prepare(seriesOf([]float64{nan, nan}), forecast.GapPolicy{})
		require.ErrorIs(t, err, forecast.ErrInsufficientData)
	})
	t.Run("irregular step", func(t *testing.T) {
		t.Parallel()
		s := seriesOf([]float64{1, 2})
		s.Step = 0
		_, err := forecast.Prepare(s, forecast.GapPolicy{})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "step", ie.Field)
	})
	t.Run("infinite value", func(t *testing.T) {
		t.Parallel()
		_, err := forecast.Prepare(seriesOf([]float64{1, math.Inf(-1)}), forecast.GapPolicy{})
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
	t.Run("FitSeries fits the prepared values", func(t *testing.T) {
		t.Parallel()
		m, err := forecast.NewSeasonalNaive(2)
		require.NoError(t, err)
		require.NoError(t, forecast.FitSeries(m, seriesOf([]float64{1, 5, 1, nan, 1, 5}), forecast.GapPolicy{}))
		p := make([]float64, 2)
		require.NoError(t, m.Forecast(p, nil, nil))
		assert.Equal(t, []float64{1, 5}, p)
		require.ErrorIs(t, forecast.FitSeries(nil, seriesOf([]float64{1, 2}), forecast.GapPolicy{}), provider.ErrInvalid)
	})
}

// TestAutoHorizonLongerThanValidation: a Horizon past the validation
// window scores nothing more than one of the window's length (every
// origin's forecast past the data is unscored), so it fits as that one
// does, where it allocated origins × Horizon predictions and panicked
// (makeslice) or ran out of memory.
func TestAutoHorizonLongerThanValidation(t *testing.T) {
	t.Parallel()
	y := seasonal(24*10, 100, 0, 10, 1, 3)
	fit := func(horizon int) *forecast.Auto {
		a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}, Horizon: horizon, Validation: 60})
		require.NoError(t, err)
		require.NotPanics(t, func() { require.NoError(t, a.Fit(y)) })
		return a
	}
	want := fit(60)
	for _, horizon := range []int{61, 1 << 40, math.MaxInt} {
		got := fit(horizon)
		assert.Equal(t, want.Chosen(), got.Chosen(), "horizon %d", horizon)
		assert.Equal(t, want.Scores(), got.Scores(), "horizon %d", horizon)
	}
}

// TestEnsembleMemberGivenTwice: a member given twice (or inside another
// member) would be stepped once per appearance, so the ensemble's state
// ran ahead of the data from Fit on and every forecast came from the
// wrong phase of the season, without an error; NewEnsemble refuses it.
func TestEnsembleMemberGivenTwice(t *testing.T) {
	t.Parallel()
	a, err := forecast.NewSeasonalNaive(24)
	require.NoError(t, err)
	b, err := forecast.NewSeasonalNaive(48)
	require.NoError(t, err)
	inner, err := forecast.NewEnsemble(forecast.CombineMedian, a, b)
	require.NoError(t, err)
	tests := []struct {
		name      string
		give      []forecast.Model
		wantField string
	}{
		{"twice", []forecast.Model{a, b, a}, "members[2]"},
		{"inside another member", []forecast.Model{inner, b}, "members[1]"},
		{"the same ensemble twice", []forecast.Model{inner, inner}, "members[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := forecast.NewEnsemble(forecast.CombineMean, tt.give...)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field)
		})
	}
}

// TestMultiplicativeRefitOnNonPositiveDataLeavesUnfitted: a failed Fit
// leaves the model unfitted (the Model contract). A multiplicative
// Holt-Winters model refused non-positive data before its Fit began, so
// a refit on a window with a zero failed with ErrNonPositive and left the
// previous fit forecasting as if nothing had happened.
func TestMultiplicativeRefitOnNonPositiveDataLeavesUnfitted(t *testing.T) {
	t.Parallel()
	y := seasonal(24*10, 100, 0, 10, 1, 1)
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Multiplicative: true})
	require.NoError(t, err)
	require.NoError(t, m.Fit(y))
	y[30] = 0
	require.ErrorIs(t, m.Fit(y), forecast.ErrNonPositive)
	require.ErrorIs(t, m.Forecast(make([]float64, 3), nil, nil), forecast.ErrNotFitted)
	require.ErrorIs(t, m.Update(1), forecast.ErrNotFitted)
}

// TestEnsembleWithMultiplicativeMemberRefusesNonPositive: a multiplicative
// Holt-Winters model refuses values ≤ 0 in Fit and Update (ErrNonPositive);
// inside an ensemble it was fitted and stepped past those checks, so an
// ensemble (a Spec's, an Auto candidate's) fitted on data with a zero
// or negative value, and took a 0 or a negative reading in Update, running
// the member's seasonal ratios on it. The ensemble now refuses them as the
// member does, naming the value.
func TestEnsembleWithMultiplicativeMemberRefusesNonPositive(t *testing.T) {
	t.Parallel()
	newEnsemble := func(t *testing.T) forecast.Model {
		t.Helper()
		m, err := forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
			{Kind: forecast.KindSeasonalNaive, Period: 24},
			{Kind: forecast.KindHoltWinters, Period: 24, Multiplicative: true},
		}}.New(forecast.IntervalOptions{})
		require.NoError(t, err)
		return m
	}
	good := seasonal(24*10, 100, 0, 10, 1, 1)
	for _, v := range []float64{0, -5} {
		y := append([]float64(nil), good...)
		y[30] = v
		m := newEnsemble(t)
		err := m.Fit(y)
		require.ErrorIs(t, err, forecast.ErrNonPositive, "fit with %v", v)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "y[30]", ie.Field)
		require.ErrorIs(t, m.Forecast(make([]float64, 3), nil, nil), forecast.ErrNotFitted)
	}
	m := newEnsemble(t)
	require.NoError(t, m.Fit(good))
	before, after := make([]float64, 24), make([]float64, 24)
	require.NoError(t, m.Forecast(before, nil, nil))
	for _, v := range []float64{0, -5} {
		require.ErrorIs(t, m.Update(v), forecast.ErrNonPositive, "update with %v", v)
	}
	require.NoError(t, m.Forecast(after, nil, nil))
	assert.Equal(t, before, after, "a refused value leaves the ensemble as it was")
	require.NoError(t, m.Update(90))
	require.NoError(t, m.Update(math.NaN()))

	// Auto skips such an ensemble candidate on data with a zero, as it
	// skips a multiplicative Holt-Winters candidate.
	ens := forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
		{Kind: forecast.KindSeasonalNaive, Period: 24},
		{Kind: forecast.KindHoltWinters, Period: 24, Multiplicative: true},
	}}
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}, NoCombinations: true,
		Candidates: []forecast.Spec{{Kind: forecast.KindSeasonalNaive, Period: 24}, ens}})
	require.NoError(t, err)
	y := append([]float64(nil), good...)
	y[30] = 0
	require.NoError(t, a.Fit(y))
	scores := a.Scores()
	require.Len(t, scores, 2)
	assert.Equal(t, ens.String(), scores[1].Name)
	assert.Equal(t, "multiplicative season needs data > 0", scores[1].Skipped)
}

// TestHarmonicConfigIsACopy: Config returns the model's configuration for
// a caller to read or to build another model from. It returned the
// model's own Periods and Harmonics slices, so a caller that changed a
// period of the copy it was given (a weekly variant of a daily model)
// changed the fitted model's, whose curves no longer matched: its next
// Forecast panicked with an index out of range.
func TestHarmonicConfigIsACopy(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
	require.NoError(t, err)
	require.NoError(t, m.Fit(seasonal(24*10, 100, 0, 10, 1, 1)))
	want := make([]float64, 48)
	require.NoError(t, m.Forecast(want, nil, nil))
	cfg := m.Config()
	cfg.Periods[0], cfg.Harmonics[0] = 168, 2
	weekly, err := forecast.NewHarmonic(cfg)
	require.NoError(t, err)
	assert.Equal(t, []int{168}, weekly.Config().Periods)
	assert.Equal(t, []int{24}, m.Config().Periods)
	assert.Equal(t, []int{10}, m.Config().Harmonics)
	got := make([]float64, 48)
	require.NotPanics(t, func() { require.NoError(t, m.Forecast(got, nil, nil)) })
	assert.Equal(t, want, got)
}

// TestAutoConfigIsCopied: NewAuto validates its configuration and keeps
// it. It kept the caller's Periods and Candidates slices, so a caller that
// reused them afterwards (the next series' periods written into the same
// slice) changed the selector's configuration past Validate: a period of
// 0 left no candidate to fit, and the configuration Marshal wrote no
// longer unmarshalled.
func TestAutoConfigIsCopied(t *testing.T) {
	t.Parallel()
	periods := []int{24}
	cands := []forecast.Spec{{Kind: forecast.KindSeasonalNaive, Period: 24}, {Kind: forecast.KindHarmonic, Periods: []int{24}, Harmonics: []int{3}}}
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: periods, Candidates: cands, NoCombinations: true})
	require.NoError(t, err)
	periods[0], cands[0].Period, cands[1].Periods[0] = 0, 0, 0
	require.NoError(t, a.Fit(seasonal(24*10, 100, 0, 10, 1, 1)))
	assert.Equal(t, []int{24}, a.Periods())
	for _, s := range a.Scores() {
		assert.Empty(t, s.Skipped, "%s", s.Name)
	}
	raw, err := forecast.Marshal(a)
	require.NoError(t, err)
	_, err = forecast.Unmarshal(raw)
	require.NoError(t, err)

	// Nor do the specs Scores and Chosen return share the selector's.
	scores := a.Scores()
	for i := range scores {
		if len(scores[i].Spec.Periods) > 0 {
			scores[i].Spec.Periods[0] = 0
		}
	}
	chosen := a.Chosen()
	chosen.Periods = append(chosen.Periods[:0], 0)
	require.NoError(t, a.Fit(seasonal(24*10, 100, 0, 10, 1, 2)))
	for _, s := range a.Scores() {
		assert.Empty(t, s.Skipped, "%s after the returned specs were changed", s.Name)
	}
}

// TestMultiplicativeGapForecastOfZeroIsRefused: a multiplicative model
// fills a gap with its one-step forecast only when that is > 0, as its
// error says: a forecast of exactly 0 (a restored state whose level and
// trend are 0) is refused like a negative one (ErrNonPositive), not put
// into the seasonal ratios.
func TestMultiplicativeGapForecastOfZeroIsRefused(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Multiplicative: true})
	require.NoError(t, err)
	require.NoError(t, m.Fit(seasonal(24*10, 100, 0, 10, 1, 1)))
	data, err := forecast.Marshal(m)
	require.NoError(t, err)
	var env map[string]any
	require.NoError(t, json.Unmarshal(data, &env))
	state := env["model"].(map[string]any)["state"].(map[string]any)
	state["level"], state["trend"] = 0.0, 0.0
	data, err = json.Marshal(env)
	require.NoError(t, err)
	zero, err := forecast.Unmarshal(data)
	require.NoError(t, err)
	one := make([]float64, 1)
	require.NoError(t, zero.Forecast(one, nil, nil))
	require.Zero(t, one[0], "the restored model forecasts 0")

	require.ErrorIs(t, zero.Update(math.NaN()), forecast.ErrNonPositive)
}
