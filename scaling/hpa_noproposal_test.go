package scaling_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestHPADecisionWithoutProposalIsNotStabilizedOver pins that a decision
// of the HPA strategy that makes no proposal records none, as Kubernetes'
// controller does (and package hpa's History.Record): a target above
// maxReplicas or below minReplicas goes to the bound without reading the
// metrics, one at zero replicas has its scaling disabled, one whose
// metrics all failed is not decided. The strategy used to record the
// current count as a proposal, which then held the next decisions for the
// stabilization window: a scale down for the highest (an operator's 15
// above the max of 10), a scale up for the lowest with a scale-up window
// (an operator's 1 below the min of 2, or 0).
func TestHPADecisionWithoutProposalIsNotStabilizedOver(t *testing.T) {
	t.Parallel()
	upWindow := 3 * time.Minute
	withUpWindow := &hpa.Behavior{ScaleUp: &hpa.ScalingRules{StabilizationWindow: &upWindow}}
	type step struct {
		replicas int
		cpu      float64 // < 0: the metric's read failed
	}
	for _, tt := range []struct {
		name     string
		behavior *hpa.Behavior
		min, max int
		// Two decisions at the target of 60 %, then one without a
		// proposal, then one proposing want.
		before, without, after step
		want                   int
		reason                 string // of the decision without a proposal
	}{
		// 10 pods at 24 %: ⌈10 × 24/60⌉ = 4; the recommendations of the
		// last 5 minutes are 4, 4, 4.
		{"above the max", nil, 1, 10, step{4, 0.6}, step{15, 0.6}, step{10, 0.24}, 4, "Current number of replicas above Spec.MaxReplicas"},
		{"every metric failed", nil, 1, 10, step{4, 0.6}, step{10, -1}, step{10, 0.24}, 4, "no decision (FailedGetResourceMetric)"},
		// 2 pods at 180 %: ⌈2 × 180/60⌉ = 6; the recommendations of the
		// last 3 minutes are 6 and 6.
		{"below the min", withUpWindow, 2, 10, step{6, 0.6}, step{1, 0.6}, step{2, 1.8}, 6, "Current number of replicas below Spec.MinReplicas"},
		{"scaling disabled", withUpWindow, 2, 10, step{6, 0.6}, step{0, 0.6}, step{2, 1.8}, 6, "ScalingDisabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: nopScaler{}}, allowAll{})
			require.NoError(t, err)
			h, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}, Behavior: tt.behavior}, "hpa")
			require.NoError(t, err)
			at := func(now time.Time, s step) scaling.Decision {
				st := scaling.State{Now: now, Target: group(s.replicas, tt.min, tt.max)}
				if s.cpu < 0 {
					st.MetricErrors = map[provider.Metric]error{provider.MetricCPU: errors.New("throttled")}
				} else {
					st.Metrics = []provider.Series{series(provider.MetricCPU, now, time.Minute, s.cpu, s.cpu, s.cpu)}
				}
				d, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: "hpa", Strategy: h}}, "")
				require.NoError(t, err)
				return d
			}
			at(t0, tt.before) // the first: records the current count and the proposal
			d := at(t0.Add(time.Minute), tt.before)
			require.False(t, d.Chosen.NoProposal)
			require.Equal(t, tt.before.replicas, d.Chosen.Proposal)
			d = at(t0.Add(2*time.Minute), tt.without)
			assert.Contains(t, d.Chosen.Reason, tt.reason)
			assert.True(t, d.Chosen.NoProposal)
			assert.Equal(t, tt.without.replicas, d.Chosen.Proposal, "Proposal shows the current count")
			recs := e.History("web").Recommendations
			assert.True(t, recs[len(recs)-1].NoProposal, "%+v", recs)
			d = at(t0.Add(3*time.Minute), tt.after)
			assert.Equal(t, tt.want, d.Chosen.Capacity.Desired, "%s; history %+v", d.Chosen.Reason, e.History("web").Recommendations)
		})
	}
}

// TestNoProposalJSON pins the JSON of NoProposal: omitted when false, so
// that Recommendations and History records written before it read as
// proposals and those with a proposal are written as before.
func TestNoProposalJSON(t *testing.T) {
	t.Parallel()
	var r scaling.RecommendationRecord
	require.NoError(t, json.Unmarshal([]byte(`{"at":"2026-03-02T12:00:00Z","strategy":"hpa","current":4,"desired":4,"proposal":4}`), &r))
	assert.False(t, r.NoProposal)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "no_proposal")
	r.NoProposal = true
	b, err = json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"no_proposal":true`)
	var back scaling.RecommendationRecord
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r, back)
	b, err = json.Marshal(scaling.Recommendation{Proposal: 3, NoProposal: true})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"no_proposal":true`)
	b, err = json.Marshal(scaling.Recommendation{Proposal: 3})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "no_proposal")
}
