package safety

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// Sentinel errors of the package. Functions wrap them with context; test
// with errors.Is.
var (
	// ErrBlocked means the engine refused a proposal: a rule blocked it, a
	// rule failed (error, timeout, panic, cancelled context), the proposal
	// was invalid, or it needs an approval it does not have. It is matched
	// by every *BlockedError.
	ErrBlocked = errors.New("safety: blocked")
	// ErrApprovalRequired means the proposal may go ahead only with a
	// granted approval bound to it. A *BlockedError whose decision needs
	// an approval and is not blocked by any rule matches both
	// ErrApprovalRequired and ErrBlocked.
	ErrApprovalRequired = errors.New("safety: approval required")
	// ErrRuleFailed means a rule returned an error, timed out, panicked or
	// was cancelled; the engine treats it as a block (fail closed).
	ErrRuleFailed = errors.New("safety: rule failed")
	// ErrAudit means an audit event could not be recorded: by the engine
	// (the proposal is then blocked) or by an approval.Manager (the
	// transition was stored).
	ErrAudit = errors.New("safety: audit failed")
	// ErrCycle means a dependency graph has a cycle. It is wrapped in the
	// error of the rule that found it, which blocks (fail closed).
	ErrCycle = errors.New("safety: dependency cycle")
)

// BlockedError is the error Engine.Check and Engine.Evaluate return when a
// proposal may not go ahead. It carries the whole Decision. It matches ErrBlocked, and
// ErrApprovalRequired when only a missing approval stands in the way (no
// rule blocks); its Unwrap returns the causes (rule failures, invalid
// input).
type BlockedError struct {
	// Decision is the engine's full decision (never Allowed).
	Decision Decision
}

// Error implements error: it lists the blocking rules with their reasons.
func (e *BlockedError) Error() string {
	var b strings.Builder
	b.WriteString("safety: blocked ")
	if e.Decision.Action == "" {
		b.WriteString("proposal") // the action was not a known one
	} else {
		b.WriteString(string(e.Decision.Action))
	}
	b.WriteString(" of ")
	b.WriteString(strconv.Quote(e.Decision.ResourceID))
	sep := ": "
	for _, r := range e.Decision.Blocking {
		b.WriteString(sep)
		b.WriteString(r.Rule)
		b.WriteString(": ")
		b.WriteString(r.Reason)
		sep = "; "
	}
	if e.Decision.ApprovalRequired && !e.Decision.Approved {
		b.WriteString(sep)
		b.WriteString("approval required")
		if e.Decision.ApprovalReason != "" {
			b.WriteString(" (")
			b.WriteString(e.Decision.ApprovalReason)
			b.WriteString(")")
		}
	}
	return b.String()
}

// Is reports whether target is ErrBlocked, or ErrApprovalRequired when the
// decision's Outcome is RequireApproval.
func (e *BlockedError) Is(target error) bool {
	switch target {
	case ErrBlocked:
		return true
	case ErrApprovalRequired:
		return e.Decision.Outcome == RequireApproval
	}
	return false
}

// Unwrap returns the errors of the failed rules and of invalid input, so
// errors.Is(err, context.DeadlineExceeded) or errors.As(err,
// new(*provider.InvalidError)) reach them.
func (e *BlockedError) Unwrap() []error {
	var errs []error
	for _, r := range e.Decision.Results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errs
}

// RuleError reports a rule that failed: it returned an error, did not
// answer within the engine's timeout, panicked, or saw its context end. It
// matches ErrRuleFailed and unwraps to the cause (context.DeadlineExceeded
// for a timeout, context.Canceled for a cancelled check, the rule's own
// error otherwise). A failed rule blocks, so a cause that wraps
// ErrApprovalRequired (a rule that returned another engine's error) has it
// taken out of its chain: the engine's error does not match
// ErrApprovalRequired for it; its text, the error itself (errors.Is,
// errors.As) and the rest of its chain are kept.
type RuleError struct {
	// Rule is the rule's name.
	Rule string
	// Panic holds the recovered value when the rule panicked, else nil.
	Panic any
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *RuleError) Error() string {
	if e.Panic != nil {
		return fmt.Sprintf("safety: rule %s panicked: %v", e.Rule, e.Panic)
	}
	return fmt.Sprintf("safety: rule %s failed: %v", e.Rule, e.Err)
}

// Is reports whether target is ErrRuleFailed.
func (e *RuleError) Is(target error) bool { return target == ErrRuleFailed }

// Unwrap returns the cause.
func (e *RuleError) Unwrap() error { return e.Err }

// notMade is the error of a rule's Check when the rule is a zero value,
// not made by its constructor: it has no configuration, so it fails
// rather than pass everything.
func notMade(typ, ctor string) error {
	return invalidf("rule", "safety."+typ+"{}", "was not made with "+ctor+": the zero value checks nothing")
}

// invalidf returns a *provider.InvalidError (matching provider.ErrInvalid).
func invalidf(field string, value any, reason string) error {
	return provider.Invalid(field, value, reason)
}

// IsFailure reports whether a Gate's answer (d, err), from Engine.Check or
// Evaluate or a host's Gate, is a failure rather than a refusal: a rule
// that failed, an invalid proposal, an audit that could not be recorded,
// an error that is not a block (a host Gate that could not decide), or an
// error that came with an allowed decision. A refusal (a rule blocked, an
// approval is missing: a *BlockedError of no failure) and a decision that
// is not allowed without an error are not. Both block (fail closed); only
// a failure is an error to report.
func IsFailure(d Decision, err error) bool {
	switch {
	case err == nil:
		return false
	case d.Allowed, !errors.Is(err, ErrBlocked):
		return true
	}
	return errors.Is(err, ErrRuleFailed) || errors.Is(err, ErrAudit) || errors.Is(err, provider.ErrInvalid)
}

// withoutApprovalRequired returns err with ErrApprovalRequired taken out
// of its chain, the rest kept: the cause of a failed rule (one that
// returned another engine's error, say). A failed rule blocks, and its
// error must not make the engine's *BlockedError, which unwraps to it,
// match ErrApprovalRequired, which says that only an approval is missing.
func withoutApprovalRequired(err error) error {
	if err == nil || !errors.Is(err, ErrApprovalRequired) {
		return err
	}
	return hiddenApproval{err}
}

// hiddenApproval is an error whose chain matched ErrApprovalRequired: it
// reads as the error, and unwraps to what the error wraps, without
// ErrApprovalRequired (whose match by the error's own Is is not
// consulted either).
type hiddenApproval struct{ err error }

func (h hiddenApproval) Error() string { return h.err.Error() }

// Is reports whether target is the error itself (a rule's own sentinel
// that wraps ErrApprovalRequired), which its Unwrap leaves out, or what
// the error's own Is method matches, but for ErrApprovalRequired.
func (h hiddenApproval) Is(target error) bool {
	if target == nil || target == ErrApprovalRequired { //nolint:errorlint // identity: the sentinel itself stays hidden
		return false
	}
	if m, ok := h.err.(interface{ Is(error) bool }); ok && m.Is(target) { //nolint:errorlint // the error's own Is, as errors.Is would call it
		return true
	}
	if t := reflect.TypeOf(target); t != reflect.TypeOf(h.err) || !t.Comparable() {
		return false
	}
	return target == h.err //nolint:errorlint // identity: the error itself, its chain is walked by Unwrap
}

// As sets target to the error itself when its type fits (a rule's own
// error type that wraps ErrApprovalRequired), which its Unwrap leaves
// out.
func (h hiddenApproval) As(target any) bool {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	e := v.Elem()
	if !reflect.TypeOf(h.err).AssignableTo(e.Type()) {
		return false
	}
	e.Set(reflect.ValueOf(h.err))
	return true
}

// Unwrap returns what the error wraps, ErrApprovalRequired taken out.
func (h hiddenApproval) Unwrap() []error {
	var next []error
	switch u := h.err.(type) { //nolint:errorlint // the error's own Unwrap, one level: the chain is walked here
	case interface{ Unwrap() []error }:
		next = u.Unwrap()
	case interface{ Unwrap() error }:
		next = []error{u.Unwrap()}
	}
	out := make([]error, 0, len(next))
	for _, e := range next {
		if e != nil && e != ErrApprovalRequired { //nolint:errorlint // the sentinel itself is what is left out
			out = append(out, withoutApprovalRequired(e))
		}
	}
	return out
}
