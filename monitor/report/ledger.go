package report

import (
	"time"

	"github.com/idlescale/idlescale/monitor"
)

// LedgerWindow is how many of a resource's newest changes and failed
// verifications a Ledger keeps as they are. Older ones are folded into a
// running sum.
const LedgerWindow = 16

// Ledger measures realised savings as events arrive: Saved(now) is the
// Totals.RealisedSavings of a report built at now from every event added
// (without an inventory, so a restart counts only when it is recorded as
// a change). Its memory grows with the resources changed, not with their
// changes, and Saved costs one pass over those resources. It is what a
// long-running host reads on every scrape (package monitor/metrics does).
//
// Add takes events in any order, as Build does, within a resource's
// newest LedgerWindow changes and failed verifications; older ones are
// folded. An event older than the ones already folded for its resource
// cannot be placed among them: Add counts it from the newest folded
// one's time and reports false. Folded events count whether or not they
// are after the now Saved is given.
//
// The zero Ledger is empty and ready to use. A Ledger is not safe for
// concurrent use.
type Ledger struct {
	byID map[string]*ledgerEntry
}

// ledgerItem is a change (before and after are its hourly costs) or a
// failed verification.
type ledgerItem struct {
	at            time.Time
	before, after float64
	failed        bool
	ran           bool      // the change found the resource running (ranBefore)
	since         time.Time // since when (Cost.RunningSince), when known
}

// fold applies it to f, and before it the restart it implies when f's
// latest change left the resource costing nothing and it found it running
// (as timelinesOf does).
func (it ledgerItem) fold(f *costFold) {
	if !it.failed && it.ran && f.started && f.rate == 0 {
		f.apply(restartedAt(f.since, it.at, it.since), 0, it.before, false)
	}
	f.apply(it.at, it.before, it.after, it.failed)
}

// ledgerEntry is one resource: the folded sum of its oldest items and its
// newest ones as they are, sorted as byCostTime sorts events (stably:
// items of one time keep the order they were added in, but a change goes
// before a failed verification).
type ledgerEntry struct {
	fold    costFold
	horizon time.Time // the newest folded item's time
	folded  bool      // an item has been folded
	recent  []ledgerItem
}

// Add adds e when it is an executed change with costs (as Build counts
// them) or a failed verification, and ignores any other event. It reports
// false when e is older than the changes already folded for its resource
// (see Ledger).
func (l *Ledger) Add(e monitor.Event) bool {
	var it ledgerItem
	switch {
	case changes(e):
		it = ledgerItem{at: e.Time, before: e.Cost.Before, after: e.Cost.After, ran: ranBefore(e), since: e.Cost.RunningSince}
	case failedVerification(e):
		it = ledgerItem{at: e.Time, failed: true}
	default:
		return true
	}
	if l.byID == nil {
		l.byID = map[string]*ledgerEntry{}
	}
	en := l.byID[e.ResourceID]
	if en == nil {
		en = &ledgerEntry{recent: make([]ledgerItem, 0, 2)}
		l.byID[e.ResourceID] = en
	}
	placed := true
	if en.folded && it.at.Before(en.horizon) {
		it.at, placed = en.horizon, false
	}
	i := len(en.recent)
	for i > 0 && (en.recent[i-1].at.After(it.at) ||
		!it.failed && en.recent[i-1].failed && en.recent[i-1].at.Equal(it.at)) {
		i--
	}
	en.recent = append(en.recent, ledgerItem{})
	copy(en.recent[i+1:], en.recent[i:])
	en.recent[i] = it
	if len(en.recent) > LedgerWindow {
		old := en.recent[0]
		old.fold(&en.fold)
		en.horizon, en.folded = old.at, true
		en.recent = append(en.recent[:0], en.recent[1:]...)
	}
	return placed
}

// Saved returns the realised savings at now: the sum over the resources
// of what Realised.Saved measures. Changes after now do not count yet,
// except folded ones (see Ledger).
func (l *Ledger) Saved(now time.Time) float64 {
	total := 0.0
	for _, en := range l.byID {
		f := en.fold
		for _, it := range en.recent {
			if it.at.After(now) {
				break
			}
			it.fold(&f)
		}
		_, saved := f.at(now)
		total += saved
	}
	return total
}

// Resources returns how many resources the ledger holds: those with a
// change or a failed verification added.
func (l *Ledger) Resources() int { return len(l.byID) }
