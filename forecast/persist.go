package forecast

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// ModelKind names a built-in model: the "kind" Marshal writes and
// Unmarshal reads, and the Kind of a Spec. The set is closed. The zero
// value "" means not set; Validate, Spec.New and Unmarshal refuse it.
type ModelKind string

// The model kinds.
const (
	KindSeasonalNaive ModelKind = "seasonal_naive"
	KindHoltWinters   ModelKind = "holt_winters"
	KindHarmonic      ModelKind = "harmonic"
	KindEnsemble      ModelKind = "ensemble"
	KindAuto          ModelKind = "auto"
)

// kindFunc is the kind a FuncModel reports in messages; it is not
// persisted.
const kindFunc ModelKind = "func"

// Validate returns an error matching ErrUnknownKind (and
// provider.ErrInvalid) that names k unless k is one of the kinds above.
func (k ModelKind) Validate() error {
	switch k {
	case KindSeasonalNaive, KindHoltWinters, KindHarmonic, KindEnsemble, KindAuto:
		return nil
	}
	return fmt.Errorf("%w %q: want seasonal_naive, holt_winters, harmonic, ensemble or auto", ErrUnknownKind, string(k))
}

// String returns the kind's value, such as "holt_winters".
func (k ModelKind) String() string { return string(k) }

// MarshalText returns the kind's value.
func (k ModelKind) MarshalText() ([]byte, error) { return []byte(k), nil }

// UnmarshalText sets k from text: "" (not set) or a kind Validate accepts;
// any other value is Validate's error.
func (k *ModelKind) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(k, text, ModelKind.Validate)
}

// isNil reports whether m is nil or a typed nil pointer.
func isNil(m Model) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// nullFit is the error for a model's fitted state written as null (Marshal
// always writes it, an object; left out, it is an unfitted model's).
func nullFit(field string) error {
	return provider.Invalid(field, nil, "must be the model's fitted state, an object, not null")
}

type envelope struct {
	Kind  ModelKind       `json:"kind"`
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
	c, ok := m.(interface{ kind() ModelKind })
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
