package reaper_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestRecordJSONUnknownFigures: a record whose verdict carries figures
// that are not known (NaN, as a detector.Tracker's incremental path gives
// for percentiles) marshals, alone and in its report, with those figures
// null and the reasons' text free of NaN. Before, json.Marshal failed with
// "unsupported value: NaN".
func TestRecordJSONUnknownFigures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	window := 14 * 24 * time.Hour
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95, Action: detector.ActionStop, MonthlySavings: 70,
			Reasons: []detector.Reason{
				{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Value: 1, Duration: window,
					Stats: detector.Stats{Mean: 0.02, P95: math.NaN(), P99: math.NaN(), Max: 0.03}},
				{Signal: "evidence", Code: detector.ReasonBelowBound, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionStop,
					Value: math.NaN(), Limit: 0.1, Duration: window},
			}}, nil
	})
	r, err := reaper.New(reaper.Config{}, e.fleet(), det, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := r.RunOnce(t.Context(), t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)

	b, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "NaN")
	var back struct {
		Verdict struct {
			Reasons []struct {
				Code  string   `json:"code"`
				Value *float64 `json:"value"`
				Stats *struct {
					Mean *float64 `json:"mean"`
					P95  *float64 `json:"p95"`
					P99  *float64 `json:"p99"`
					Max  *float64 `json:"max"`
				} `json:"stats"`
				Text string `json:"text"`
			} `json:"reasons"`
		} `json:"verdict"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	rs := back.Verdict.Reasons
	require.Len(t, rs, 2)
	require.NotNil(t, rs[0].Stats)
	assert.Nil(t, rs[0].Stats.P95, "an unknown p95 is null")
	assert.Nil(t, rs[0].Stats.P99, "an unknown p99 is null")
	require.NotNil(t, rs[0].Stats.Mean)
	assert.InDelta(t, 0.02, *rs[0].Stats.Mean, 1e-12)
	assert.Equal(t, "evidence: cpu over the last 14d (100% covered): mean 2.00%, max 3.00%", rs[0].Text)
	assert.Equal(t, "below_bound", rs[1].Code)
	assert.Nil(t, rs[1].Value, "an unknown value is null")
	assert.Equal(t, "evidence: cpu p99 over the last 14d is below the stop bound 10.00%", rs[1].Text)

	_, err = json.Marshal(rep)
	require.NoError(t, err, "the report with the record")
}
