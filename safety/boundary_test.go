package safety_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A blackout is [Start, End): its exact start blocks, the instant before
// does not; the instant before its end still blocks and its end does not.
// The recommendation names the end. The window lies outside business hours
// (Tue 21:00-23:00 Berlin), so only the blackout decides.
func TestBlackoutBoundaries(t *testing.T) {
	t.Parallel()
	start, end := utc("2026-03-10T20:00:00Z"), utc("2026-03-10T22:00:00Z")
	r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{
		TimeZone:  "Europe/Berlin",
		Blackouts: []safety.Blackout{{Name: "db migration", Start: start, End: end}},
	})
	require.NoError(t, err)
	tests := []struct {
		name string
		now  time.Time
		want safety.Outcome
	}{
		{"1ns before the start", start.Add(-time.Nanosecond), safety.Pass},
		{"the start", start, safety.Block},
		{"1ns before the end", end.Add(-time.Nanosecond), safety.Block},
		{"the end", end, safety.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := stop("i-1")
			p.Now = tt.now
			got, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Outcome, got.Reason)
			if tt.want == safety.Block {
				assert.Equal(t, safety.RiskMedium, got.Risk)
				assert.Equal(t, "inside blackout db migration until Tue 2026-03-10 23:00 CET", got.Reason)
				assert.Equal(t, []string{"schedule for Tue 2026-03-10 23:00 Europe/Berlin"}, got.Recommendations)
				assert.True(t, end.Equal(r.NextAllowed(tt.now)), "next allowed %s", r.NextAllowed(tt.now))
			} else {
				assert.Empty(t, got.Reason)
				assert.True(t, tt.now.Equal(r.NextAllowed(tt.now)), "allowed now")
			}
		})
	}
}

// Business hours are [start, end) in the resource's zone: 09:00 blocks,
// 08:59:59 does not; 17:59:59 blocks, 18:00 does not.
func TestBusinessHoursBoundaries(t *testing.T) {
	t.Parallel()
	r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{TimeZone: "Europe/Berlin"})
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	day := func(h, m, s int) time.Time { return time.Date(2026, 3, 4, h, m, s, 0, berlin) } // a Wednesday
	tests := []struct {
		now  time.Time
		want safety.Outcome
	}{
		{day(8, 59, 59), safety.Pass},
		{day(9, 0, 0), safety.Block},
		{day(17, 59, 59), safety.Block},
		{day(18, 0, 0), safety.Pass},
	}
	for _, tt := range tests {
		p := stop("i-1")
		p.Now = tt.now
		got, err := r.Check(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got.Outcome, "%s: %s", tt.now, got.Reason)
		if tt.want == safety.Block {
			assert.True(t, day(18, 0, 0).Equal(r.NextAllowed(tt.now)), "%s: next allowed %s", tt.now, r.NextAllowed(tt.now))
		}
	}
}

// Both high and critical criticality make a resource critical (in any
// case spelling); low, medium and unset do not. A critical resource is
// treated as production is: stop needs approval, terminate is blocked,
// both at high risk, and the engine's decision follows.
func TestCriticalityLevels(t *testing.T) {
	t.Parallel()
	rule, err := safety.NewCriticalRule(safety.CriticalConfig{})
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
	require.NoError(t, err)
	tests := []struct {
		give        provider.Criticality
		action      safety.Action
		wantOutcome safety.Outcome
		wantFactors []string
	}{
		{provider.CriticalityCritical, safety.ActionStop, safety.RequireApproval, []string{"criticality=critical"}},
		{provider.CriticalityCritical, safety.ActionTerminate, safety.Block, []string{"criticality=critical"}},
		{"Critical", safety.ActionStop, safety.RequireApproval, []string{"criticality=critical"}},
		{provider.CriticalityHigh, safety.ActionTerminate, safety.Block, []string{"criticality=high"}},
		{provider.CriticalityMedium, safety.ActionTerminate, safety.Pass, nil},
		{provider.CriticalityLow, safety.ActionStop, safety.Pass, nil},
		{provider.CriticalityUnknown, safety.ActionStop, safety.Pass, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.give)+"/"+string(tt.action), func(t *testing.T) {
			t.Parallel()
			p := stop("i-1")
			p.Action = tt.action
			p.Resource.Criticality = tt.give
			got, err := rule.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantFactors, got.Factors)
			d, err := eng.Evaluate(t.Context(), p)
			if tt.give.Validate() != nil {
				// The rule reads labels as written; the engine refuses a
				// proposal whose resource was not normalised.
				require.ErrorIs(t, err, provider.ErrInvalid)
				assert.Equal(t, []string{"proposal"}, d.BlockingRules())
				return
			}
			assert.Equal(t, tt.wantOutcome, d.Outcome)
			if tt.wantOutcome == safety.Pass {
				assert.Equal(t, safety.RiskNone, got.Risk)
				assert.True(t, d.Allowed)
				return
			}
			assert.Equal(t, safety.RiskHigh, got.Risk)
			assert.Equal(t, safety.RiskHigh, d.Risk)
			assert.False(t, d.Allowed)
		})
	}
}
