package detector_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestKnownIdleCountsThinWeeks: an idle slot is known idle unless it was
// seen in at least two weeks and thin in at least IdleShare of them; at
// those bounds it is not. (Kills the boundary and arithmetic mutants of
// KnownIdle.)
func TestKnownIdleCountsThinWeeks(t *testing.T) {
	t.Parallel()
	const slot = 26 // Monday 02:00
	for _, tc := range []struct {
		name      string
		share     float64
		seen, gap uint16
		known     bool
	}{
		{"never thin", 0.9, 4, 0, true},
		{"thin once in one week seen", 0.9, 1, 1, true},
		{"thin in both of two weeks", 0.9, 2, 2, false},
		{"thin in one of two weeks", 0.9, 2, 1, true},
		{"thin in 3 of 4 weeks, below 0.9", 0.9, 4, 3, true},
		{"thin in 1 of 4 weeks", 0.9, 4, 1, true},
		{"thin in exactly half at a share of 0.5", 0.5, 4, 2, false},
		{"thin in fewer than half at a share of 0.5", 0.5, 4, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := detector.Profile{IdleShare: tc.share}
			p.Observed[slot] = 12 * uint32(tc.seen)
			p.IdleSteps[slot] = p.Observed[slot]
			p.HoursSeen[slot] = tc.seen
			p.GapHours[slot] = tc.gap
			require.True(t, p.Idle(slot))
			assert.Equal(t, tc.known, p.KnownIdle(slot))
		})
	}
}

// TestLearnCountsGapHoursBetweenTheEdges: a machine idle for 20 days
// whose metrics go missing every night from 02:00 for gap. Its 02:00
// hours are thin, and counted in GapHours, when they lack more than
// 1 − IdleShare of their steps; an hour lacking exactly that share is
// not thin. The data's first hour (its first steps, to 00:35, are
// missing) and its last (its last 15 minutes are) count as thin
// whatever they hold (the data's edges), once each: their slots, seen in
// three weeks, stay known idle. No other slot counts a gap hour.
// (Kills the gap counter's boundary, increment and arithmetic mutants.)
func TestLearnCountsGapHoursBetweenTheEdges(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	const n = 20 * 288                                   // to Sunday 00:00
	for _, tc := range []struct {
		name  string
		share float64
		gap   time.Duration
		thin  bool
	}{
		{"half an hour missing", 0.9, 30 * time.Minute, true},
		{"a quarter missing at a share of 0.75", 0.75, 15 * time.Minute, false},
		{"more than a quarter missing at a share of 0.75", 0.75, 20 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cpu := synth("r-night", start, 5*time.Minute, n, func(i int) float64 {
				at := start.Add(time.Duration(i) * 5 * time.Minute)
				if i < 7 || i >= n-3 {
					return math.NaN() // the edges
				}
				if at.Hour() == 2 && time.Duration(at.Minute())*time.Minute < tc.gap {
					return math.NaN()
				}
				return 0.02 + 0.01*noise(i)
			})
			sched, err := detector.NewSchedule(detector.ScheduleConfig{IdleShare: tc.share})
			require.NoError(t, err)
			now := cpu.End()
			require.Equal(t, now, now.Truncate(time.Hour))
			p, err := sched.Learn(detector.Input{Now: now, Resource: res("r-night", start.Add(-time.Hour)), Series: []provider.Series{cpu}})
			require.NoError(t, err)
			first, last := p.Slot(start), p.Slot(cpu.End().Add(-time.Minute))
			require.NotZero(t, p.HoursSeen[first])
			require.NotZero(t, p.HoursSeen[last])
			for slot := range detector.HoursPerWeek {
				want := uint16(0)
				if tc.thin && slot%24 == 2 {
					want = p.HoursSeen[slot]
					require.NotZero(t, want)
				}
				if slot == first || slot == last {
					require.Equal(t, uint16(3), p.HoursSeen[slot], "slot %d", slot)
					assert.Equal(t, uint16(1), p.GapHours[slot], "edge slot %d", slot)
					assert.True(t, p.KnownIdle(slot), "edge slot %d: thin in 1 of 3 weeks", slot)
					continue
				}
				assert.Equal(t, want, p.GapHours[slot], "slot %d (first %d, last %d)", slot, first, last)
				assert.Equal(t, want == 0, p.KnownIdle(slot), "slot %d", slot)
			}
		})
	}
}
