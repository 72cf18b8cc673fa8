package detector_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestKindsRoundTrip: an EnsembleConfig's Kinds survives a JSON and a
// YAML round trip as it was: nil (the defaults) stays nil, and a non-nil
// empty map (no per-kind signal: a function judged on CPU, as every
// kind) stays empty instead of coming back nil and turning into
// DefaultKinds, which would judge the functions and load balancers of a
// configuration stored and read again on other metrics (and make them
// terminable on a count of none). An ensemble made from its own Config()
// read back judges every kind as it did.
func TestKindsRoundTrip(t *testing.T) {
	t.Parallel()
	codecs := []struct {
		name      string
		marshal   func(any) ([]byte, error)
		unmarshal func([]byte, any) error
	}{{"json", json.Marshal, json.Unmarshal}, {"yaml", yaml.Marshal, yaml.Unmarshal}}
	for _, tt := range []struct {
		name  string
		kinds map[provider.Kind]detector.KindConfig
	}{{"nil", nil}, {"empty", map[provider.Kind]detector.KindConfig{}}, {"defaults", detector.DefaultKinds()}} {
		for _, c := range codecs {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				b, err := c.marshal(detector.EnsembleConfig{Kinds: tt.kinds})
				require.NoError(t, err)
				var got detector.EnsembleConfig
				require.NoError(t, c.unmarshal(b, &got), string(b))
				assert.Equal(t, tt.kinds == nil, got.Kinds == nil, "nil stays nil, non-nil non-nil: %s", b)
				assert.Len(t, got.Kinds, len(tt.kinds), string(b))

				ens, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: tt.kinds})
				require.NoError(t, err)
				b, err = c.marshal(ens.Config())
				require.NoError(t, err)
				got = detector.EnsembleConfig{}
				require.NoError(t, c.unmarshal(b, &got), string(b))
				again, err := detector.NewEnsemble(got)
				require.NoError(t, err)
				for _, k := range provider.Kinds() {
					assert.Equal(t, ens.NeedsOf(k), again.NeedsOf(k), "%s: %s", k, b)
				}
			})
		}
	}
}
