package safety_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{
		"Mon-Fri 09:00-18:00", "Mon-Fri 08:00-12:00,13:00-17:30; Sat 10:00-14:00", "Fri-Mon 00:00-24:00",
		"none", "", "Mon 24:00-24:00", "Mon-Fri 18:00-09:00", "Mon 09:00-25:00", "sun,MON 00:00-00:01;",
		"Mon 09:00-10:00,09:30-11:00", "Tue-Tue 23:59-24:00",
	} {
		f.Add(s)
	}
	probes := []time.Time{
		time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 13, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 7, 23, 59, 0, 0, time.UTC), time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := safety.ParseSchedule(spec)
		if err != nil {
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "schedule", ie.Field)
			return
		}
		// The canonical form reads back to the same schedule.
		again, err := safety.ParseSchedule(s.String())
		require.NoError(t, err, "canonical form %q", s.String())
		assert.Equal(t, s, again)
		for d := range 7 {
			prev := -1
			for _, w := range s.Windows(time.Weekday(d)) {
				require.True(t, w.Start >= 0 && w.Start < w.End && w.End <= 1440, "window %+v", w)
				require.Greater(t, w.Start, prev, "windows are sorted and merged")
				prev = w.End
			}
		}
		for _, p := range probes {
			if s.Contains(p) {
				end := s.End(p)
				assert.True(t, end.After(p))
				assert.False(t, s.Contains(end) && end.Sub(p) < 7*24*time.Hour, "End leaves the window unless the schedule is always on")
			} else {
				assert.Equal(t, p, s.End(p))
			}
		}
	})
}

// FuzzEngine gives every rule a random behaviour and checks that the
// decision is never "allowed" when any rule blocked, failed or asked for
// approval.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{0, 1, 2})
	f.Add([]byte{3, 0, 0})
	f.Add([]byte{4})
	f.Add([]byte{5, 5})
	f.Add([]byte{6, 0})
	f.Add([]byte{7, 1})
	f.Add([]byte{8, 0, 9})
	f.Fuzz(func(t *testing.T, behaviours []byte) {
		if len(behaviours) > 16 {
			behaviours = behaviours[:16]
		}
		var rules []safety.Rule
		wantBlock, wantApproval := false, false
		for i, b := range behaviours {
			var res safety.Result
			var err error
			panics := false
			switch b % 10 {
			case 0: // pass
			case 1:
				res = safety.Result{Risk: safety.RiskMedium, Reason: "medium"}
			case 2:
				res = safety.Result{Outcome: safety.RequireApproval, Reason: "ask"}
				wantApproval = true
			case 3:
				res = safety.Result{Outcome: safety.Block, Reason: "no"}
				wantBlock = true
			case 4:
				err = errors.New("rule error")
				wantBlock = true
			case 5:
				panics = true
				wantBlock = true
			case 6:
				res = safety.Result{Outcome: safety.Outcome(fmt.Sprintf("outcome%d", 3+int(b)/10))} // unknown
				wantBlock = true
			case 7:
				res = safety.Result{Risk: safety.RiskHigh, Reason: "high"}
				wantApproval = true
			case 8:
				res = safety.Result{Outcome: safety.Pass, Risk: safety.Risk(fmt.Sprintf("risk%d", -1-int(b)/10))} // invalid risk
				wantBlock = true
			case 9:
				err = fmt.Errorf("wrapped: %w", context.DeadlineExceeded)
				res = safety.Result{Outcome: safety.Pass}
				wantBlock = true
			}
			rules = append(rules, safety.Named(fmt.Sprintf("r%d", i), safety.RuleFunc(
				func(context.Context, safety.Proposal) (safety.Result, error) {
					if panics {
						panic("fuzz")
					}
					return res, err
				})))
		}
		eng, err := safety.New(safety.Config{Concurrency: 1 + len(behaviours)%4, AllowNoRules: true}, rules)
		require.NoError(t, err)
		d, err := eng.Check(t.Context(), stop("i-1"))
		switch {
		case wantBlock:
			require.ErrorIs(t, err, safety.ErrBlocked)
			assert.False(t, d.Allowed)
			assert.Equal(t, safety.Block, d.Outcome)
			assert.NotEmpty(t, d.Blocking)
			require.NotErrorIs(t, err, safety.ErrApprovalRequired)
		case wantApproval:
			require.ErrorIs(t, err, safety.ErrApprovalRequired)
			assert.False(t, d.Allowed)
			assert.Equal(t, safety.RequireApproval, d.Outcome)
		default:
			require.NoError(t, err)
			assert.True(t, d.Allowed)
		}
		assert.Len(t, d.Results, len(behaviours))
	})
}
