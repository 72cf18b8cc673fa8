package safety

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// HealthChecker checks one dependency (a database, a load balancer, an
// external service) the proposal relies on.
//
// Healthy returns nil when the dependency is healthy for p, and an error
// saying what is wrong otherwise. It must be safe for concurrent use,
// honour ctx and change nothing.
type HealthChecker interface {
	Healthy(ctx context.Context, p Proposal) error
}

// HealthCheckerFunc adapts a function to a HealthChecker.
type HealthCheckerFunc func(ctx context.Context, p Proposal) error

// Healthy calls f(ctx, p).
func (f HealthCheckerFunc) Healthy(ctx context.Context, p Proposal) error { return f(ctx, p) }

// HealthCheck is a named HealthChecker.
type HealthCheck struct {
	// Name names the dependency ("orders-db", "edge-lb"). Required,
	// unique.
	Name string
	// Checker checks it. Required.
	Checker HealthChecker
}

// HealthConfig configures HealthRule. The zero value means the defaults.
type HealthConfig struct {
	// Actions are the actions that need healthy dependencies. Empty means
	// the default. Default: stop, terminate, resize, scale_in.
	Actions []Action `json:"actions,omitempty" yaml:"actions,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c HealthConfig) Validate() error {
	_, err := newActionSet("actions", c.Actions, disruptiveActions)
	return err
}

// HealthRule blocks an action while any of its host-supplied dependency
// checks reports unhealthy, naming them. Checks run one after another
// within the engine's timeout; a check that does not answer in time, or
// answers with its context's error once the context has ended, fails the
// rule, which blocks as timed out or cancelled rather than naming an
// unhealthy dependency. Safe for concurrent use if the checkers are.
//
// Make one with NewHealthRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type HealthRule struct {
	checks  []HealthCheck
	actions actionSet
	made    bool // set by NewHealthRule; the zero value fails closed
}

var (
	_ Rule          = (*HealthRule)(nil)
	_ HealthChecker = HealthCheckerFunc(nil)
)

// NewHealthRule returns a HealthRule for cfg over checks (copied). It
// fails with provider.ErrInvalid, naming the field, when cfg is invalid, a
// check has no name or checker (including a nil HealthCheckerFunc), or two
// share a name.
func NewHealthRule(cfg HealthConfig, checks []HealthCheck) (*HealthRule, error) {
	acts, err := newActionSet("actions", cfg.Actions, disruptiveActions)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, c := range checks {
		switch {
		case strings.TrimSpace(c.Name) == "":
			return nil, invalidf("checks["+strconv.Itoa(i)+"].name", c.Name, "must not be empty")
		case isNilSource(c.Checker):
			return nil, invalidf("checks["+strconv.Itoa(i)+"].checker", nil, "must not be nil")
		case seen[c.Name]:
			return nil, invalidf("checks["+strconv.Itoa(i)+"].name", c.Name, "must be unique")
		}
		seen[c.Name] = true
	}
	return &HealthRule{made: true, checks: append([]HealthCheck(nil), checks...), actions: acts}, nil
}

// Name returns "health".
func (r *HealthRule) Name() string { return "health" }

// Check implements Rule. A cancelled or expired ctx is returned as an
// error (the rule failed); any other checker error is an unhealthy
// dependency.
func (r *HealthRule) Check(ctx context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("HealthRule", "NewHealthRule")
	}
	if !r.actions.has(p.Action) {
		return pass, nil
	}
	var bad []string
	for _, c := range r.checks {
		err := c.Checker.Healthy(ctx, p)
		if err == nil {
			continue
		}
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return Result{}, fmt.Errorf("health check %s: %w", c.Name, err)
		}
		bad = append(bad, c.Name+": "+err.Error())
	}
	if len(bad) == 0 {
		return pass, nil
	}
	return Result{
		Outcome:         Block,
		Risk:            RiskMedium,
		Reason:          "unhealthy dependencies: " + strings.Join(bad, "; "),
		Factors:         bad,
		Recommendations: []string{"wait until dependencies are healthy"},
	}, nil
}
