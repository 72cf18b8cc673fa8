package monitor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// errNoRecorder is the error of an adapter given no recorder.
var errNoRecorder = errors.New("monitor: no recorder")

// FromAudit converts an audit event of the safety engine or the approval
// manager into an Event: a decision becomes KindDecision (or KindBlocked
// when its outcome is block) from SourceSafety; an approval transition
// becomes KindApproval from SourceApproval with the new state as Outcome.
func FromAudit(a safety.AuditEvent) Event {
	e := Event{
		Time:       a.Time,
		Kind:       KindDecision,
		Source:     SourceSafety,
		ResourceID: a.ResourceID,
		Action:     a.Action,
		Outcome:    string(a.Outcome),
		Reason:     a.Reason,
		Actor:      a.Actor,
		Ref:        a.ProposalID,
		ApprovalID: a.ApprovalID,
		Rules:      append([]string(nil), a.Rules...),
		Risk:       a.Risk,
	}
	switch {
	case a.Kind != safety.AuditDecision && a.Kind != "":
		e.Kind, e.Source, e.Outcome = KindApproval, SourceApproval, a.To
	case a.Outcome == safety.Block:
		e.Kind = KindBlocked
	}
	return e
}

// Auditor returns a safety.Auditor that records every audit event it is
// given in r (converted by FromAudit), so that the safety engine's
// decisions and the approval manager's transitions are in the event log:
//
//	eng, _ := safety.New(cfg, rules, safety.WithAuditor(monitor.Auditor(log)))
//
// Its error is r's: an invalid event, or a sink that failed (the event is
// then in the log and its sink's backlog, but the engine, failing closed,
// blocks the proposal); without r (nil, or a nil *Log) every call's error
// says so. To keep the etcd audit trail too, record in both
// (a safety.AuditorFunc calling each).
func Auditor(r Recorder) safety.Auditor {
	if check.Nil(r) {
		return safety.AuditorFunc(func(context.Context, safety.AuditEvent) error { return errNoRecorder })
	}
	return safety.AuditorFunc(func(ctx context.Context, ev safety.AuditEvent) error {
		return r.Record(ctx, FromAudit(ev))
	})
}

// AuditSource reads an audit trail back: *etcdaudit.Log (package
// safety/etcdaudit) implements it. Events returns the events with Time at
// or after since (all of them for the zero time), in the order they were
// recorded; it must honour ctx.
type AuditSource interface {
	Events(ctx context.Context, since time.Time) ([]safety.AuditEvent, error)
}

// AuditSourceFunc adapts a function to an AuditSource.
type AuditSourceFunc func(ctx context.Context, since time.Time) ([]safety.AuditEvent, error)

// Events calls f(ctx, since).
func (f AuditSourceFunc) Events(ctx context.Context, since time.Time) ([]safety.AuditEvent, error) {
	return f(ctx, since)
}

var _ AuditSource = AuditSourceFunc(nil)

// ImportAudit reads the audit events at or after since from src (such as
// the etcd audit trail every replica shares) and records them in r,
// converted by FromAudit. With a zero since it reads the whole trail,
// history: it records with WithBackfill, so that an alert.Alerter among
// r's sinks pages for no block already older than its rule's quiet time.
// It returns how many it recorded and the time of
// the newest, to pass as since next time (events at exactly that time are
// then read again: the caller drops what it has, by time and content, or
// accepts the repeat). An event committed after this call but stamped
// before that newest time (a run's now, another replica's clock) is then
// never read: to follow a trail, use ImportAuditAfter. An error from src records nothing. An event that
// is not valid (Event.Validate: an action or risk a newer version wrote),
// of a kind this version does not know, or a decision whose outcome it
// does not know, is left
// out and reported by its place in the batch ("events[2].action"), the
// others being recorded: no retry would record it. An error from r is
// returned with the count of the batch it concerned. A nil r or src is an
// error, with since returned as it is.
func ImportAudit(ctx context.Context, r Recorder, src AuditSource, since time.Time) (n int, newest time.Time, err error) {
	switch {
	case check.Nil(r):
		return 0, since, fmt.Errorf("monitor: import audit trail: %w", errNoRecorder)
	case check.Nil(src):
		return 0, since, errors.New("monitor: import audit trail: no audit source")
	}
	audit, err := src.Events(ctx, since)
	if err != nil {
		return 0, since, fmt.Errorf("monitor: read audit trail: %w", err)
	}
	newest = since
	for _, a := range audit {
		if a.Time.After(newest) {
			newest = a.Time
		}
	}
	if since.IsZero() {
		ctx = WithBackfill(ctx)
	}
	n, err = recordAudit(ctx, r, audit)
	return n, newest, err
}

// AuditRevisions reads an audit trail back in commit order:
// *etcdaudit.Log (package safety/etcdaudit) implements it. EventsAfter
// returns the events committed after revision rev (all of them for 0), in
// that order, and the revision to pass next time; it must honour ctx.
type AuditRevisions interface {
	EventsAfter(ctx context.Context, rev int64) ([]safety.AuditEvent, int64, error)
}

// ImportAuditAfter is ImportAudit with a revision for its cursor: it
// records in r the events src committed after rev (all of them for 0) and
// returns how many it recorded and the revision to pass next time. An
// importer that runs again and again (a dashboard following the trail
// every replica shares) should use it: ImportAudit's cursor, the newest
// event's time, misses for good an event committed after an import but
// stamped before its newest (a reaper run stamps its decisions with the
// time it started; another replica's clock may be behind), which a
// revision does not. Errors are ImportAudit's; next is rev when src
// fails. An *etcdaudit.Log refuses a rev ahead of its store's (etcd
// restored from an older snapshot) with an error matching
// etcdaudit.ErrRevisionAhead: retrying with the same rev would skip what
// the store commits until it reaches it, so start again from 0.
func ImportAuditAfter(ctx context.Context, r Recorder, src AuditRevisions, rev int64) (n int, next int64, err error) {
	switch {
	case check.Nil(r):
		return 0, rev, fmt.Errorf("monitor: import audit trail: %w", errNoRecorder)
	case check.Nil(src):
		return 0, rev, errors.New("monitor: import audit trail: no audit source")
	}
	audit, next, err := src.EventsAfter(ctx, rev)
	if err != nil {
		return 0, rev, fmt.Errorf("monitor: read audit trail: %w", err)
	}
	if rev == 0 {
		ctx = WithBackfill(ctx) // the whole trail: history (see ImportAudit)
	}
	n, err = recordAudit(ctx, r, audit)
	return n, next, err
}

// recordAudit records audit in r, converted by FromAudit, leaving out the
// events that are not valid (reported by their place in the batch), and
// returns how many it recorded.
func recordAudit(ctx context.Context, r Recorder, audit []safety.AuditEvent) (int, error) {
	evs := make([]Event, 0, len(audit))
	var refused []error
	for i, a := range audit {
		e := FromAudit(a)
		err := e.Validate()
		if a.Kind != "" {
			// A kind a newer version wrote is no approval transition,
			// which FromAudit would make it.
			err = errors.Join(a.Kind.Validate(), err)
		}
		if a.Kind == safety.AuditDecision || a.Kind == "" {
			// An outcome a newer version wrote is no decision this one
			// counts (pass, require_approval, block): left out as an
			// unknown action or risk is, not passed on as text.
			err = errors.Join(a.Outcome.Validate(), err)
		}
		if err != nil {
			refused = append(refused, provider.Within("events["+strconv.Itoa(i)+"]", err))
			continue
		}
		evs = append(evs, e)
	}
	if err := r.Record(ctx, evs...); err != nil {
		return len(evs), fmt.Errorf("monitor: import audit trail: %w", errors.Join(append(refused, err)...))
	}
	if len(refused) > 0 {
		return len(evs), fmt.Errorf("monitor: import audit trail: %d of %d events refused: %w",
			len(refused), len(audit), errors.Join(refused...))
	}
	return len(evs), nil
}
