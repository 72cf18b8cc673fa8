package prometheus_test

import (
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// The detector, run end to end (Scan with the default Ensemble) on a week
// of the NAB idle and busy traces served by Prometheus from promtool's
// backfill, gives the same verdicts as on the in-memory provider holding
// the same samples: same states, actions, scores, confidences, signal
// contributions and reasons.
func TestDetectorSameVerdictsAsMemory(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	now := fx.nabEnd
	ids := []string{nabBusy, nabIdle}

	mock := clock.NewMock()
	mock.Set(now)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(mock))
	require.NoError(t, err)
	for _, id := range ids {
		// Prometheus does not know launch times (zero: no grace period);
		// the memory cloud would stamp now, so give it an old one.
		r := provider.Resource{ID: id, Kind: provider.KindInstance, State: provider.StateRunning, LaunchTime: now.Add(-30 * 24 * time.Hour)}
		require.NoError(t, cloud.Add(r))
		require.NoError(t, cloud.AddSamples(id, provider.MetricCPU, fx.nab[id]...))
	}
	prom := newSource(t, fx.historyConfig())

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cfg := detector.ScanConfig{Now: now, Filter: provider.Filter{IDs: ids}}
	want, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, cfg)
	require.NoError(t, err)
	require.NoError(t, want.Err())
	got, err := detector.Scan(t.Context(), detector.Fleet{Inventory: prom, Metrics: prom}, ens, cfg)
	require.NoError(t, err)
	require.NoError(t, got.Err())

	require.Len(t, want.Verdicts, 2)
	require.Len(t, got.Verdicts, len(want.Verdicts))
	states := map[string]detector.State{}
	for i, w := range want.Verdicts {
		g := got.Verdicts[i]
		require.Equal(t, w.ResourceID, g.ResourceID)
		states[w.ResourceID] = g.State
		assert.Equal(t, w.State, g.State, "%s: memory %v, prometheus %v", w.ResourceID, w.Explain(), g.Explain())
		assert.Equal(t, w.Action, g.Action, w.ResourceID)
		assert.InDelta(t, w.Score, g.Score, 1e-9, w.ResourceID)
		assert.InDelta(t, w.Confidence, g.Confidence, 1e-9, w.ResourceID)
		assert.Equal(t, w.Window, g.Window, w.ResourceID)
		require.Len(t, g.Signals, len(w.Signals), w.ResourceID)
		for j, ws := range w.Signals {
			gs := g.Signals[j]
			assert.Equal(t, ws.Signal, gs.Signal, w.ResourceID)
			assert.Equal(t, ws.State, gs.State, "%s %s", w.ResourceID, ws.Signal)
			assert.InDelta(t, ws.Score, gs.Score, 1e-9, "%s %s", w.ResourceID, ws.Signal)
			assert.InDelta(t, ws.Weight, gs.Weight, 1e-9, "%s %s", w.ResourceID, ws.Signal)
			assert.InDelta(t, ws.Value, gs.Value, 1e-9, "%s %s", w.ResourceID, ws.Signal)
		}
		require.Len(t, g.Reasons, len(w.Reasons), w.ResourceID)
		for j, wr := range w.Reasons {
			gr := g.Reasons[j]
			assert.Equal(t, wr.Code, gr.Code, w.ResourceID)
			assert.Equal(t, wr.Metric, gr.Metric, w.ResourceID)
			assert.InDelta(t, wr.Value, gr.Value, 1e-9, "%s: %s vs %s", w.ResourceID, wr, gr)
			assert.InDelta(t, wr.Limit, gr.Limit, 1e-9, w.ResourceID)
			assert.Equal(t, wr.Duration, gr.Duration, w.ResourceID)
		}
	}
	// The verdicts are the traces' own: not a shared "unknown".
	assert.Equal(t, detector.Idle, states[nabIdle], "the idle trace")
	assert.Equal(t, detector.NotIdle, states[nabBusy], "the saturated trace")

	// With the default node-exporter template over the same traces stored
	// as idle-CPU counters, rate() smooths the values a little (see
	// TestHistoryDefaultCPUTemplateOnCounters) but the verdicts stay.
	nodes := newSource(t, prometheus.Config{Address: fx.srv.URL, Lookback: time.Hour, RateWindow: 10 * time.Minute})
	cfg.Filter = provider.Filter{IDs: []string{nabBusy + "-node", nabIdle + "-node"}}
	fromCounters, err := detector.Scan(t.Context(), detector.Fleet{Inventory: nodes, Metrics: nodes}, ens, cfg)
	require.NoError(t, err)
	require.NoError(t, fromCounters.Err())
	require.Len(t, fromCounters.Verdicts, 2)
	for i, v := range fromCounters.Verdicts {
		w := want.Verdicts[i]
		assert.Equal(t, w.ResourceID+"-node", v.ResourceID)
		assert.Equal(t, w.State, v.State, "%s: %v", v.ResourceID, v.Explain())
		assert.Equal(t, w.Action, v.Action, v.ResourceID)
	}
}
