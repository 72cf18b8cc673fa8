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
// converted by FromAudit. It returns how many it recorded and the time of
// the newest, to pass as since next time (events at exactly that time are
// then read again: the caller drops what it has, by time and content, or
// accepts the repeat). An error from src records nothing. An event that
// is not valid (Event.Validate: an action a newer version wrote) is left
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
	evs := make([]Event, 0, len(audit))
	var refused []error
	newest = since
	for i, a := range audit {
		if a.Time.After(newest) {
			newest = a.Time
		}
		e := FromAudit(a)
		if err := e.Validate(); err != nil {
			refused = append(refused, provider.Within("events["+strconv.Itoa(i)+"]", err))
			continue
		}
		evs = append(evs, e)
	}
	if err := r.Record(ctx, evs...); err != nil {
		return len(evs), newest, fmt.Errorf("monitor: import audit trail: %w", errors.Join(append(refused, err)...))
	}
	if len(refused) > 0 {
		return len(evs), newest, fmt.Errorf("monitor: import audit trail: %d of %d events refused: %w",
			len(refused), len(audit), errors.Join(refused...))
	}
	return len(evs), newest, nil
}
