package safety_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// TestBusinessHoursHolidayBeforeAMidnightGap: America/Santiago springs
// forward at midnight (Sun 2026-09-06 00:00 -04 → 01:00 -03), so the
// midnight after Sat 2026-09-05 does not exist, and time.Date gives Sat
// 23:00 for it. A holiday blackout on that Saturday (or a calendar's
// holiday before such a midnight) is left at the next day's first instant,
// 01:00: the rule blocks and recommends it. (NextAllowed moved to
// time.Date's 'midnight', still on the holiday, and again to the same
// instant, for ever: the rule, which the engine runs inline and cannot
// time out, never returned.)
func TestBusinessHoursHolidayBeforeAMidnightGap(t *testing.T) {
	t.Parallel()
	r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{
		Hours: "none", TimeZone: "America/Santiago", HolidaysAreBlackouts: true,
		Holidays: []safety.Holiday{{Date: "2026-09-05", Name: "freeze"}},
	})
	require.NoError(t, err)
	p := safety.Proposal{Action: safety.ActionStop, Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance},
		Requester: "reaper", Now: utc("2026-09-05T14:00:00Z")} // Sat 10:00 -04
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	type answer struct {
		res  safety.Result
		next time.Time
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := r.Check(t.Context(), p)
		done <- answer{res: res, next: r.NextAllowed(p.Now.In(santiago)), err: err}
	}()
	var got answer
	select {
	case got = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the rule did not return in 30 s")
	}
	require.NoError(t, got.err)
	assert.Equal(t, safety.Block, got.res.Outcome)
	assert.Equal(t, []string{"schedule for Sun 2026-09-06 01:00 America/Santiago"}, got.res.Recommendations)
	assert.True(t, got.next.Equal(utc("2026-09-06T04:00:00Z")), "next allowed %s", got.next)
}
