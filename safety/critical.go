package safety

import (
	"context"
	"slices"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// CriticalConfig configures CriticalRule. The zero value means the
// defaults.
type CriticalConfig struct {
	// Environments are the environments whose resources are critical,
	// compared case-insensitively with Resource.Environment. Empty means
	// the default. Default: ["production"].
	Environments []string `json:"environments,omitempty" yaml:"environments,omitempty"`
	// Roles are the roles whose resources are critical, compared
	// case-insensitively with Resource.Role; resources of kind database
	// or load_balancer count as having that role. Empty means the
	// default. Default: ["database", "load_balancer", "monitoring"].
	Roles []string `json:"roles,omitempty" yaml:"roles,omitempty"`
	// ProtectionTags are tag keys that protect a resource when present
	// with any value except "false" (Resource.Protected always protects).
	// Empty means the default. Default: ["protected", "do-not-stop"].
	ProtectionTags []string `json:"protection_tags,omitempty" yaml:"protection_tags,omitempty"`
	// Actions sets, per action, what happens to a critical resource:
	// Block or RequireApproval (Pass lets it through; unset is refused).
	// Listed actions override the defaults; an empty map means all
	// defaults. Default: terminate → block; stop, resize, scale_in →
	// require_approval; start, scale_out → pass.
	Actions map[Action]Outcome `json:"actions,omitempty" yaml:"actions,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c CriticalConfig) Validate() error {
	for a, o := range c.Actions {
		if err := a.Validate(); err != nil {
			return provider.Within("actions", err)
		}
		if err := o.Validate(); err != nil {
			return invalidf("actions."+string(a), string(o), "must be pass, require_approval or block")
		}
	}
	for i, lists := range [][]string{c.Environments, c.Roles, c.ProtectionTags} {
		for _, s := range lists {
			if strings.TrimSpace(s) == "" {
				return invalidf([]string{"environments", "roles", "protection_tags"}[i], s, "entries must not be empty")
			}
		}
	}
	return nil
}

// CriticalRule guards critical workloads: resources in a critical
// environment, with a critical role, of criticality high or critical, or
// protected (Resource.Protected or a protection tag). For those it returns
// the outcome configured for the action, with RiskHigh when that outcome
// is not Pass for a disruptive action (RiskLow otherwise, so an action
// configured to pass does not trip the engine's approval level), and the
// facts that made the resource critical as factors. Other resources pass. It does no I/O and is safe
// for concurrent use.
//
// Make one with NewCriticalRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type CriticalRule struct {
	envs, roles, tags []string
	actions           [8]Outcome
	made              bool // set by NewCriticalRule; the zero value fails closed
}

var _ Rule = (*CriticalRule)(nil)

// NewCriticalRule returns a CriticalRule for cfg, or an error matching
// provider.ErrInvalid, naming the field, when cfg is invalid.
func NewCriticalRule(cfg CriticalConfig) (*CriticalRule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &CriticalRule{
		made:  true,
		envs:  lowerOr(cfg.Environments, "production"),
		roles: lowerOr(cfg.Roles, "database", "load_balancer", "monitoring"),
		tags:  lowerOr(cfg.ProtectionTags, "protected", "do-not-stop"),
	}
	for i := range r.actions {
		r.actions[i] = Pass
	}
	r.actions[actionIndex(ActionTerminate)] = Block
	for _, a := range []Action{ActionStop, ActionResize, ActionScaleIn} {
		r.actions[actionIndex(a)] = RequireApproval
	}
	for a, o := range cfg.Actions {
		r.actions[actionIndex(a)] = o
	}
	return r, nil
}

func actionIndex(a Action) int {
	for i, x := range Actions() {
		if x == a {
			return i
		}
	}
	return 7
}

func lowerOr(s []string, def ...string) []string {
	if len(s) == 0 {
		return def
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(strings.TrimSpace(v))
	}
	return out
}

func containsFold(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Name returns "critical".
func (r *CriticalRule) Name() string { return "critical" }

// Inline reports true: the rule does no I/O.
func (r *CriticalRule) Inline() bool { return true }

// Factors returns the facts that make res critical, or nil.
func (r *CriticalRule) Factors(res provider.Resource) []string {
	var f []string
	if containsFold(r.envs, res.Environment) {
		f = append(f, "environment="+res.Environment)
	}
	switch {
	case containsFold(r.roles, res.Role):
		f = append(f, "role="+res.Role)
	case (res.Kind == provider.KindDatabase || res.Kind == provider.KindLoadBalancer) && containsFold(r.roles, string(res.Kind)):
		f = append(f, "kind="+string(res.Kind))
	}
	if res.Criticality == provider.CriticalityHigh || res.Criticality == provider.CriticalityCritical {
		f = append(f, "criticality="+string(res.Criticality))
	}
	if res.Protected {
		f = append(f, "protected")
	}
	n := len(f)
	for k, v := range res.Tags {
		if containsFold(r.tags, k) && !strings.EqualFold(v, "false") {
			f = append(f, "tag "+k+"="+v)
		}
	}
	slices.Sort(f[n:])
	return f
}

// Check implements Rule.
func (r *CriticalRule) Check(_ context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("CriticalRule", "NewCriticalRule")
	}
	f := r.Factors(p.Resource)
	if len(f) == 0 {
		return pass, nil
	}
	res := Result{Outcome: r.actions[actionIndex(p.Action)], Risk: RiskLow, Factors: f}
	if p.Action.Disruptive() && res.Outcome != Pass {
		res.Risk = RiskHigh
	}
	what := "critical workload (" + strings.Join(f, ", ") + ")"
	switch res.Outcome {
	case Block:
		res.Reason = what + ": " + string(p.Action) + " is not allowed"
		res.Recommendations = []string{"exclude critical workloads from automated " + string(p.Action)}
	case RequireApproval:
		res.Reason = what + ": " + string(p.Action) + " needs approval"
		owner := p.Resource.Owner
		if owner == "" {
			owner = "the resource's owner"
		}
		res.Recommendations = []string{"ask " + owner + " to approve"}
	default:
		res.Reason = what
	}
	return res, nil
}
