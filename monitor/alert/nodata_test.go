package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// TestScalingNoDataAlertFollowsTheAutoscaler: the real autoscaler on a
// memory cloud whose group publishes no cpu keeps its capacity pass after
// pass and says nothing else; the default scaling_no_data alert fires
// once, stays firing without paging again, and resolves at the first pass
// with data. Closing the autoscaler of a target still blind resolves it
// too.
func TestScalingNoDataAlertFollowsTheAutoscaler(t *testing.T) {
	t.Parallel()
	clk := stepclock.New(t0)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(t, err)
	require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
	cfg, err := scaling.ParseConfig(strings.NewReader("interval: 1m\nexecute: true\ntargets:\n  - id: web\n    min: 1\n    max: 10\n    strategies:\n      - type: threshold\n"))
	require.NoError(t, err)
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec), alert.WithClock(clk))
	obs := monitor.NewScalingObserver(l, monitor.WithObserverClock(clk))
	gate, err := safety.New(safety.Config{AllowNoRules: true}, nil)
	require.NoError(t, err)
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
		scaling.WithObserver(obs), scaling.WithEngineClock(clk))
	require.NoError(t, err)
	ctx := t.Context()
	pass := func(as *scaling.Autoscaler, at time.Time) {
		t.Helper()
		clk.Set(at)
		as.RunOnce(ctx, at)
		require.NoError(t, obs.Err())
		require.NoError(t, a.Evaluate(ctx, at))
		require.NoError(t, a.Deliver(ctx))
	}
	firing := func() []string {
		var ids []string
		for _, f := range a.Firing() {
			ids = append(ids, f.ID)
		}
		return ids
	}
	as, err := scaling.NewAutoscaler(cfg, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud}, scaling.WithClock(clk))
	require.NoError(t, err)
	for i := range 5 {
		pass(as, t0.Add(time.Duration(i)*time.Minute))
	}
	assert.Empty(t, firing(), "blind for four minutes: not yet (scaling.DefaultNoDataAfter)")
	for i := 5; i < 8; i++ {
		pass(as, t0.Add(time.Duration(i)*time.Minute))
	}
	assert.Equal(t, []string{"scaling_no_data/web"}, firing())
	require.Len(t, a.Firing(), 1)
	assert.Equal(t, alert.SeverityWarning, a.Firing()[0].Severity)
	assert.Contains(t, a.Firing()[0].Reason, "threshold: ")
	assert.Equal(t, []string{"firing scaling_no_data/web"}, rec.sent(), "paged once for eight blind passes")
	// Hours of blindness: still one alert, never resolved by waiting.
	pass(as, t0.Add(6*time.Hour))
	assert.Equal(t, []string{"scaling_no_data/web"}, firing())

	var samples []provider.Sample
	for at := t0; at.Before(t0.Add(8 * time.Hour)); at = at.Add(time.Minute) {
		samples = append(samples, provider.Sample{Time: at, Value: 0.5})
	}
	require.NoError(t, cloud.AddSamples("web", provider.MetricCPU, samples...))
	pass(as, t0.Add(7*time.Hour))
	assert.Empty(t, firing(), "the pass with data resolves it")
	assert.Equal(t, []string{"firing scaling_no_data/web", "resolved scaling_no_data/web"}, rec.sent())

	// Blind again, then the target leaves the policy: resolved.
	pass(as, t0.Add(9*time.Hour)) // its cpu ended at 8h: stale
	pass(as, t0.Add(9*time.Hour+5*time.Minute))
	assert.Equal(t, []string{"scaling_no_data/web"}, firing())
	clk.Set(t0.Add(10 * time.Hour))
	as.Close()
	require.NoError(t, a.Deliver(ctx))
	assert.Empty(t, firing(), "a target forgotten is not left firing")
	assert.Equal(t, []string{"firing scaling_no_data/web", "resolved scaling_no_data/web", "firing scaling_no_data/web", "resolved scaling_no_data/web"}, rec.sent())
}
