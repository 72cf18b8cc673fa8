package safety

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Option wires a collaborator into an Engine: an approval verifier, an
// auditor, a logger, or the names of rules the host vouches for as
// non-blocking. Behaviour is configured by Config.
type Option func(*Engine)

// WithApprovals lets proposals that need approval go ahead when they carry
// the ID of a granted approval bound to them, as v says (Verify). An
// *approval.Manager of package safety/approval is the usual v. Without
// it, every proposal that needs approval is refused with
// ErrApprovalRequired. New fails for a nil ApprovalVerifierFunc.
func WithApprovals(v ApprovalVerifier) Option { return func(e *Engine) { e.approvals = v } }

// WithAuditor records an AuditDecision event for every Check (not for
// Evaluate or Preview). If recording fails the proposal is blocked.
// Default: none. New fails for a nil AuditorFunc or a nil pointer (such
// as a nil *AuditLog), whose every Record would panic.
func WithAuditor(a Auditor) Option { return func(e *Engine) { e.auditor = a } }

// WithInline marks the named rules as non-blocking (see Inliner): the
// engine runs them on the calling goroutine, without a goroutine and not
// subject to Config.Timeout. Use it for rules whose sources the host knows
// are in memory (a BackupCatalog over a map, a health check reading an
// atomic flag); a rule named here that blocks makes Check block. New fails
// with provider.ErrInvalid for a name that is not one of its rules.
//
// It is an option rather than a Config field because it states a fact
// about the collaborators wired into this engine (what a rule's Inliner
// method would say), not a policy: no decision depends on it, only where a
// rule runs.
func WithInline(names ...string) Option {
	return func(e *Engine) { e.inlineNames = append(e.inlineNames, names...) }
}

// WithLogger sets the logger for rule failures. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// Engine runs rules over proposals and combines their results into one
// Decision. It fails closed: a rule that errors, times out, panics or sees
// its context end blocks the proposal; an approval verifier that errors or
// panics leaves it waiting for approval, and an auditor that does blocks
// it. An Engine is safe for concurrent
// use and holds no per-check state; it starts goroutines only inside a
// call (a rule that ignores its context keeps its goroutine until it
// returns, but the call does not wait for it).
type Engine struct {
	rules     []Rule
	names     []string
	inline    []int // indexes of rules that run on the caller's goroutine
	async     []int // indexes of rules that run on worker goroutines
	cfg       Config
	approvals ApprovalVerifier
	auditor   Auditor
	logger    *slog.Logger

	inlineNames []string // from WithInline
}

// New returns an Engine for cfg running rules in order. It fails with an
// error matching provider.ErrInvalid, naming the field, when cfg is
// invalid, rules is empty and cfg.AllowNoRules is not set (an engine
// without rules allows everything), a rule is nil (including a nil
// RuleFunc, a nil pointer such as a nil *BackupRule, or Named around one),
// two rules share a name, WithInline names no rule, or an option wires a
// nil Func adapter. It starts no goroutine.
func New(cfg Config, rules []Rule, opts ...Option) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("safety.New: %w", err)
	}
	e := &Engine{rules: slices.Clone(rules), cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(e)
	}
	if e.auditor != nil && isNilSource(e.auditor) {
		return nil, fmt.Errorf("safety.New: %w", invalidf("auditor", nil, "must not be a nil AuditorFunc or a nil pointer (leave WithAuditor out for none)"))
	}
	if e.approvals != nil && isNilFunc(e.approvals) {
		return nil, fmt.Errorf("safety.New: %w", invalidf("approvals", nil, "must not be a nil ApprovalVerifierFunc"))
	}
	if len(rules) == 0 && !cfg.AllowNoRules {
		return nil, fmt.Errorf("safety.New: %w", invalidf("rules", 0, "must not be empty: an engine without rules allows everything (set Config.AllowNoRules to mean that)"))
	}
	if e.logger == nil {
		e.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	seen := make(map[string]bool, len(rules))
	for i, r := range e.rules {
		if isNilRule(r) {
			return nil, fmt.Errorf("safety.New: %w", invalidf("rules["+strconv.Itoa(i)+"]", nil, "must not be nil"))
		}
		name := "rule[" + strconv.Itoa(i) + "]"
		if n, ok := r.(Namer); ok && n.Name() != "" {
			name = n.Name()
		}
		if seen[name] {
			return nil, fmt.Errorf("safety.New: %w", invalidf("rules["+strconv.Itoa(i)+"].name", name, "must be unique"))
		}
		seen[name] = true
		e.names = append(e.names, name)
		if in, ok := r.(Inliner); (ok && in.Inline()) || slices.Contains(e.inlineNames, name) {
			e.inline = append(e.inline, i)
		} else {
			e.async = append(e.async, i)
		}
	}
	for i, n := range e.inlineNames {
		if !slices.Contains(e.names, n) {
			return nil, fmt.Errorf("safety.New: %w", invalidf("inline["+strconv.Itoa(i)+"]", n, "must name one of the rules "+strings.Join(e.names, ", ")))
		}
	}
	return e, nil
}

// Rules returns the names of the engine's rules, in order.
func (e *Engine) Rules() []string { return slices.Clone(e.names) }

// Evaluate decides p without side effects: it validates p, runs every
// rule (up to Config.Concurrency at once, within Config.Timeout; inline
// rules on the calling goroutine meanwhile), combines the results, and
// checks p.ApprovalID with the ApprovalVerifier when approval is
// required. It records nothing and consumes no approval. It returns the
// decision and d.Err(): nil when allowed, else a *BlockedError (matching
// ErrBlocked, and ErrApprovalRequired when only an approval is missing)
// that unwraps to failed rules' errors and to provider.ErrInvalid for an
// invalid proposal.
//
// The engine has three ways to decide:
//
//   - Evaluate: one proposal, nothing recorded. Use it to ask "would this
//     be allowed?" (a dry run, a plan being built).
//   - Check: Evaluate, then an AuditDecision event for the auditor; a
//     decision that cannot be recorded blocks. Use it as the gate right
//     before acting.
//   - Preview: Evaluate for a batch, concurrently, with counts per outcome
//     and per blocking rule; nothing recorded.
//
// None of them consumes an approval: the host does that (for example with
// approval.Manager.Execute) right before it acts.
func (e *Engine) Evaluate(ctx context.Context, p Proposal) (Decision, error) {
	d := e.evaluate(ctx, p)
	return d, d.Err()
}

// Check is the gate before a mutation: it decides p as Evaluate does and
// records the decision with the auditor (WithAuditor). If the auditor
// fails, the decision is blocked by an "audit" result whose error matches
// ErrAudit. It returns the decision and d.Err(), as Evaluate does.
func (e *Engine) Check(ctx context.Context, p Proposal) (Decision, error) {
	d := e.evaluate(ctx, p)
	if e.auditor != nil {
		if err := e.record(ctx, decisionEvent(p, d)); err != nil {
			d.Results = append(d.Results, Result{
				Rule: "audit", Outcome: Block, Risk: RiskHigh,
				Reason: "the decision could not be recorded",
				Err:    fmt.Errorf("%w: %w", ErrAudit, err),
			})
			d = combine(p, d.Results, e.cfg.ApprovalRisk)
		}
	}
	return d, d.Err()
}

// record records ev with the auditor; an auditor that panics has not
// recorded it.
func (e *Engine) record(ctx context.Context, ev AuditEvent) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("auditor panicked: %v", v)
		}
	}()
	return e.auditor.Record(ctx, ev)
}

// verify asks the approval verifier whether p may go ahead under its
// approval; a verifier that panics has not verified it.
func (e *Engine) verify(ctx context.Context, p Proposal) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("the approval verifier panicked: %v", v)
		}
	}()
	return e.approvals.Verify(ctx, p.ApprovalID, p)
}

func decisionEvent(p Proposal, d Decision) AuditEvent {
	return AuditEvent{
		Time: p.Now, Kind: AuditDecision, Actor: p.Requester,
		ResourceID: p.Resource.ID, Action: d.Action, ProposalID: p.ID,
		ApprovalID: p.ApprovalID, Outcome: d.Outcome, Risk: d.Risk,
		Rules: d.BlockingRules(), Reason: d.Summary(),
	}
}

// evaluate decides p: no side effects.
func (e *Engine) evaluate(ctx context.Context, p Proposal) Decision {
	if err := p.Validate(); err != nil {
		return e.finish(ctx, p, []Result{{
			Rule: "proposal", Outcome: Block, Risk: RiskHigh,
			Reason: err.Error(), Err: err,
		}})
	}
	return e.finish(ctx, p, e.run(ctx, p))
}

func (e *Engine) finish(ctx context.Context, p Proposal, results []Result) Decision {
	d := combine(p, results, e.cfg.ApprovalRisk)
	if d.ApprovalRequired && len(d.Blocking) == 0 {
		d.Fingerprint = p.Fingerprint()
	}
	if d.ApprovalRequired && len(d.Blocking) == 0 && p.ApprovalID != "" {
		if e.approvals == nil {
			d.ApprovalReason += "; approval " + strconv.Quote(p.ApprovalID) + " not checked: the engine has no approval verifier"
			return d
		}
		if err := e.verify(ctx, p); err != nil {
			d.ApprovalReason += "; approval " + strconv.Quote(p.ApprovalID) + " not valid: " + err.Error()
			return d
		}
		d.Approved, d.Allowed, d.Outcome = true, true, Pass
	}
	return d
}

type indexed struct {
	i   int
	res Result
}

// run runs the rules and returns their results, failing closed. Rules
// that may block run on up to Config.Concurrency goroutines; inline rules
// run meanwhile on the calling goroutine.
func (e *Engine) run(parent context.Context, p Proposal) []Result {
	n := len(e.rules)
	results := make([]Result, n)
	if len(e.async) == 0 {
		for _, i := range e.inline {
			results[i] = e.runOne(parent, i, p)
		}
		return results
	}
	ctx, cancel := context.WithTimeoutCause(parent, e.cfg.Timeout, errTimedOut)
	defer cancel()
	async := e.async
	ch := make(chan indexed, len(async))
	var next atomic.Int32
	work := func() {
		for {
			k := int(next.Add(1)) - 1
			if k >= len(async) || ctx.Err() != nil {
				return // after a timeout or cancel the remaining rules are failed by the caller
			}
			ch <- indexed{async[k], e.runOne(ctx, async[k], p)}
		}
	}
	for range min(e.cfg.Concurrency, len(async)) {
		go work()
	}
	for _, i := range e.inline {
		results[i] = e.runOne(parent, i, p) // not subject to the timeout
	}
	// A result's Rule is set once it is in (runOne and failed set it).
	for got := 0; got < len(async); got++ {
		select {
		case r := <-ch:
			results[r.i] = r.res
		case <-ctx.Done():
			// Take what has arrived, then fail the rest.
			for drained := false; !drained; {
				select {
				case r := <-ch:
					results[r.i] = r.res
				default:
					drained = true
				}
			}
			cause := ctx.Err()
			if parent.Err() != nil {
				cause = parent.Err()
			}
			for _, i := range async {
				if results[i].Rule == "" {
					results[i] = e.failed(ctx, i, nil, cause)
				}
			}
			return results
		}
	}
	return results
}

// runOne runs rule i, turning an error, panic, invalid result or ended
// context into a blocking result.
func (e *Engine) runOne(ctx context.Context, i int, p Proposal) (res Result) {
	defer func() {
		if v := recover(); v != nil {
			res = e.failed(ctx, i, v, fmt.Errorf("panic: %v", v))
		}
	}()
	if err := ctx.Err(); err != nil {
		return e.failed(ctx, i, nil, err)
	}
	res, err := e.rules[i].Check(ctx, p)
	switch {
	case ctx.Err() != nil && err == nil:
		// An answer given after the context ended is not trusted.
		return e.failed(ctx, i, nil, ctx.Err())
	case err != nil:
		return e.failed(ctx, i, nil, err)
	}
	// Unset means Pass and RiskNone; anything else must be known.
	if res.Outcome == "" {
		res.Outcome = Pass
	}
	if res.Risk == "" {
		res.Risk = RiskNone
	}
	if err := res.Outcome.Validate(); err != nil {
		return e.failed(ctx, i, nil, fmt.Errorf("returned outcome %q: %w", string(res.Outcome), err))
	}
	if err := res.Risk.Validate(); err != nil {
		return e.failed(ctx, i, nil, fmt.Errorf("returned risk %q: %w", string(res.Risk), err))
	}
	res.Rule = e.names[i]
	res.Err = nil
	if res.Outcome != Pass && res.Reason == "" {
		res.Reason = "no reason given"
	}
	return res
}

// errTimedOut is the cause of the context of a check's rules when the
// engine's own timeout (Config.Timeout) ended it.
var errTimedOut = errors.New("safety: rule timeout")

// failed returns the blocking result of rule i, which failed with cause
// (or panicked) running under ctx. Its reason says what stopped it: only
// the engine's timeout is "timed out after" Config.Timeout; the caller's
// deadline or cancellation ends the check; a context error of the rule's
// own (its source's timeout) is the rule's failure.
func (e *Engine) failed(ctx context.Context, i int, panicked any, cause error) Result {
	name := e.names[i]
	re := &RuleError{Rule: name, Panic: panicked, Err: withoutApprovalRequired(cause)}
	reason := "rule failed: " + cause.Error()
	switch ended := ctx.Err() != nil; {
	case panicked != nil:
		reason = fmt.Sprintf("rule panicked: %v", panicked)
	case ended && errors.Is(cause, context.DeadlineExceeded) && errors.Is(context.Cause(ctx), errTimedOut):
		reason = "rule timed out after " + e.cfg.Timeout.String()
	case ended && errors.Is(cause, context.DeadlineExceeded):
		reason = "the check's deadline passed before the rule answered"
	case ended && errors.Is(cause, context.Canceled):
		reason = "check cancelled before the rule answered"
	}
	e.logger.Warn("safety rule failed; blocking", "rule", name, "err", re)
	return Result{Rule: name, Outcome: Block, Risk: RiskHigh, Reason: reason, Err: re}
}

// combine merges results into a Decision.
func combine(p Proposal, results []Result, approvalRisk Risk) Decision {
	d := Decision{
		ProposalID: p.ID, ResourceID: p.Resource.ID, Action: knownAction(p.Action), Now: p.Now,
		ApprovalID: p.ApprovalID, Risk: RiskLow, Results: results,
	}
	var approvalBy []string
	for _, r := range results {
		if r.Risk.Level() > d.Risk.Level() {
			d.Risk = r.Risk
		}
		switch r.Outcome {
		case Block:
			d.Blocking = append(d.Blocking, r)
		case RequireApproval:
			approvalBy = append(approvalBy, r.Rule+": "+r.Reason)
		}
		if r.Risk.Level() > RiskNone.Level() {
			if len(r.Factors) == 0 && r.Reason != "" {
				d.Factors = append(d.Factors, Factor{Rule: r.Rule, Risk: r.Risk, Text: r.Reason})
			}
			for _, f := range r.Factors {
				d.Factors = append(d.Factors, Factor{Rule: r.Rule, Risk: r.Risk, Text: f})
			}
		}
	}
	// Advice that lifts a block comes first.
	for _, blocking := range []bool{true, false} {
		for _, r := range results {
			if (r.Outcome == Block) != blocking {
				continue
			}
			for _, rec := range r.Recommendations {
				if !slices.Contains(d.Recommendations, rec) {
					d.Recommendations = append(d.Recommendations, rec)
				}
			}
		}
	}
	slices.SortStableFunc(d.Factors, func(a, b Factor) int { return b.Risk.Level() - a.Risk.Level() })
	switch {
	case len(approvalBy) > 0:
		d.ApprovalRequired, d.ApprovalReason = true, strings.Join(approvalBy, "; ")
	case d.Risk.Level() >= approvalRisk.Level():
		d.ApprovalRequired, d.ApprovalReason = true, "risk "+d.Risk.String()+" reaches the approval level "+approvalRisk.String()
	}
	switch {
	case len(d.Blocking) > 0:
		d.Outcome = Block
	case d.ApprovalRequired:
		d.Outcome = RequireApproval
	default:
		d.Outcome, d.Allowed = Pass, true
	}
	return d
}

// knownAction returns a, or unset when a is not a known Action: decisions
// and audit events about an invalid proposal must still encode (the
// blocking "proposal" result names the bad value).
func knownAction(a Action) Action {
	if a.Validate() != nil {
		return ""
	}
	return a
}

// Report is the result of Preview: what would happen to each proposal.
type Report struct {
	// Decisions are the decisions, in the order of the proposals.
	Decisions []Decision `json:"decisions"`
	// Allowed counts the proposals that would go ahead.
	Allowed int `json:"allowed"`
	// NeedApproval counts those that would need an approval.
	NeedApproval int `json:"need_approval"`
	// Blocked counts those a rule blocks (or that failed).
	Blocked int `json:"blocked"`
	// BlockedBy counts, per rule name, the proposals it blocks.
	BlockedBy map[string]int `json:"blocked_by,omitempty"`
}

// Preview is a dry run over a batch (policy preview): it decides every
// proposal as Evaluate does (up to Config.Concurrency proposals at once),
// records nothing, and reports what would be allowed, need approval, or
// be blocked and by which rules. Rules are side-effect free by contract,
// so Preview changes nothing. For a single proposal use Evaluate. Each
// proposal is decided alone (a batch may hold alternatives): none counts
// against another's fleet share. For a batch meant to run together, set
// each proposal's FleetPlanned to the units of its fleet allowed before
// it, as the reaper's dry run does. It returns an error only when ctx
// ends, with the decisions made so far (the rest blocked as cancelled).
func (e *Engine) Preview(ctx context.Context, proposals []Proposal) (Report, error) {
	rep := Report{Decisions: make([]Decision, len(proposals)), BlockedBy: map[string]int{}}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(e.cfg.Concurrency, len(proposals)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(proposals) {
					return
				}
				rep.Decisions[i] = e.evaluate(ctx, proposals[i])
			}
		})
	}
	wg.Wait()
	for _, d := range rep.Decisions {
		switch d.Outcome {
		case Pass:
			rep.Allowed++
		case RequireApproval:
			rep.NeedApproval++
		default:
			rep.Blocked++
			for _, r := range d.Blocking {
				rep.BlockedBy[r.Rule]++
			}
		}
	}
	return rep, ctx.Err()
}
