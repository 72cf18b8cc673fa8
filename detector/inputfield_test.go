package detector_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestInputActivityErrorNamesItsField: Input.Validate names a bad
// activity count's field from the input's root, as its doc and
// provider.InvalidError's ("in dotted form from the argument's root")
// say, and as it names a repeated kind ("input.activity[1].kind"): an
// unknown kind or a negative, NaN or infinite count was named
// "activity.kind" or "activity.logins.count", the provider value's own
// path, which says neither that it is the input's nor which count it is,
// so a host mapping the field back to its input found no such field.
func TestInputActivityErrorNamesItsField(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	ok := provider.ActivityCount{Kind: provider.ActivityAPICalls}
	ok2 := provider.ActivityCount{Kind: provider.ActivityDBQueries, Count: 3}
	tests := []struct {
		name  string
		give  []provider.ActivityCount
		field string
		value any
	}{
		{"unknown kind", []provider.ActivityCount{ok, {Kind: "ssh"}}, "input.activity[1].kind", "ssh"},
		{"empty kind", []provider.ActivityCount{{Kind: ""}}, "input.activity[0].kind", ""},
		{"negative count", []provider.ActivityCount{ok, {Kind: provider.ActivityLogins, Count: -1}}, "input.activity[1].count", -1.0},
		{"NaN count", []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: math.NaN()}}, "input.activity[0].count", nil},
		{"infinite count", []provider.ActivityCount{ok, ok2, {Kind: provider.ActivityLogins, Count: math.Inf(1)}}, "input.activity[2].count", math.Inf(1)},
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := detector.Input{Now: now, Resource: res("r", t0), Activity: tt.give}
			for _, err := range []error{in.Validate(), detect(t, ens, in)} {
				require.ErrorIs(t, err, provider.ErrInvalid)
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, tt.field, ie.Field)
				if tt.value != nil {
					assert.Equal(t, tt.value, ie.Value)
				}
				assert.Contains(t, err.Error(), "invalid "+tt.field+" ", "the message names the same field")
			}
		})
	}
}

func detect(t *testing.T, d detector.Detector, in detector.Input) error {
	t.Helper()
	_, err := d.Detect(t.Context(), in)
	return err
}
