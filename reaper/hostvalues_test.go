package reaper_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestVerdictSavingsNotANumber: a host's detector that gives an idle
// instance a saving that is not a finite number (NaN from 0/0, an
// infinity, or a negative one: acting would cost) fails that resource
// at detection, with an error naming the resource and the field, and
// nothing is done to it; the other resources go on, and the report
// still marshals to JSON with its totals sound. (Before, the run acted,
// or would have, and json.Marshal of the report failed with
// "unsupported value: NaN"; a negative saving was subtracted from the
// totals.)
func TestVerdictSavingsNotANumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give float64
	}{
		{name: "NaN", give: math.NaN()},
		{name: "+Inf", give: math.Inf(1)},
		{name: "-Inf", give: math.Inf(-1)},
		{name: "negative", give: -70},
	}
	for _, tt := range tests {
		for _, execute := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: " dry run", true: " executing"}[execute], func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, memory.Config{})
				e.add(t, vm{id: "i-bad", cpu: 0.02}, vm{id: "i-ok", cpu: 0.02})
				det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
					savings := 70.0
					if in.Resource.ID == "i-bad" {
						savings = tt.give
					}
					return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.95, Confidence: 0.95,
						Action: detector.ActionStop, MonthlySavings: savings}, nil
				})
				r, err := reaper.New(reaper.Config{Execute: execute}, e.fleet(), det, e.engine,
					reaper.WithClock(e.waitClock()), reaper.WithHistory(e.history))
				require.NoError(t, err)
				rep, err := e.run(t.Context(), t, r, t0)
				require.NoError(t, err)

				bad := record(t, rep, "i-bad")
				assert.Equal(t, reaper.OutcomeFailed, bad.Outcome, bad.String())
				require.ErrorIs(t, bad.Err(), provider.ErrInvalid)
				var re *reaper.ResourceError
				require.ErrorAs(t, bad.Err(), &re)
				assert.Equal(t, "i-bad", re.ResourceID)
				assert.Equal(t, reaper.StageDetect, re.Stage)
				var ie *provider.InvalidError
				require.ErrorAs(t, bad.Err(), &ie)
				assert.Equal(t, "verdict.monthly_savings", ie.Field)
				assert.Zero(t, bad.MonthlySavings)

				ok := record(t, rep, "i-ok")
				want := reaper.OutcomeWouldAct
				if execute {
					want = reaper.OutcomeActed
				}
				assert.Equal(t, want, ok.Outcome, ok.String())
				if execute {
					require.Len(t, e.actions(), 1, "i-ok alone is stopped")
					assert.Equal(t, "i-ok", e.actions()[0].ResourceID)
				}
				assert.InDelta(t, 70, rep.Totals.EstimatedMonthlySavings, 1e-9)
				assert.Equal(t, 1, rep.Totals.Failed)

				assert.Contains(t, bad.Reason, "verdict is unusable")
				b, err := json.Marshal(rep)
				require.NoError(t, err, "the report marshals")
				var back struct {
					Totals struct {
						Estimated float64 `json:"estimated_monthly_savings"`
					} `json:"totals"`
				}
				require.NoError(t, json.Unmarshal(b, &back))
				assert.InDelta(t, 70, back.Totals.Estimated, 1e-9)
			})
		}
	}
}
