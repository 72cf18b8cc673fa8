package main

import (
	"fmt"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestPolicy is how a host unit-tests its own scaling policy: the real
// policy.yaml, a *clock.Mock and the in-memory cloud, a table of load
// (in instances' worth of work) minute by minute, and the capacity the
// policy must give. The load becomes CPU over the group's current
// capacity; the test applies each decision itself, as if every change
// took effect at once, and records it with the engine (whose own steps
// would be recorded when it executes them), so that it tests the policy
// and nothing else.
func TestPolicy(t *testing.T) {
	t.Parallel()
	policy, err := scaling.LoadConfigFile("policy.yaml")
	require.NoError(t, err)
	mock := bclock.NewMock()
	mock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	cloud, err := memory.New(memory.Config{LaunchDelay: time.Nanosecond, DrainDelay: time.Nanosecond}, memory.WithClock(mock))
	require.NoError(t, err)
	require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 2, Max: 40, Desired: 4}))
	gate, err := newGate()
	require.NoError(t, err)
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate)
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud})
	require.NoError(t, err)

	phases := []struct {
		name    string
		minutes int
		load    float64 // instances' worth of work
		want    []int   // the capacity after each minute
	}{
		{"steady at the target", 3, 2.4, []int{4, 4, 4}},
		{"load triples: out at once, then to the target", 4, 7.2, []int{7, 12, 12, 12}},
		{"a wobble inside the 10 % tolerance changes nothing", 2, 7.8, []int{12, 12}},
		{"load halves: held by the 15-minute stabilization", 14, 3.6, []int{12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12}},
		{"then in by at most 20 % per 5 minutes", 12, 3.6, []int{9, 9, 9, 9, 9, 7, 7, 7, 7, 7, 6, 6}},
		{"a spike during the scale in: out again at once", 2, 9, []int{10, 15}},
	}
	ctx := t.Context()
	for _, ph := range phases {
		var got []int
		for range ph.minutes {
			capa, err := cloud.Capacity(ctx, "web")
			require.NoError(t, err)
			cpu := min(1, ph.load/float64(capa.Ready))
			require.NoError(t, cloud.AddSamples("web", provider.MetricCPU, provider.Sample{Time: mock.Now(), Value: cpu}))
			rep := a.Evaluate(ctx, mock.Now())
			require.NoError(t, rep.Err())
			d := rep.Targets[0].Decision
			if d.Change {
				require.NoError(t, cloud.SetCapacity(ctx, "web", d.Chosen.Capacity))
				// Tell the engine, so that the policy's scale-down rate
				// (20 % per 5 minutes) counts the change.
				engine.RecordEvent("web", scaling.ScalingEvent{At: mock.Now(), Strategy: d.Chosen.Strategy, From: capa.CapacitySpec, To: d.Chosen.Capacity})
			}
			got = append(got, d.Chosen.Capacity.Desired)
			mock.Add(time.Minute)
		}
		assert.Equal(t, ph.want, got, "%s: %s", ph.name, fmt.Sprint(got))
	}
}
