package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

const hotPolicy = `
interval: 1m
execute: true
targets:
  - id: web
    min: 1
    max: 10
    verify: {timeout: 5m, window: 1m}
    strategies:
      - type: threshold
`

// A step the safety gate refuses is one decision, counted once in
// decisions_total under the gate's outcome, though both the safety
// engine's auditor and the scaling engine's step_blocked event record it
// and the clock moves while the gate decides (here the rule itself takes
// a second). The step_blocked event was stamped after the gate, so the
// collector's de-duplication missed it and counted a block twice; and a
// step that needs an approval was counted as a block too.
func TestScalingBlockCountedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    safety.Outcome
		outcome string
		rules   int
	}{
		{name: "block", give: safety.Block, outcome: "block", rules: 1},
		{name: "require_approval", give: safety.RequireApproval, outcome: "require_approval", rules: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
			clk := stepclock.New(t0)
			cloud, err := memory.New(memory.Config{LaunchDelay: time.Minute}, memory.WithClock(clk))
			require.NoError(t, err)
			require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup},
				provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
			var samples []provider.Sample
			for at := t0.Add(-time.Hour); at.Before(t0.Add(time.Hour)); at = at.Add(time.Minute) {
				samples = append(samples, provider.Sample{Time: at, Value: 0.95})
			}
			require.NoError(t, cloud.AddSamples("web", provider.MetricCPU, samples...))
			cfg, err := scaling.ParseConfig(strings.NewReader(hotPolicy))
			require.NoError(t, err)
			col, err := metrics.New(metrics.Config{})
			require.NoError(t, err)
			l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("metrics", col))
			require.NoError(t, err)
			rule := safety.Named("freeze", safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
				clk.Set(p.Now.Add(time.Second)) // the gate takes time
				return safety.Result{Outcome: tt.give, Reason: "change freeze"}, nil
			}))
			gate, err := safety.New(safety.Config{}, []safety.Rule{rule}, safety.WithAuditor(monitor.Auditor(l)))
			require.NoError(t, err)
			obs := monitor.NewScalingObserver(l, monitor.WithObserverClock(clk))
			engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
				scaling.WithObserver(obs), scaling.WithEngineClock(clk))
			require.NoError(t, err)
			a, err := scaling.NewAutoscaler(cfg, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud}, scaling.WithClock(clk))
			require.NoError(t, err)
			a.RunOnce(t.Context(), t0)
			require.NoError(t, obs.Err())
			audited, err := l.Query(monitor.Query{Source: monitor.SourceSafety})
			require.NoError(t, err)
			require.Len(t, audited, 1, "one decision of the gate: %v", audited)

			want := `
# HELP idlescale_decisions_total Safety decisions by outcome (pass, require_approval, block), each counted once.
# TYPE idlescale_decisions_total counter
idlescale_decisions_total{outcome="` + tt.outcome + `"} 1
`
			if tt.rules > 0 {
				want += `# HELP idlescale_blocks_total Blocked proposals by blocking safety rule.
# TYPE idlescale_blocks_total counter
idlescale_blocks_total{rule="freeze"} 1
`
			}
			assert.NoError(t, testutil.CollectAndCompare(col, strings.NewReader(want),
				"idlescale_decisions_total", "idlescale_blocks_total"))
		})
	}
}
