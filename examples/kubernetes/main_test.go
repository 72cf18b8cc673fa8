package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/scaling"
)

// TestScaleToZeroAndBack runs the command as a user would, against a
// throwaway API server: blocked in business hours, stopped after them,
// kept at zero without demand, restored to the remembered 3 replicas when
// requests arrive, each step verified on the API server.
func TestScaleToZeroAndBack(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, "", "idlescale-demo", &out))
	text := out.String()
	t.Log(text)
	want := []string{
		"Fri 14:00 reaper:",
		"idlescale-demo/deployment/web: blocked (stop): blocked: business_hours: inside business hours",
		"idlescale-demo/deployment/web: running, 3 replicas (3 ready)",
		"Fri 20:00 reaper:",
		"idlescale-demo/deployment/web: acted (stop): stop verified",
		"idlescale-demo/deployment/web: stopped, 0 replicas (0 ready)",
		"Sat 10:00 scaling engine: stopped, and no requests: stay at zero",
		"idlescale-demo/deployment/web: stopped, 0 replicas (0 ready)",
		"Mon 08:30 scaling engine: 40 requests/s while stopped: restore the 3 replicas it had",
		"step 1 scale_out 0 -> 1: verified",
		"step 3 scale_out 2 -> 3: verified",
		"plan completed",
		"idlescale-demo/deployment/web: running, 3 replicas (3 ready)",
	}
	// In this order.
	rest := text
	for _, line := range want {
		i := strings.Index(rest, line)
		require.GreaterOrEqual(t, i, 0, "missing, or out of order: %q", line)
		rest = rest[i+len(line):]
	}
}

func TestWakeStrategy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 8, 30, 0, 0, time.UTC)
	requests := func(v float64) []provider.Series {
		return []provider.Series{{Metric: provider.MetricRequests, Start: now.Add(-2 * time.Minute), Step: time.Minute, Values: []float64{0, v}}}
	}
	state := func(desired int, remembered string, metrics []provider.Series) scaling.State {
		tags := map[string]string{}
		if remembered != "" {
			tags[kubernetes.AnnotationStoppedReplicas] = remembered
		}
		return scaling.State{Now: now, Metrics: metrics, Target: scaling.Target{
			ID: "web", Min: 0, Max: 6,
			Resource: provider.Resource{ID: "ns/deployment/web", Kind: provider.KindGroup, Tags: tags},
			Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 6, Desired: desired}},
		}}
	}
	tests := []struct {
		name string
		give scaling.State
		want int
	}{
		{"running", state(2, "3", requests(40)), 2},
		{"stopped without requests", state(0, "3", requests(0)), 0},
		{"stopped without data", state(0, "3", nil), 0},
		{"requests return", state(0, "3", requests(40)), 3},
		{"nothing remembered", state(0, "", requests(40)), 1},
		{"junk remembered", state(0, "many", requests(40)), 1},
		{"remembered above the policy's max", state(0, "9", requests(40)), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := wake{}.Recommend(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.Capacity.Desired)
			assert.Equal(t, tt.want, rec.Proposal)
			require.NoError(t, rec.Validate(tt.give.Target))
		})
	}
	assert.Equal(t, []scaling.Need{{Metric: provider.MetricRequests, Lookback: 10 * time.Minute, Step: time.Minute}}, wake{}.Needs())
}

func TestDemoTimes(t *testing.T) {
	t.Parallel()
	// Created on Thursday 2026-03-05: the first Friday at least 15 days
	// later is 2026-03-20.
	at, err := demoTimes(time.Date(2026, 3, 5, 11, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "2026-03-20 14:00 Fri CET", at.friday14.Format("2006-01-02 15:04 Mon MST"))
	assert.Equal(t, "2026-03-20 20:00 Fri CET", at.friday20.Format("2006-01-02 15:04 Mon MST"))
	assert.Equal(t, "2026-03-21 10:00 Sat CET", at.saturday.Format("2006-01-02 15:04 Mon MST"))
	assert.Equal(t, "2026-03-23 08:30 Mon CET", at.monday.Format("2006-01-02 15:04 Mon MST"))
	assert.Equal(t, 10*time.Minute, at.monday.Sub(at.demandFrom))
	// Created on a Friday evening: two weeks and a day later is a Saturday,
	// so the demo's Friday is the one after.
	at, err = demoTimes(time.Date(2026, 3, 6, 21, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "2026-03-27 20:00 Fri CET", at.friday20.Format("2006-01-02 15:04 Mon MST"))
}

func TestHistory(t *testing.T) {
	t.Parallel()
	at, err := demoTimes(time.Date(2026, 3, 5, 11, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	h, err := newHistory("ns/deployment/web", at)
	require.NoError(t, err, "the NAB trace is in testdata")
	friday20 := at.friday20
	q := provider.Query{ResourceID: "ns/deployment/web", Metric: provider.MetricCPU, Start: friday20.Add(-24 * time.Hour), End: friday20, Step: time.Hour}
	s, err := h.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.Zero(t, s.Gaps(), "two weeks of CPU end at Friday 20:00")
	for _, v := range s.Values {
		assert.Less(t, v, 0.02, "an idle trace, as a fraction")
	}
	q.ResourceID = "ns/deployment/other"
	_, err = h.QueryMetric(t.Context(), q)
	require.ErrorIs(t, err, provider.ErrNotFound)
}
