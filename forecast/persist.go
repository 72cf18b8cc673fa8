package forecast

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/idlescale/idlescale/provider"
)

// Model kinds as written by Marshal.
const (
	KindSeasonalNaive = "seasonal_naive"
	KindHoltWinters   = "holt_winters"
	KindHarmonic      = "harmonic"
	KindEnsemble      = "ensemble"
	KindAuto          = "auto"
)

// isNil reports whether m is nil or a typed nil pointer.
func isNil(m Model) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

type envelope struct {
	Kind  string          `json:"kind"`
	Model json.RawMessage `json:"model"`
}

// Marshal encodes a built-in model, fitted or not, with its kind, so that
// Unmarshal can restore it:
//
//	{"kind":"holt_winters","model":{...}}
//
// A restored fitted model forecasts exactly as the original. It returns
// an error matching provider.ErrInvalid for a model of another package.
func Marshal(m Model) ([]byte, error) {
	c, ok := m.(interface{ kind() string })
	if !ok || isNil(m) {
		return nil, provider.Invalid("model", fmt.Sprintf("%T", m), "must be a model of package forecast")
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("forecast: marshal %s: %w", c.kind(), err)
	}
	return json.Marshal(envelope{Kind: c.kind(), Model: raw})
}

// Unmarshal restores a model written by Marshal. It returns an error
// matching ErrUnknownKind for an unknown kind and provider.ErrInvalid for
// inconsistent content (wrong lengths, non-finite numbers, unsorted
// residuals).
func Unmarshal(data []byte) (Model, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("forecast: unmarshal: %w", err)
	}
	var m Model
	switch env.Kind {
	case KindSeasonalNaive:
		m = new(SeasonalNaive)
	case KindHoltWinters:
		m = new(HoltWinters)
	case KindHarmonic:
		m = new(Harmonic)
	case KindEnsemble:
		m = new(Ensemble)
	case KindAuto:
		m = new(Auto)
	default:
		return nil, fmt.Errorf("forecast: unmarshal: %w %q", ErrUnknownKind, env.Kind)
	}
	if err := json.Unmarshal(env.Model, m); err != nil {
		return nil, fmt.Errorf("forecast: unmarshal %s: %w", env.Kind, err)
	}
	return m, nil
}
