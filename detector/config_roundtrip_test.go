package detector_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// sameEmpty returns c with the maps whose nil and empty values mean the
// same (UtilizationConfig.Statistics: every metric's mean) nil when
// empty, so that configurations that judge alike compare equal.
func sameEmpty(c detector.EnsembleConfig) detector.EnsembleConfig {
	if len(c.Utilization.Statistics) == 0 {
		c.Utilization.Statistics = nil
	}
	for k, kc := range c.Kinds {
		if len(kc.Utilization.Statistics) == 0 {
			kc.Utilization.Statistics = nil
			c.Kinds[k] = kc
		}
	}
	return c
}

// TestConfigRoundTripKeepsNilAndEmpty: every map and slice of an
// EnsembleConfig, nested ones included, survives a JSON and a YAML round
// trip nil or empty as it was where the two mean different things (nil
// the default, empty none: thresholds, required metrics, activity kinds,
// peak bounds, kinds), and an ensemble made from the configuration read
// back, or from its own Config() read back, has the same effective
// Config(). Where they mean the same (statistics) the round trip may
// turn one into the other, and the effective Config() is the same but
// for that. Before, omitempty left every empty one out, and read back it
// was nil: an empty PeakBounds (check no peaks) came back as the default
// bounds, an empty Activity.Kinds (count none) as every kind, an empty
// Required (require none) as [cpu], and an empty Thresholds as the
// default thresholds.
func TestConfigRoundTripKeepsNilAndEmpty(t *testing.T) {
	t.Parallel()
	codecs := []struct {
		name      string
		marshal   func(any) ([]byte, error)
		unmarshal func([]byte, any) error
	}{{"json", json.Marshal, json.Unmarshal}, {"yaml", yaml.Marshal, yaml.Unmarshal}}
	kind := func(f func(*detector.UtilizationConfig, bool)) func(*detector.EnsembleConfig, bool) {
		return func(c *detector.EnsembleConfig, empty bool) {
			c.Kinds = detector.DefaultKinds()
			kc := c.Kinds[provider.KindFunction]
			f(&kc.Utilization, empty)
			c.Kinds[provider.KindFunction] = kc
		}
	}
	thresholds := func(u *detector.UtilizationConfig, empty bool) {
		u.Thresholds, u.Required = nil, nil
		if empty {
			u.Thresholds = map[provider.Metric]float64{}
		}
	}
	statistics := func(u *detector.UtilizationConfig, empty bool) {
		u.Statistics = nil
		if empty {
			u.Statistics = map[provider.Metric]provider.Statistic{}
		}
	}
	required := func(u *detector.UtilizationConfig, empty bool) {
		u.Required = nil
		if empty {
			u.Required = []provider.Metric{}
		}
	}
	kindUtil := func(c detector.EnsembleConfig) detector.UtilizationConfig {
		return c.Kinds[provider.KindFunction].Utilization
	}
	for _, tt := range []struct {
		name string
		same bool // nil and empty mean the same
		set  func(c *detector.EnsembleConfig, empty bool)
		get  func(c detector.EnsembleConfig) any
	}{
		{"utilization.thresholds", false, func(c *detector.EnsembleConfig, e bool) { thresholds(&c.Utilization, e) },
			func(c detector.EnsembleConfig) any { return c.Utilization.Thresholds }},
		{"utilization.statistics", true, func(c *detector.EnsembleConfig, e bool) { statistics(&c.Utilization, e) },
			func(c detector.EnsembleConfig) any { return c.Utilization.Statistics }},
		{"utilization.required", false, func(c *detector.EnsembleConfig, e bool) { required(&c.Utilization, e) },
			func(c detector.EnsembleConfig) any { return c.Utilization.Required }},
		{"activity.kinds", false, func(c *detector.EnsembleConfig, e bool) {
			if c.Activity.Kinds = nil; e {
				c.Activity.Kinds = []provider.ActivityKind{}
			}
		}, func(c detector.EnsembleConfig) any { return c.Activity.Kinds }},
		{"evidence.peak_bounds", false, func(c *detector.EnsembleConfig, e bool) {
			if c.Evidence.PeakBounds = nil; e {
				c.Evidence.PeakBounds = map[provider.Metric]detector.PeakBound{}
			}
		}, func(c detector.EnsembleConfig) any { return c.Evidence.PeakBounds }},
		{"kinds", false, func(c *detector.EnsembleConfig, e bool) {
			if c.Kinds = nil; e {
				c.Kinds = map[provider.Kind]detector.KindConfig{}
			}
		}, func(c detector.EnsembleConfig) any { return c.Kinds }},
		{"kinds.function.utilization.thresholds", false, kind(thresholds), func(c detector.EnsembleConfig) any { return kindUtil(c).Thresholds }},
		{"kinds.function.utilization.statistics", true, kind(statistics), func(c detector.EnsembleConfig) any { return kindUtil(c).Statistics }},
		{"kinds.function.utilization.required", false, kind(required), func(c detector.EnsembleConfig) any { return kindUtil(c).Required }},
	} {
		for _, empty := range []bool{false, true} {
			for _, c := range codecs {
				name := tt.name + "/nil/" + c.name
				if empty {
					name = tt.name + "/empty/" + c.name
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					var cfg detector.EnsembleConfig
					tt.set(&cfg, empty)
					require.Equal(t, !empty, reflect.ValueOf(tt.get(cfg)).IsNil())
					ens, err := detector.NewEnsemble(cfg)
					require.NoError(t, err)
					want := ens.Config()

					b, err := c.marshal(cfg)
					require.NoError(t, err)
					var got detector.EnsembleConfig
					require.NoError(t, c.unmarshal(b, &got), string(b))
					if !tt.same {
						assert.Equal(t, !empty, reflect.ValueOf(tt.get(got)).IsNil(), "nil stays nil, empty stays empty: %s", b)
					}
					assert.Zero(t, reflect.ValueOf(tt.get(got)).Len(), string(b))
					again, err := detector.NewEnsemble(got)
					require.NoError(t, err)
					assert.Equal(t, sameEmpty(want), sameEmpty(again.Config()), "the configuration read back: %s", b)

					b, err = c.marshal(want)
					require.NoError(t, err)
					got = detector.EnsembleConfig{}
					require.NoError(t, c.unmarshal(b, &got), string(b))
					if !tt.same {
						assert.Equal(t, reflect.ValueOf(tt.get(want)).IsNil(), reflect.ValueOf(tt.get(got)).IsNil(), "Config() read back: %s", b)
					}
					again, err = detector.NewEnsemble(got)
					require.NoError(t, err)
					assert.Equal(t, sameEmpty(want), sameEmpty(again.Config()), "Config() read back: %s", b)
				})
			}
		}
	}
}
