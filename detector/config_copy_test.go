package detector_test

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// fullConfig returns a configuration with every map and slice set, nested
// ones included, each made afresh.
func fullConfig() detector.EnsembleConfig {
	kinds := detector.DefaultKinds()
	for k, kc := range kinds {
		kc.Utilization.Statistics = map[provider.Metric]provider.Statistic{kc.Utilization.Required[0]: provider.StatMean}
		kinds[k] = kc
	}
	return detector.EnsembleConfig{
		Utilization: detector.UtilizationConfig{
			Thresholds: map[provider.Metric]float64{provider.MetricCPU: 0.10, provider.MetricMemory: 0.10},
			Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: provider.StatMean},
			Required:   []provider.Metric{provider.MetricCPU},
		},
		Activity: detector.ActivityConfig{Kinds: []provider.ActivityKind{provider.ActivityLogins, provider.ActivityAPICalls}},
		Evidence: detector.EvidenceConfig{PeakBounds: map[provider.Metric]detector.PeakBound{provider.MetricCPU: {P99: 0.10, Max: 0.20}}},
		Kinds:    kinds,
	}
}

// fullConfigRefs is the number of maps and slices in fullConfig:
// Utilization's three, Activity's Kinds, Evidence's PeakBounds, Kinds and
// the three of each of its kinds (function, load balancer, volume).
const fullConfigRefs = 3 + 1 + 1 + 1 + 3*3

// scribble changes, in place, every map and slice reachable from v (an
// addressable configuration), nested ones included: every element is
// changed (a number grows, a name gets a suffix, a flag flips) and every
// map gets a new key. It returns how many non-nil maps and slices it
// changed. The scalars it meets outside them change too, which a copy
// never shares.
func scribble(v reflect.Value) (refs int) {
	switch v.Kind() {
	case reflect.Float64:
		v.SetFloat(v.Float() + 1e6)
	case reflect.String:
		v.SetString(v.String() + "-scribbled")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int64:
		v.SetInt(v.Int() + int64(time.Hour))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				refs += scribble(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		refs++
		for i := range v.Len() {
			refs += scribble(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		refs++
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			refs += scribble(e)
			v.SetMapIndex(k, e)
		}
		k := reflect.New(v.Type().Key()).Elem()
		scribble(k)
		v.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
	}
	return refs
}

func scribbleConfig(c *detector.EnsembleConfig) int { return scribble(reflect.ValueOf(c).Elem()) }

// copyInputs are resources whose verdicts depend on every part of
// fullConfig: a busy and a quiet machine (the thresholds, the required
// metric, the peak bounds, the activity kinds), an unused function (its
// kind's thresholds, a terminate) and a load balancer with a request 3
// hours ago (its kind's).
func copyInputs() []detector.Input {
	long := 28 * 24 * time.Hour
	none := []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}
	in := func(kind provider.Kind, s provider.Series) detector.Input {
		r := res("r", s.Start)
		r.Kind = kind
		return detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}, Activity: none, ActivityFrom: tEnd.Add(-long)}
	}
	return []detector.Input{
		in(provider.KindInstance, days(28, func(int, time.Time) float64 { return 0.5 })),
		in(provider.KindInstance, days(28, quiet)),
		in(provider.KindFunction, noEvents(days(28, quiet), provider.MetricInvocations)),
		in(provider.KindLoadBalancer, eventAt(noEvents(days(28, quiet), provider.MetricRequests), tEnd.Add(-3*time.Hour))),
	}
}

func verdictsOf(t *testing.T, ens *detector.Ensemble) []detector.Verdict {
	t.Helper()
	var out []detector.Verdict
	for _, in := range copyInputs() {
		v, err := ens.Detect(t.Context(), in)
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// TestConfigIsACopyBothWays: an ensemble shares no map or slice of its
// configuration with its caller, nested ones and the defaults it filled in
// included: changing every one of the configuration given to NewEnsemble
// afterwards, then every one of a Config() (a copy to start another
// configuration from), then the Kinds of a Recheck, changes neither the
// ensemble's Config() nor its verdicts. Before, only Config()'s Kinds were
// a copy: NewEnsemble kept the caller's maps (the thresholds a machine
// was judged on, the activity kinds counted), and Config() handed out the
// ensemble's own Utilization, Activity and Evidence, its peak bounds
// included. The strategies made alone (NewUtilization, NewActivity) share
// nothing either.
func TestConfigIsACopyBothWays(t *testing.T) {
	t.Parallel()
	ref, err := detector.NewEnsemble(fullConfig())
	require.NoError(t, err)
	want, wantVerdicts := ref.Config(), verdictsOf(t, ref)
	require.Equal(t, detector.ActionTerminate, wantVerdicts[2].Action, "the unused function: %v", wantVerdicts[2].Explain())
	require.Equal(t, detector.NotIdle, wantVerdicts[0].State, "the busy machine: %v", wantVerdicts[0].Explain())

	cfg := fullConfig()
	ens, err := detector.NewEnsemble(cfg)
	require.NoError(t, err)
	require.Equal(t, fullConfigRefs, scribbleConfig(&cfg), "every map and slice, nested ones included")
	assert.Equal(t, want, ens.Config(), "after changing the configuration given")
	assert.Equal(t, wantVerdicts, verdictsOf(t, ens), "after changing the configuration given")

	c := ens.Config()
	require.Equal(t, fullConfigRefs, scribbleConfig(&c), "every map and slice of Config()")
	assert.Equal(t, want, ens.Config(), "after changing a Config()")
	assert.Equal(t, wantVerdicts, verdictsOf(t, ens), "after changing a Config()")

	rc := ens.Recheck(nil)
	rc.Kinds[0] = provider.ActivityFiles
	assert.Equal(t, want.Activity.Kinds, ens.Recheck(nil).Kinds, "after changing a Recheck's kinds")

	// The defaults filled in (DefaultKinds, the peak bounds of the
	// thresholds, every activity kind) are the ensemble's own too.
	refDef, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	def, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	c = def.Config()
	require.Positive(t, scribbleConfig(&c))
	assert.Equal(t, refDef.Config(), def.Config(), "after changing a Config() with the defaults")
	assert.Equal(t, verdictsOf(t, refDef), verdictsOf(t, def), "after changing a Config() with the defaults")
	rc = def.Recheck(nil)
	require.NotEmpty(t, rc.Kinds)
	rc.Kinds[0] = provider.ActivityFiles
	assert.Equal(t, provider.ActivityKinds(), def.Recheck(nil).Kinds, "after changing a Recheck's default kinds")

	t.Run("strategies", func(t *testing.T) {
		t.Parallel()
		cfg := fullConfig()
		u, err := detector.NewUtilization(cfg.Utilization)
		require.NoError(t, err)
		a, err := detector.NewActivity(cfg.Activity)
		require.NoError(t, err)
		// What the Config()s must stay: those of strategies made apart
		// (a Config() taken from u or a itself would share what it
		// hands out, and change with it).
		refU, err := detector.NewUtilization(fullConfig().Utilization)
		require.NoError(t, err)
		refA, err := detector.NewActivity(fullConfig().Activity)
		require.NoError(t, err)
		wantU, wantA := refU.Config(), refA.Config()
		require.Equal(t, 3, scribble(reflect.ValueOf(&cfg.Utilization).Elem()))
		require.Equal(t, 1, scribble(reflect.ValueOf(&cfg.Activity).Elem()))
		assert.Equal(t, fullConfig().Utilization.Thresholds, u.Config().Thresholds, "after changing the configuration given")
		assert.Equal(t, fullConfig().Activity.Kinds, a.Config().Kinds, "after changing the configuration given")
		cu, ca := u.Config(), a.Config()
		scribble(reflect.ValueOf(&cu).Elem())
		scribble(reflect.ValueOf(&ca).Elem())
		assert.Equal(t, wantU, u.Config(), "after changing a Config()")
		assert.Equal(t, wantA, a.Config(), "after changing a Config()")
	})
}

// TestConfigCopiesDoNotRace: a caller changing the configuration it gave
// NewEnsemble, and Config()s and Rechecks of the ensemble, while other
// goroutines Detect with it, is no data race (run with -race): before,
// the maps it changed were the ones Detect read (the thresholds, the
// activity kinds, the peak bounds), and the verdicts changed under the
// callers.
func TestConfigCopiesDoNotRace(t *testing.T) {
	t.Parallel()
	cfg := fullConfig()
	ens, err := detector.NewEnsemble(cfg)
	require.NoError(t, err)
	inputs := copyInputs()
	want := verdictsOf(t, ens)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 10 {
				for i, in := range inputs {
					v, err := ens.Detect(t.Context(), in)
					if assert.NoError(t, err) {
						assert.Equal(t, want[i], v)
					}
				}
			}
		})
	}
	for range 50 {
		scribbleConfig(&cfg)
		c := ens.Config()
		scribbleConfig(&c)
		rc := ens.Recheck(nil)
		scribble(reflect.ValueOf(&rc.Kinds).Elem())
	}
	wg.Wait()
}
