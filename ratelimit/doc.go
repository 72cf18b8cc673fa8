// Package ratelimit limits scaling and reaping events per window, per
// target and globally.
//
// Kubernetes and Karpenter limit how many replicas or nodes change at
// once; a Limiter limits how many scaling events happen: per target and
// per direction (Up, Down) at most Budget.Events events in any
// Budget.Window, at most Budget.MaxUnits units changed per event and at
// least Budget.MinInterval between events, plus an optional global budget
// across every target (Config.Global). The zero Config means the defaults:
// 5 events per hour, 3 instances per event, 300 s between events, 24 h of
// history, so that a group follows a load change within minutes while one
// wrong decision moves it by at most 3 units (the Default constants say why).
//
// The API is modelled on golang.org/x/time/rate: every decision has an
// ...At form that takes the time (ReserveAt, CancelAt, StatsAt), so that
// tests need no clock, and Wait blocks on the Limiter's Clock.
//
//	lim, err := ratelimit.New(ratelimit.Config{})
//	...
//	r, err := lim.Reserve(ctx, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 5})
//	if err != nil || !r.OK() {
//		return err // denied: r.Reason says why, r.Next says when to retry
//	}
//	want := current // the group's provider.CapacitySpec
//	want.Desired += r.Granted
//	if err := scaler.SetCapacity(ctx, "web", want); err != nil && nothingChanged(err) {
//		_ = lim.Cancel(ctx, r) // refund: the action touched nothing
//	}
//
// # Reservations
//
// A reservation is decided once, at its time At:
//
//	                Reserve(req)
//	                     │
//	      ┌──────────────┼──────────────────────┐
//	      │ within every │ units > MaxUnits     │ window full, interval not
//	      │ budget       │                      │ passed, older than MaxSkew,
//	      │              │                      │ or store failed
//	      ▼              ▼                      ▼
//	 ┌─────────┐    ┌─────────┐           ┌──────────┐
//	 │ allowed │    │ clamped │           │  denied  │  consumes nothing;
//	 └─────────┘    └─────────┘           └──────────┘  retry at Next
//	      │  one event of Granted units │
//	      └──────────────┬──────────────┘
//	                     │ recorded in the history (consumes budget)
//	            Cancel   │   action done, or kept
//	      ┌──────────────┴──────────────┐
//	      ▼                             ▼
//	┌───────────┐                  ┌─────────┐  counts against the window
//	│ refunded  │ event removed:   │ counted │  and the interval until it
//	└───────────┘ counts nothing   └─────────┘  leaves them; pruned after
//	                                             Config.History
//
// Allowed and Clamped consume budget: one event (against Events and
// MinInterval) whatever the number of units. Denied consumes nothing.
// Cancel refunds a granted reservation completely; call it only when the
// action failed before it changed anything, since a partly applied change
// should count.
//
// # Directions
//
// A target has a bucket per direction, Up and Down, each with its budget
// (Config.Up, Config.Down, Config.Targets), and every event also goes to
// the global bucket when a global budget is set. A change whose
// direction is not known (a resize to another instance type whose vCPUs
// and memory are not known on both sides) reserves with Direction Both:
// one event that must fit the target's Up budget and its Down budget, so
// that counting it in the wrong one never lets the other be exceeded. It
// is clamped to the smaller MaxUnits, recorded in both of the target's
// buckets (a later change either way waits out its interval and counts
// it in its window; Stats shows it in each) and counted once in the
// global bucket, and Cancel refunds it from all of them. Two
// reservations, Up then Down at the same time, would be two events: the
// global bucket would count the change twice, and a global MinInterval
// (or Events of 1) would always deny the second. A stored event of Both
// reads as "dir":"both": a replica of a version before Both, sharing the
// store, finds its buckets corrupt and fails closed until the event
// leaves their histories. Since, a store reads an event of a direction it
// does not know (one a later version adds) as an event of the bucket that
// holds it: it counts against that bucket's budget like any other, and is
// written back as it was read, so that a rolling upgrade neither fails
// reservations nor loses the newer replicas' events (etcdstore does so).
//
// # Time order
//
// Reservations need not come in time order: replicas' clocks disagree a
// little, and a run may reserve with a now taken at its start. The rules
// are checked around now, not only before it: no event of the bucket
// closer than MinInterval on either side, and no Window that contains now
// and already holds Events events, whichever side of now they lie on.
// The invariant is that a bucket never holds more than Events events in
// any Window, nor two events closer than MinInterval, in whatever order
// the reservations came. To check a reservation stamped before the newest
// one, every bucket keeps its events for Config.MaxSkew (default 15m)
// beyond what its rules look at, measured from its horizon, the time of
// its newest reservation (History.Horizon, kept even when that
// reservation is cancelled). A reservation stamped more than MaxSkew
// before the horizon is denied with ReasonSkew, and Next says from when
// it can be decided: its window may have been pruned. A replica whose
// clock runs ahead therefore moves the horizon for all: the others are
// denied until their clocks are within MaxSkew of it (fail closed).
//
// # Stores and replicas
//
// The history lives in a Store. MemoryStore serves one process (and
// drops the buckets of targets that left once no reservation can look at
// them, so that targets that come and go do not grow it, and denies with
// ReasonSkew a reservation stamped so long before that a dropped bucket
// could have refused it); the
// subpackage etcdstore shares the history between replicas on etcd with
// compare-and-swap transactions, so that N replicas together never exceed
// the budget. A store error fails closed: the reservation is denied with
// ReasonStore and the error (a *StoreError matching ErrStore) is returned
// and logged. A store error that follows a write whose reply was lost may
// leave that event counted: the budget is then consumed, never exceeded.
//
// # Replicas that disagree
//
// Every Limiter on a shared Store must run the same Config: each decides
// by its own budgets on the shared history, so a replica with a looser
// Config (more events, a shorter window or interval, larger units, no
// global budget) lets the fleet run at its limit, and one with a shorter
// History prunes events the others' windows still count. WithPeers gives
// a Limiter the Configs of the other live replicas (ratelimit/etcdstore's
// ConfigCheck reads them from etcd, where each replica publishes its
// own): it then decides by the strictest of them and its own, rule by
// rule: an event must fit every one's events per window and interval,
// its units are clamped to the smallest MaxUnits, it is counted in the
// global bucket when any of them sets a global budget, and a bucket keeps
// its events for the longest of their histories. Every replica that does
// so holds the fleet to the strictest budget of any live replica, and to
// the new one once the last replica with the old one has left: a rolling
// deploy that loosens the budgets takes effect when it ends, one that
// tightens them at its first replica, and nothing is denied that every
// replica's own budget allows. Stats shows the Limiter's own budgets
// (BucketStats.Budget), and what remains and when the next event is
// allowed by the strictest, as ReserveAt decides. (Failing closed, denying every reservation while the replicas
// disagree, would stop all scaling for the minutes a rolling deploy
// takes.)
//
// Limiter is safe for simultaneous use; so are both stores.
package ratelimit
