package scaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestStepEvaluationRangeWithinCloudWatchLimits: an alarm's evaluation
// range (EvaluationPeriods × its period) is at most a day for a period
// under an hour and seven days otherwise, as CloudWatch's PutMetricAlarm
// requires. Any count was taken: a typo of 1000000000 periods made the
// strategy's lookback, (periods + 4) × step, overflow time.Duration
// (1294380h, 147 years, in place of 1.9 million years) and the
// Autoscaler read that many one-minute steps of the metric for the
// target at every pass (77 million values a read). Such a count is now
// refused, naming policies[i].evaluation_periods.
func TestStepEvaluationRangeWithinCloudWatchLimits(t *testing.T) {
	t.Parallel()
	policy := func(periods int) scaling.StepPolicy {
		return scaling.StepPolicy{Threshold: 0.8, Comparison: scaling.Greater, EvaluationPeriods: periods, AdjustmentType: scaling.ChangeInCapacity,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}
	}
	for _, tt := range []struct {
		name    string
		step    time.Duration
		periods int
		ok      bool
	}{
		{"a day of minutes (the default step)", 0, 1440, true},
		{"a day and a minute", 0, 1441, false},
		{"a typo", 0, 1_000_000_000, false},
		{"the largest int", 0, int(^uint(0) >> 1), false},
		{"a day of 5 minutes", 5 * time.Minute, 288, true},
		{"past a day of 5 minutes", 5 * time.Minute, 289, false},
		{"seven days of hours", time.Hour, 168, true},
		{"past seven days of hours", time.Hour, 169, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := scaling.NewStep(scaling.StepConfig{Step: tt.step, Policies: []scaling.StepPolicy{policy(1), policy(tt.periods)}})
			if tt.ok {
				require.NoError(t, err)
				for _, n := range s.Needs() {
					require.NoError(t, n.Validate())
					assert.Equal(t, time.Duration(tt.periods+4)*max(tt.step, time.Minute), n.Lookback)
				}
				return
			}
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "policies[1].evaluation_periods", inv.Field)
		})
	}
	_, err := scaling.ParseConfig(strings.NewReader("targets:\n  - id: q\n    strategies:\n      - type: step\n        step: {policies: [{threshold: 1, comparison: greater, adjustment_type: change_in_capacity, evaluation_periods: 1000000000, steps: [{lower_bound: 0, adjustment: 1}]}]}\n"))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].strategies[0].step.policies[0].evaluation_periods", inv.Field)
}

// TestStepPeriodWithinCloudWatchLimits: the evaluation range is
// EvaluationPeriods × the step, so a step longer than seven days makes
// even one period's range longer than CloudWatch allows an alarm. It was
// taken (one period at least was always allowed), and a step of about 58
// years or more (a typo of 1000000h) overflowed the strategy's lookback,
// (periods + 4) × step, to a negative duration: NewStep returned a
// strategy whose Need its own Validate refuses, and a policy file was
// refused naming needs[0].lookback, a field no file has. Such a step is
// now refused, naming step.
func TestStepPeriodWithinCloudWatchLimits(t *testing.T) {
	t.Parallel()
	policy := scaling.StepPolicy{Threshold: 0.8, Comparison: scaling.Greater, AdjustmentType: scaling.ChangeInCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}
	for _, tt := range []struct {
		name string
		step time.Duration
		ok   bool
	}{
		{"seven days", 7 * 24 * time.Hour, true},
		{"eight days", 8 * 24 * time.Hour, false},
		{"a typo", 1_000_000 * time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := scaling.NewStep(scaling.StepConfig{Step: tt.step, Policies: []scaling.StepPolicy{policy}})
			if tt.ok {
				require.NoError(t, err)
				for _, n := range s.Needs() {
					require.NoError(t, n.Validate())
				}
				return
			}
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "step", inv.Field)
		})
	}
	_, err := scaling.ParseConfig(strings.NewReader("targets:\n  - id: q\n    strategies:\n      - type: step\n        step: {step: 1000000h, policies: [{threshold: 1, comparison: greater, adjustment_type: change_in_capacity, steps: [{lower_bound: 0, adjustment: 1}]}]}\n"))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].strategies[0].step.step", inv.Field)
}
