package forecast

import (
	"encoding/json"
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// SeasonalNaive forecasts each step as the mean of the values one, two, …
// Seasons seasons earlier:
//
//	ŷ(T+h) = (1/K) Σ_{k=1..K} y(T + h' − k·m),  h' = ((h−1) mod m) + 1,
//
// with m = Period and K = Seasons. With K = 1 it is the classic seasonal
// naive method (Hyndman & Athanasopoulos, Forecasting: Principles and
// Practice, 3rd ed., §5.2), the benchmark that MASE is scaled by. Update is
// O(1); Forecast is O(h·K).
//
// Create one with NewSeasonalNaive or NewSeasonalMean; the zero value is not
// usable. Not safe for concurrent use.
type SeasonalNaive struct {
	cfg  SeasonalConfig
	b    base
	buf  []float64 // ring of the last K·m values
	pos  int       // index of the oldest value in buf
	opts IntervalOptions
}

// SeasonalConfig configures a SeasonalNaive.
type SeasonalConfig struct {
	// Period is the season length in steps (24 for a daily season on an
	// hourly series). Required, ≥ 1.
	Period int `json:"period"`
	// Seasons is the number of past seasons averaged. Default (0): 1, the
	// seasonal naive method.
	Seasons int `json:"seasons,omitempty"`
	// Intervals tunes the empirical prediction intervals.
	Intervals IntervalOptions `json:"intervals,omitzero"`
}

// Validate returns an error naming the first invalid field.
func (c SeasonalConfig) Validate() error {
	if c.Period < 1 {
		return provider.Invalid("period", c.Period, "must be ≥ 1 step")
	}
	if c.Seasons < 0 {
		return provider.Invalid("seasons", c.Seasons, "must be ≥ 0 (0 means 1)")
	}
	if c.Period > 1<<22 || max(c.Seasons, 1) > (1<<22)/c.Period { // not the product: it overflows
		return provider.Invalid("period", c.Period, "period × seasons must be ≤ 4194304 steps")
	}
	return c.Intervals.Validate()
}

var _ Model = (*SeasonalNaive)(nil)

// NewSeasonalNaive returns the seasonal naive model with the given period
// in steps. It returns an error matching provider.ErrInvalid for period < 1.
func NewSeasonalNaive(period int) (*SeasonalNaive, error) {
	return NewSeasonal(SeasonalConfig{Period: period})
}

// NewSeasonalMean returns the model forecasting the mean of the last
// seasons seasons of the given period.
func NewSeasonalMean(period, seasons int) (*SeasonalNaive, error) {
	if seasons < 1 {
		return nil, provider.Invalid("seasons", seasons, "must be ≥ 1")
	}
	return NewSeasonal(SeasonalConfig{Period: period, Seasons: seasons})
}

// NewSeasonal returns a SeasonalNaive configured by cfg, or cfg's
// validation error.
func NewSeasonal(cfg SeasonalConfig) (*SeasonalNaive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forecast: seasonal naive: %w", err)
	}
	if cfg.Seasons == 0 {
		cfg.Seasons = 1
	}
	return &SeasonalNaive{cfg: cfg, opts: cfg.Intervals}, nil
}

// Config returns the model's configuration with defaults filled in.
func (m *SeasonalNaive) Config() SeasonalConfig { return m.cfg }

// Fit stores the last Seasons seasons of y and estimates the intervals. It
// needs (Seasons+1)·Period values (at least two seasons).
func (m *SeasonalNaive) Fit(y []float64) error { return fitModel(m, y, m.opts) }

// Forecast implements Model.
func (m *SeasonalNaive) Forecast(point, quantiles []float64, bands [][]float64) error {
	return forecastModel(m, point, quantiles, bands)
}

// Update implements Model in O(1).
func (m *SeasonalNaive) Update(v float64) error { return updateModel(m, v) }

func (m *SeasonalNaive) kind() ModelKind { return KindSeasonalNaive }
func (m *SeasonalNaive) minLen() int     { return m.cfg.Seasons * m.cfg.Period }
func (m *SeasonalNaive) need() int       { return (m.cfg.Seasons + 1) * m.cfg.Period }
func (m *SeasonalNaive) base() *base     { return &m.b }

func (m *SeasonalNaive) fitParams(y []float64) error {
	m.reset(y)
	return nil
}

func (m *SeasonalNaive) reset(y []float64) {
	size := m.cfg.Seasons * m.cfg.Period
	if cap(m.buf) < size {
		m.buf = make([]float64, size)
	}
	m.buf = m.buf[:size]
	copy(m.buf, y[len(y)-size:])
	m.pos = 0
}

func (m *SeasonalNaive) step(v float64) {
	m.buf[m.pos] = v
	m.pos++
	if m.pos == len(m.buf) {
		m.pos = 0
	}
}

func (m *SeasonalNaive) predict(dst []float64) {
	p, k := m.cfg.Period, m.cfg.Seasons
	size := len(m.buf)
	inv := 1 / float64(k)
	for i := range dst {
		hp := i%p + 1
		var s float64
		for j := 1; j <= k; j++ {
			lag := j*p - hp + 1 // 1 = most recent
			idx := m.pos - lag
			if idx < 0 {
				idx += size
			}
			s += m.buf[idx]
		}
		dst[i] = s * inv
	}
}

type seasonalJSON struct {
	Config SeasonalConfig `json:"config"`
	Base   *base          `json:"state"`
	Buffer []float64      `json:"buffer"`
}

// MarshalJSON encodes the configuration and the fitted state.
func (m *SeasonalNaive) MarshalJSON() ([]byte, error) {
	buf := make([]float64, 0, len(m.buf))
	buf = append(append(buf, m.buf[m.pos:]...), m.buf[:m.pos]...)
	return json.Marshal(seasonalJSON{Config: m.cfg, Base: &m.b, Buffer: buf})
}

// UnmarshalJSON decodes what MarshalJSON wrote and validates it.
func (m *SeasonalNaive) UnmarshalJSON(data []byte) error {
	var j seasonalJSON
	j.Base = new(base)
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Base == nil {
		return nullFit("state")
	}
	n, err := NewSeasonal(j.Config)
	if err != nil {
		return err
	}
	if j.Base.Fitted {
		if len(j.Buffer) != n.cfg.Seasons*n.cfg.Period {
			return provider.Invalid("buffer", len(j.Buffer), fmt.Sprintf("length must be seasons × period = %d", n.cfg.Seasons*n.cfg.Period))
		}
		if err := checkFinite("buffer", j.Buffer); err != nil {
			return err
		}
		if err := j.Base.Residuals.validate(); err != nil {
			return err
		}
	}
	n.b = *j.Base
	n.buf = j.Buffer
	*m = *n
	return nil
}
