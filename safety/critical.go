package safety

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// CriticalConfig configures CriticalRule. The zero value means the
// defaults.
//
// Labels are matched in a normalised form (see provider.NormalizeLabel):
// case, white space at either end or repeated inside, invisible characters
// and compatibility forms do not matter, and the separators ' ', '-', '_'
// and '.' are one ("load balancer" is "load_balancer"). Apart from that
// the match is exact: "preprod" is not "prod", and "prod-eu" is critical
// only when it is listed (or is an alias of a listed name).
type CriticalConfig struct {
	// Environments are the environments whose resources are critical,
	// matched with Resource.Environment as described above, aliases
	// included. Empty means the default. Default: ["production"] (which,
	// with the default Aliases, also matches prod, prd and live).
	Environments []string `json:"environments,omitempty" yaml:"environments,omitempty"`
	// Roles are the roles whose resources are critical, matched with
	// Resource.Role like Environments; resources of kind database or
	// load_balancer count as having that role. Empty means the default.
	// Default: ["database", "load_balancer", "monitoring", "standby",
	// "replica"]. A standby or a replica is idle by design, and the idle
	// detector finds it so: its loss shows only at the failover it was
	// kept for. (They have no alias group: "hot standby" is not
	// "standby" unless Roles or Aliases say so.)
	Roles []string `json:"roles,omitempty" yaml:"roles,omitempty"`
	// Aliases maps an environment or role name to other names that mean
	// the same: a resource whose label is any name of a group is critical
	// when any name of that group is listed in Environments or Roles.
	// Entries replace the default group of their name; an entry with an
	// empty list removes that group's aliases. A name must not belong to
	// two groups, nor two entries name one group (names that normalise
	// alike, as "Payments" and "payments"). Default: DefaultCriticalAliases(): production = prod,
	// prd, live; database = db; load_balancer = loadbalancer, lb;
	// monitoring = monitor.
	Aliases map[string][]string `json:"aliases,omitempty" yaml:"aliases,omitempty"`
	// ProtectionTags are tag keys that protect a resource when present
	// with any value except "false" (Resource.Protected always protects);
	// keys and the value are matched like labels. Empty means the default.
	// Default: ["protected", "do-not-stop"].
	ProtectionTags []string `json:"protection_tags,omitempty" yaml:"protection_tags,omitempty"`
	// Actions sets, per action, what happens to a critical resource:
	// Block or RequireApproval (Pass lets it through; unset is refused).
	// Listed actions override the defaults; an empty map means all
	// defaults. Default: terminate → block; stop, resize, scale_in →
	// require_approval; start, scale_out → pass.
	Actions map[Action]Outcome `json:"actions,omitempty" yaml:"actions,omitempty"`
}

// DefaultCriticalRoles returns the default CriticalConfig.Roles, a new
// slice on every call: database, load_balancer, monitoring, standby and
// replica.
func DefaultCriticalRoles() []string {
	return []string{"database", "load_balancer", "monitoring", "standby", "replica"}
}

// DefaultCriticalAliases returns the default CriticalConfig.Aliases, a new
// map on every call: production = prod, prd, live; database = db;
// load_balancer = loadbalancer, lb; monitoring = monitor.
func DefaultCriticalAliases() map[string][]string {
	return map[string][]string{
		"production":    {"prod", "prd", "live"},
		"database":      {"db"},
		"load_balancer": {"loadbalancer", "lb"},
		"monitoring":    {"monitor"},
	}
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c CriticalConfig) Validate() error {
	for _, a := range slices.Sorted(maps.Keys(c.Actions)) { // in order: the same error every time
		o := c.Actions[a]
		if a.Validate() != nil {
			// The key is the value: "actions.action" is no field.
			return invalidf("actions", string(a), "keys must be one of start, stop, terminate, resize, scale_in, scale_out")
		}
		if err := o.Validate(); err != nil {
			return invalidf("actions."+string(a), string(o), "must be pass, require_approval or block")
		}
	}
	for i, lists := range [][]string{c.Environments, c.Roles, c.ProtectionTags} {
		for _, s := range lists {
			if provider.LabelKey(s) == "" {
				return invalidf([]string{"environments", "roles", "protection_tags"}[i], s, "entries must not be empty")
			}
		}
	}
	_, err := aliasIndex(c.Aliases)
	return err
}

// aliasIndex merges aliases over the defaults and returns, for every name
// of every group, the key of the group's name.
func aliasIndex(aliases map[string][]string) (map[string]string, error) {
	groups := DefaultCriticalAliases()
	// In order, so that two entries that name one group (below) are
	// refused with the same error every time.
	named := make(map[string]string, len(aliases))
	for _, name := range slices.Sorted(maps.Keys(aliases)) {
		list := aliases[name]
		key := provider.LabelKey(name)
		if key == "" {
			return nil, invalidf("aliases", name, "names must not be empty")
		}
		if prev, ok := named[key]; ok {
			// Only one of them could replace the other: which one was
			// up to map order, and so whether a label of the other is
			// critical.
			return nil, invalidf("aliases", name, "is the same name as "+strconv.Quote(prev)+" (names match normalised): give a group one entry")
		}
		named[key] = name
		for _, a := range list {
			if provider.LabelKey(a) == "" {
				return nil, invalidf("aliases."+name, a, "aliases must not be empty")
			}
		}
		for def := range groups {
			if provider.LabelKey(def) == provider.LabelKey(name) {
				delete(groups, def)
			}
		}
		groups[name] = list
	}
	index := make(map[string]string)
	owner := make(map[string]string)
	names := slices.Sorted(maps.Keys(groups))
	for _, name := range names {
		key := provider.LabelKey(name)
		for _, a := range append([]string{name}, groups[name]...) {
			k := provider.LabelKey(a)
			if prev, ok := owner[k]; ok && index[k] != key {
				return nil, invalidf("aliases."+name, a, "is already a name of "+prev)
			}
			owner[k], index[k] = name, key
		}
	}
	return index, nil
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
	// envs and roles hold the group keys of the critical names; aliases
	// maps every name of a group to its group key; tags holds the
	// LabelKeys of the protection tags.
	envs, roles, tags map[string]bool
	aliases           map[string]string
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
	aliases, err := aliasIndex(cfg.Aliases)
	if err != nil {
		return nil, err
	}
	r := &CriticalRule{made: true, aliases: aliases}
	r.envs = r.keys(cfg.Environments, "production")
	r.roles = r.keys(cfg.Roles, DefaultCriticalRoles()...)
	tags := cfg.ProtectionTags
	if len(tags) == 0 {
		tags = []string{"protected", "do-not-stop"}
	}
	r.tags = make(map[string]bool, len(tags))
	for _, t := range tags {
		r.tags[provider.LabelKey(t)] = true
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

// keys returns the group keys of names, or of def when names is empty.
func (r *CriticalRule) keys(names []string, def ...string) map[string]bool {
	if len(names) == 0 {
		names = def
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[r.group(n)] = true
	}
	return out
}

// group returns the key of the alias group label belongs to: its own key
// when it is in none; "" for a label that is empty once normalised.
func (r *CriticalRule) group(label string) string {
	k := provider.LabelKey(label)
	if g, ok := r.aliases[k]; ok {
		return g
	}
	return k
}

// in reports whether label belongs to one of the groups in set.
func (r *CriticalRule) in(set map[string]bool, label string) bool {
	g := r.group(label)
	return g != "" && set[g]
}

// Name returns "critical".
func (r *CriticalRule) Name() string { return "critical" }

// Inline reports true: the rule does no I/O.
func (r *CriticalRule) Inline() bool { return true }

// Factors returns the facts that make res critical, or nil.
func (r *CriticalRule) Factors(res provider.Resource) []string {
	var f []string
	if r.in(r.envs, res.Environment) {
		f = append(f, "environment="+provider.NormalizeLabel(res.Environment))
	}
	kind := provider.Kind(provider.LabelKey(string(res.Kind)))
	switch {
	case r.in(r.roles, res.Role):
		f = append(f, "role="+provider.NormalizeLabel(res.Role))
	case (kind == provider.KindDatabase || kind == provider.KindLoadBalancer) && r.in(r.roles, string(kind)):
		f = append(f, "kind="+string(kind))
	}
	if c := provider.Criticality(provider.LabelKey(string(res.Criticality))); c.Level() >= provider.CriticalityHigh.Level() {
		f = append(f, "criticality="+string(c))
	}
	if res.Protected {
		f = append(f, "protected")
	}
	n := len(f)
	for k, v := range res.Tags {
		if r.tags[provider.LabelKey(k)] && provider.LabelKey(v) != "false" {
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
