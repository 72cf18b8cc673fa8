package sim_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// TestRunGateSeesTheGroupsLabels: the gate's proposals carry the group
// as Config.Resource describes it (its environment, role, tags, time
// zone), as the Autoscaler's carry the resource its provider reports, so
// that a critical rule holds a production group's scale in for approval
// in the replay as it does live. The proposals carried a resource with
// an ID and nothing else: no rule that reads labels ever applied.
func TestRunGateSeesTheGroupsLabels(t *testing.T) {
	t.Parallel()
	follow := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		ser, _ := st.Series(provider.MetricRequests)
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = int(math.Ceil(ser.Values[len(ser.Values)-1] / 10))
		return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired}, nil
	})
	critical, err := safety.NewCriticalRule(safety.CriticalConfig{})
	require.NoError(t, err)
	gate, err := safety.New(safety.Config{}, []safety.Rule{critical})
	require.NoError(t, err)

	cfg := handConfig()
	cfg.TargetID = "web"
	cfg.Resource = provider.Resource{Environment: "production", Role: "web", Tags: map[string]string{"team": "shop"}}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	cfg.Resource.Tags["team"] = "changed" // the simulator keeps its own copy
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "gated", Strategy: follow, Gate: gate})
	require.NoError(t, err)
	r, _ := rep.Result("gated")
	actual, _, _ := actualsOf(r)
	assert.Equal(t, []int{1, 1, 3, 3, 3}, actual, "the scale in from 3 to 1 waits for an approval")
	got := rep.Config.Resource
	assert.Equal(t, provider.Resource{ID: "web", Kind: provider.KindGroup, Provider: "sim", State: provider.StateRunning,
		Environment: "production", Role: "web", Tags: map[string]string{"team": "shop"}}, got, "the defaults filled in")

	cfg.Resource = provider.Resource{Environment: "staging"}
	s, err = sim.New(cfg)
	require.NoError(t, err)
	rep, err = s.Run(t.Context(), hand(), sim.Policy{Name: "gated", Strategy: follow, Gate: gate})
	require.NoError(t, err)
	r, _ = rep.Result("gated")
	actual, _, _ = actualsOf(r)
	assert.Equal(t, []int{1, 1, 3, 3, 1}, actual, "not critical: scaled in")

	for _, tt := range []struct {
		name  string
		give  provider.Resource
		field string
	}{
		{"another id", provider.Resource{ID: "db"}, "resource.id"},
		{"not a group", provider.Resource{Kind: provider.KindInstance}, "resource.kind"},
		{"bad zone", provider.Resource{TimeZone: "Mars/Olympus"}, "resource.time_zone"},
	} {
		cfg.Resource = tt.give
		_, err := sim.New(cfg)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
	}
}
