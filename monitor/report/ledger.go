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
}

// ledgerEntry is one resource: the folded sum of its oldest items and its
// newest ones as they are, sorted by time (stably: items of one time keep
// the order they were added in).
type ledgerEntry struct {
	fold    ledgerFold
	horizon time.Time // the newest folded item's time
	folded  bool      // an item has been folded
	recent  []ledgerItem
}

// ledgerFold is a resource's timeline folded up to its latest change:
// what the timeline's realised measure sums, in one pass.
type ledgerFold struct {
	started  bool // a change has been applied
	baseline float64
	saved    float64   // over the periods that ended, up to at
	at       time.Time // the latest change
	rate     float64   // hourly cost from at
	prev     float64   // hourly cost before at, for a failed verification
}

// apply applies it, as timelinesOf and realised do: a change ends the
// period of the one before it; a failed verification puts back the cost
// before the latest change. A failed verification before any change is
// ignored.
func (f *ledgerFold) apply(it ledgerItem) {
	switch {
	case it.failed:
		if f.started {
			f.rate = f.prev
		}
	case !f.started:
		*f = ledgerFold{started: true, baseline: it.before, at: it.at, rate: it.after, prev: it.before}
	default:
		f.saved += (f.baseline - f.rate) * it.at.Sub(f.at).Hours()
		f.prev, f.at, f.rate = f.rate, it.at, it.after
	}
}

// savedAt is the saving of the folded timeline at now, not before its
// latest change.
func (f ledgerFold) savedAt(now time.Time) float64 {
	if !f.started {
		return 0
	}
	s := f.saved
	if now.After(f.at) {
		s += (f.baseline - f.rate) * now.Sub(f.at).Hours()
	}
	return s
}

// Add adds e when it is an executed change with costs (as Build counts
// them) or a failed verification, and ignores any other event. It reports
// false when e is older than the changes already folded for its resource
// (see Ledger).
func (l *Ledger) Add(e monitor.Event) bool {
	var it ledgerItem
	switch {
	case changes(e):
		it = ledgerItem{at: e.Time, before: e.Cost.Before, after: e.Cost.After}
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
	for i > 0 && en.recent[i-1].at.After(it.at) {
		i--
	}
	en.recent = append(en.recent, ledgerItem{})
	copy(en.recent[i+1:], en.recent[i:])
	en.recent[i] = it
	if len(en.recent) > LedgerWindow {
		old := en.recent[0]
		en.fold.apply(old)
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
			f.apply(it)
		}
		total += f.savedAt(now)
	}
	return total
}

// Resources returns how many resources the ledger holds: those with a
// change or a failed verification added.
func (l *Ledger) Resources() int { return len(l.byID) }
