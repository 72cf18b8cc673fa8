package monitor

import "context"

// backfillKey is the context key of WithBackfill's mark.
type backfillKey struct{}

// WithBackfill returns a copy of ctx that marks the events recorded with
// it (Log.Record, and through it each Sink's Write) as history read back,
// not events happening now: an audit trail imported from its start.
// ImportAudit with a zero since and ImportAuditAfter from revision 0
// record with it; a host that imports history another way (a bounded
// since at start-up) passes it itself. An alert.Alerter opens no alert
// for a backfilled match already quiet for its rule's ResolveAfter on its
// clock: it is over, and the next evaluation would resolve it, a page and
// a resolution for nothing. Events recorded without it always count as
// happening now, however old their time (a reaper stamps a run's events
// with the time it started, and a run may take hours).
func WithBackfill(ctx context.Context) context.Context {
	return context.WithValue(ctx, backfillKey{}, true)
}

// IsBackfill reports whether ctx carries WithBackfill's mark.
func IsBackfill(ctx context.Context) bool {
	b, _ := ctx.Value(backfillKey{}).(bool)
	return b
}
