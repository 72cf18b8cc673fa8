package safety

import (
	"context"
	"errors"
	"fmt"
)

// Restorer confirms that the state before a proposal is recorded and can
// be restored (a launch template or image exists, the previous capacity
// is stored, a snapshot can be restored).
//
// CanRestore returns nil when p can be rolled back, and an error saying
// why not otherwise. It must be safe for concurrent use, honour ctx and
// change nothing.
type Restorer interface {
	CanRestore(ctx context.Context, p Proposal) error
}

// RestorerFunc adapts a function to a Restorer.
type RestorerFunc func(ctx context.Context, p Proposal) error

// CanRestore calls f(ctx, p).
func (f RestorerFunc) CanRestore(ctx context.Context, p Proposal) error { return f(ctx, p) }

// RollbackConfig configures RollbackRule. The zero value means the
// defaults.
type RollbackConfig struct {
	// Irreversible is what happens to actions that cannot be undone
	// (terminate): Block or RequireApproval. Unset ("") means the default;
	// Pass is refused (an irreversible action always needs a check).
	// Default: RequireApproval.
	Irreversible Outcome `json:"irreversible,omitempty" yaml:"irreversible,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c RollbackConfig) Validate() error {
	switch c.Irreversible {
	case "", Block, RequireApproval:
		return nil
	}
	return invalidf("irreversible", string(c.Irreversible), "must be block or require_approval (unset means require_approval)")
}

// RollbackRule checks that a change can be undone: the previous state is
// in the proposal (Current capacity for scale actions, CurrentSize for a
// resize) and, when a Restorer is given, it confirms the state can be
// restored. Terminate cannot be undone and gets the Irreversible outcome
// with RiskHigh. Start and stop undo each other. Safe for concurrent use
// if the restorer is.
//
// Make one with NewRollbackRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type RollbackRule struct {
	restorer     Restorer
	irreversible Outcome
	made         bool // set by NewRollbackRule; the zero value fails closed
}

var (
	_ Rule     = (*RollbackRule)(nil)
	_ Restorer = RestorerFunc(nil)
)

// NewRollbackRule returns a RollbackRule for cfg asking restorer, which
// is optional: nil (or a nil RestorerFunc, or a nil pointer) checks only
// that the proposal records the previous state. It fails with provider.ErrInvalid, naming
// the field, when cfg is invalid.
func NewRollbackRule(cfg RollbackConfig, restorer Restorer) (*RollbackRule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if isNilSource(restorer) {
		restorer = nil
	}
	r := &RollbackRule{made: true, restorer: restorer, irreversible: cfg.Irreversible}
	if r.irreversible == "" {
		r.irreversible = RequireApproval
	}
	return r, nil
}

// Name returns "rollback".
func (r *RollbackRule) Name() string { return "rollback" }

// Inline reports whether there is no Restorer to call.
func (r *RollbackRule) Inline() bool { return r.restorer == nil }

// Check implements Rule.
func (r *RollbackRule) Check(ctx context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("RollbackRule", "NewRollbackRule")
	}
	switch p.Action {
	case ActionTerminate:
		return Result{Outcome: r.irreversible, Risk: RiskHigh,
			Reason:          "terminate cannot be undone",
			Factors:         []string{"irreversible action"},
			Recommendations: []string{"take a snapshot first", "prefer stop over terminate"}}, nil
	case ActionResize:
		if p.CurrentSize.IsZero() {
			return Result{Outcome: Block, Risk: RiskMedium,
				Reason:          "the size before the resize is not recorded: cannot roll back",
				Recommendations: []string{"record the current size in Proposal.CurrentSize"}}, nil
		}
	}
	if r.restorer == nil || p.Action == ActionStart {
		return pass, nil
	}
	if err := r.restorer.CanRestore(ctx, p); err != nil {
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return Result{}, fmt.Errorf("restore check: %w", err)
		}
		return Result{Outcome: Block, Risk: RiskMedium,
			Reason:          "previous state not restorable: " + err.Error(),
			Recommendations: []string{"record the current state before changing it"}}, nil
	}
	return pass, nil
}
