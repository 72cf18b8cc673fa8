package forecast

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// Spec describes a model to build, in a form a host can load from JSON or
// YAML (for example the candidates of Auto). The zero value is invalid: Kind
// is required.
type Spec struct {
	// Kind is KindSeasonalNaive, KindHoltWinters, KindHarmonic or
	// KindEnsemble. Required.
	Kind ModelKind `json:"kind"`
	// Period is the season in steps (seasonal naive and Holt-Winters).
	Period int `json:"period,omitempty"`
	// Seasons is the number of seasons a seasonal naive model averages.
	// Default: 1.
	Seasons int `json:"seasons,omitempty"`
	// Multiplicative and Damped configure Holt-Winters.
	Multiplicative bool `json:"multiplicative,omitempty"`
	Damped         bool `json:"damped,omitempty"`
	// Periods and Harmonics configure a harmonic regression.
	Periods   []int `json:"periods,omitempty"`
	Harmonics []int `json:"harmonics,omitempty"`
	// Combine and Members configure an ensemble.
	Combine Combine `json:"combine,omitempty"`
	Members []Spec  `json:"members,omitempty"`
}

// New builds the unfitted model the spec describes with the given interval
// options. It returns an error matching ErrUnknownKind for an unknown kind
// and provider.ErrInvalid for an invalid configuration or KindAuto (not a
// kind a Spec builds).
func (s Spec) New(intervals IntervalOptions) (Model, error) {
	switch s.Kind {
	case KindSeasonalNaive:
		return NewSeasonal(SeasonalConfig{Period: s.Period, Seasons: s.Seasons, Intervals: intervals})
	case KindHoltWinters:
		return NewHoltWinters(HoltWintersConfig{Period: s.Period, Multiplicative: s.Multiplicative, Damped: s.Damped, Intervals: intervals})
	case KindHarmonic:
		return NewHarmonic(HarmonicConfig{Periods: s.Periods, Harmonics: s.Harmonics, Intervals: intervals})
	case KindEnsemble:
		ms := make([]Model, len(s.Members))
		for i, ms1 := range s.Members {
			m, err := ms1.New(intervals)
			if err != nil {
				return nil, provider.Within(fmt.Sprintf("members[%d]", i), err)
			}
			ms[i] = m
		}
		e, err := NewEnsemble(s.Combine, ms...)
		if err != nil {
			return nil, err
		}
		e.opts = intervals
		return e, nil
	case KindAuto:
		// A known kind, not an unknown one: a Spec cannot build it.
		return nil, fmt.Errorf("forecast: spec: %w", provider.Invalid("kind", string(s.Kind), "a spec builds seasonal_naive, holt_winters, harmonic or ensemble; build an auto with NewAuto"))
	}
	return nil, fmt.Errorf("forecast: spec: %w %q", ErrUnknownKind, s.Kind)
}

// String names the model compactly, e.g. "snaive(24)", "mean(168×2)",
// "hw(24,add,damped)", "harmonic(24:10,168:10)", "mean[snaive(24) hw(…)]".
func (s Spec) String() string {
	switch s.Kind {
	case KindSeasonalNaive:
		if s.Seasons > 1 {
			return fmt.Sprintf("mean(%d×%d)", s.Period, s.Seasons)
		}
		return fmt.Sprintf("snaive(%d)", s.Period)
	case KindHoltWinters:
		kind := "add"
		if s.Multiplicative {
			kind = "mul"
		}
		if s.Damped {
			kind += ",damped"
		}
		return fmt.Sprintf("hw(%d,%s)", s.Period, kind)
	case KindHarmonic:
		parts := make([]string, len(s.Periods))
		for i, p := range s.Periods {
			parts[i] = strconv.Itoa(p)
			if i < len(s.Harmonics) {
				parts[i] += ":" + strconv.Itoa(s.Harmonics[i])
			}
		}
		return "harmonic(" + strings.Join(parts, ",") + ")"
	case KindEnsemble:
		parts := make([]string, len(s.Members))
		for i, m := range s.Members {
			parts[i] = m.String()
		}
		c := s.Combine
		if c == "" {
			c = CombineMean
		}
		return string(c) + "[" + strings.Join(parts, " ") + "]"
	}
	return "unknown(" + string(s.Kind) + ")"
}

// DefaultCandidates returns Auto's default candidates for the given season
// lengths in steps (shortest first), at most five: seasonal naive for the
// shortest and the longest period, the mean of the last two longest
// seasons, additive damped Holt-Winters on the shortest period, and
// harmonic regression on the shortest period (up to 10 harmonics). The
// longer seasons are left to the seasonal naive candidates: on the real
// traces of examples/forecast-eval a harmonic candidate with weekly terms as
// well, alone or added, made the selection worse (geometric mean of
// relative MASE 0.729 and 0.711 against 0.705). With no period it returns
// the naive method (seasonal naive with period 1).
func DefaultCandidates(periods []int) []Spec {
	if len(periods) == 0 {
		return []Spec{{Kind: KindSeasonalNaive, Period: 1}}
	}
	short, long := periods[0], periods[len(periods)-1]
	out := []Spec{{Kind: KindSeasonalNaive, Period: short}}
	if long != short {
		out = append(out, Spec{Kind: KindSeasonalNaive, Period: long})
	}
	out = append(out, Spec{Kind: KindSeasonalNaive, Period: long, Seasons: 2})
	if short >= 2 {
		out = append(out, Spec{Kind: KindHoltWinters, Period: short, Damped: true})
		out = append(out, Spec{Kind: KindHarmonic, Periods: []int{short}, Harmonics: []int{min(short/2, 10)}})
	}
	return out
}
