package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// rateAt returns the hourly cost at t (the baseline before the first
// change).
func (tl *timeline) rateAt(t time.Time) float64 {
	rate := tl.baseline
	for _, c := range tl.changes {
		if c.at.After(t) {
			break
		}
		rate = c.rate
	}
	return rate
}

// The charts' sweep gives what measuring every timeline at every point
// gives (the charts' first version): random changes, failed
// verifications, restarts the inventory shows, changes on the grid's
// points and between them, grids that start before the first change and
// after the last.
func TestSweepMatchesEveryPoint(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	at := func(q int) time.Time { return t0.Add(time.Duration(q) * 15 * time.Minute) }
	r := rand.New(rand.NewPCG(3, 9))
	for trial := range 500 {
		var evs []monitor.Event
		var inv []provider.Resource
		for id := range 1 + r.IntN(5) {
			name := fmt.Sprintf("r-%d", id)
			q := r.IntN(20)
			for range 1 + r.IntN(6) {
				cost := func() float64 { return float64(r.IntN(4)) / 10 }
				if r.IntN(4) == 0 {
					evs = append(evs, monitor.Event{Time: at(q), Kind: monitor.KindVerification, ResourceID: name, Outcome: monitor.OutcomeFailed})
				} else {
					evs = append(evs, monitor.Event{Time: at(q), Kind: monitor.KindAction, ResourceID: name, Action: safety.ActionStop,
						Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: cost(), After: cost()}})
				}
				q += r.IntN(12)
			}
			if r.IntN(2) == 0 {
				inv = append(inv, provider.Resource{ID: name, State: provider.StateRunning, HourlyCost: 0.3, LaunchTime: at(r.IntN(60))})
			}
		}
		from, now := at(r.IntN(30)-5), at(30+r.IntN(40))
		step := time.Duration(1+r.IntN(8)) * 15 * time.Minute / time.Duration(1+r.IntN(2))
		tls := timelines(evs, now, inventory(inv))
		sav := SavingsChart(evs, inv, from, now, step)
		cost := CostChart(evs, inv, from, now, step)
		for i, tt := range sav.Times {
			var saved, without, with float64
			for _, tl := range tls {
				without += tl.baseline
				with += tl.rateAt(tt)
				if !tt.Before(tl.changes[0].at) {
					saved += tl.realised(tt).Saved
				}
			}
			for _, c := range []struct {
				name      string
				want, got float64
			}{
				{"saved", saved, sav.Series[0].Values[i]},
				{"without", without, cost.Series[0].Values[i]},
				{"with", with, cost.Series[1].Values[i]},
			} {
				if math.Abs(c.want-c.got) > 1e-9 {
					t.Fatalf("trial %d, point %d (%v): %s %v, measured point by point %v", trial, i, tt, c.name, c.got, c.want)
				}
			}
		}
	}
}
