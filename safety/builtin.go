package safety

import (
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// BuiltinConfig holds the configuration of every built-in rule, as a host
// loads it from JSON or YAML. The zero value means every rule's
// defaults.
type BuiltinConfig struct {
	// Critical configures the critical-workload rule.
	Critical CriticalConfig `json:"critical,omitzero" yaml:"critical,omitempty"`
	// Dependencies configures the dependency rule.
	Dependencies DependencyConfig `json:"dependencies,omitzero" yaml:"dependencies,omitempty"`
	// Backup configures the backup rule.
	Backup BackupConfig `json:"backup,omitzero" yaml:"backup,omitempty"`
	// BusinessHours configures the business-hours rule.
	BusinessHours BusinessHoursConfig `json:"business_hours,omitzero" yaml:"business_hours,omitempty"`
	// Gradual configures the gradual-change rule.
	Gradual GradualConfig `json:"gradual,omitzero" yaml:"gradual,omitempty"`
	// Limits configures the limits rule.
	Limits LimitsConfig `json:"limits,omitzero" yaml:"limits,omitempty"`
	// Health configures the dependency-health rule.
	Health HealthConfig `json:"health,omitzero" yaml:"health,omitempty"`
	// Rollback configures the rollback rule.
	Rollback RollbackConfig `json:"rollback,omitzero" yaml:"rollback,omitempty"`
}

// BuiltinSources are what the built-in rules read: the collaborators
// Builtin passes to the rule constructors after their configuration.
type BuiltinSources struct {
	// Backups lists backups for the backup rule. Required.
	Backups provider.BackupCatalog
	// Graph tells dependents for the dependency rule; nil omits the rule.
	Graph DependencyGraph
	// Health are the dependency health checks; none omits the rule.
	Health []HealthCheck
	// History counts recent actions per fleet for the limits rule.
	// Required unless Limits.NoFleetShare turns the fleet-share limit off
	// (then it must be nil): Builtin refuses to leave the limit out
	// silently. It must keep records for at least Limits.Window: Builtin
	// refuses a *MemoryHistory whose Keep is shorter. The host records
	// every executed action in it (reaper.WithHistory,
	// scaling.WithActionHistory).
	History ActionHistory
	// Restorer confirms rollback is possible; nil checks only that the
	// proposal records the previous state.
	Restorer Restorer
	// Calendars add host-computed holidays to the business-hours rule.
	Calendars []HolidayCalendar
}

// Validate returns an error matching provider.ErrInvalid when a rule's
// configuration is invalid, naming the rule and field
// ("limits.min_capacity").
func (c BuiltinConfig) Validate() error {
	for _, part := range []struct {
		name string
		cfg  interface{ Validate() error }
	}{
		{"critical", c.Critical}, {"dependencies", c.Dependencies}, {"backup", c.Backup},
		{"business_hours", c.BusinessHours}, {"gradual", c.Gradual}, {"limits", c.Limits},
		{"health", c.Health}, {"rollback", c.Rollback},
	} {
		if err := part.cfg.Validate(); err != nil {
			return provider.Within(part.name, err)
		}
	}
	return nil
}

// Builtin returns the built-in rules configured by cfg, reading src, in
// the order critical, dependencies, backup, business_hours, gradual,
// limits, health, rollback (omitting dependencies without a Graph and
// health without checks). It fails with an error matching
// provider.ErrInvalid, naming the rule and field, when cfg is invalid
// (see BuiltinConfig.Validate), Backups is nil, a source is a nil Func
// adapter, the graph or the backup catalog is a nil pointer, History is
// nil without Limits.NoFleetShare or set with it ("limits.history"), or
// History is a nil *MemoryHistory or one that keeps less than the limits
// window ("limits.history.keep"; see NewLimitsRule).
func Builtin(cfg BuiltinConfig, src BuiltinSources) ([]Rule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("safety.Builtin: %w", err)
	}
	if src.Backups == nil {
		return nil, fmt.Errorf("safety.Builtin: %w", invalidf("sources.backups", nil, "must not be nil: the backup rule needs a provider.BackupCatalog"))
	}
	var rules []Rule
	add := func(name string, r Rule, err error) error {
		if err != nil {
			return fmt.Errorf("safety.Builtin: %w", provider.Within(name, err))
		}
		rules = append(rules, r)
		return nil
	}
	crit, err := NewCriticalRule(cfg.Critical)
	if err := add("critical", crit, err); err != nil {
		return nil, err
	}
	if src.Graph != nil {
		dep, err := NewDependencyRule(cfg.Dependencies, src.Graph)
		if err := add("dependencies", dep, err); err != nil {
			return nil, err
		}
	}
	bk, err := NewBackupRule(cfg.Backup, src.Backups)
	if err := add("backup", bk, err); err != nil {
		return nil, err
	}
	bh, err := NewBusinessHoursRule(cfg.BusinessHours, src.Calendars...)
	if err := add("business_hours", bh, err); err != nil {
		return nil, err
	}
	gr, err := NewGradualRule(cfg.Gradual)
	if err := add("gradual", gr, err); err != nil {
		return nil, err
	}
	lim, err := NewLimitsRule(cfg.Limits, src.History)
	if err := add("limits", lim, err); err != nil {
		return nil, err
	}
	if len(src.Health) > 0 {
		h, err := NewHealthRule(cfg.Health, src.Health)
		if err := add("health", h, err); err != nil {
			return nil, err
		}
	}
	rb, err := NewRollbackRule(cfg.Rollback, src.Restorer)
	if err := add("rollback", rb, err); err != nil {
		return nil, err
	}
	return rules, nil
}
