package safety

import (
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// BuiltinConfig holds the policies of every built-in rule, as a host
// loads them from JSON or YAML. The zero value means every rule's
// defaults.
type BuiltinConfig struct {
	// Critical configures the critical-workload rule.
	Critical CriticalPolicy `json:"critical,omitzero" yaml:"critical,omitempty"`
	// Dependencies configures the dependency rule.
	Dependencies DependencyPolicy `json:"dependencies,omitzero" yaml:"dependencies,omitempty"`
	// Backup configures the backup rule.
	Backup BackupPolicy `json:"backup,omitzero" yaml:"backup,omitempty"`
	// BusinessHours configures the business-hours rule.
	BusinessHours BusinessHoursPolicy `json:"business_hours,omitzero" yaml:"business_hours,omitempty"`
	// Gradual configures the gradual-change rule.
	Gradual GradualPolicy `json:"gradual,omitzero" yaml:"gradual,omitempty"`
	// Limits configures the limits rule.
	Limits LimitsPolicy `json:"limits,omitzero" yaml:"limits,omitempty"`
	// Health configures the dependency-health rule.
	Health HealthPolicy `json:"health,omitzero" yaml:"health,omitempty"`
	// Rollback configures the rollback rule.
	Rollback RollbackPolicy `json:"rollback,omitzero" yaml:"rollback,omitempty"`
}

// BuiltinSources are what the built-in rules read.
type BuiltinSources struct {
	// Backups lists backups for the backup rule. Required.
	Backups provider.BackupCatalog
	// Graph tells dependents for the dependency rule; nil omits the rule.
	Graph DependencyGraph
	// Health are the dependency health checks; none omits the rule.
	Health []HealthCheck
	// History counts recent actions per fleet for the limits rule; nil
	// disables the fleet-share limit (capacity bounds still apply).
	History ActionHistory
	// Restorer confirms rollback is possible; nil checks only that the
	// proposal records the previous state.
	Restorer Restorer
	// Calendars add host-computed holidays to the business-hours rule.
	Calendars []HolidayCalendar
}

// Builtin returns the built-in rules configured by cfg, in the order
// critical, dependencies, backup, business_hours, gradual, limits, health,
// rollback (omitting dependencies without a Graph and health without
// checks). It fails with an error matching provider.ErrInvalid, naming the
// rule and field, when a policy is invalid or Backups is nil.
func Builtin(cfg BuiltinConfig, src BuiltinSources) ([]Rule, error) {
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
		dep, err := NewDependencyRule(src.Graph, cfg.Dependencies)
		if err := add("dependencies", dep, err); err != nil {
			return nil, err
		}
	} else if err := cfg.Dependencies.Validate(); err != nil {
		return nil, fmt.Errorf("safety.Builtin: %w", provider.Within("dependencies", err))
	}
	if src.Backups == nil {
		return nil, fmt.Errorf("safety.Builtin: %w", invalidf("sources.backups", nil, "must not be nil: the backup rule needs a provider.BackupCatalog"))
	}
	bk, err := NewBackupRule(src.Backups, cfg.Backup)
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
	lim, err := NewLimitsRule(src.History, cfg.Limits)
	if err := add("limits", lim, err); err != nil {
		return nil, err
	}
	if len(src.Health) > 0 {
		h, err := NewHealthRule(src.Health, cfg.Health)
		if err := add("health", h, err); err != nil {
			return nil, err
		}
	} else if err := cfg.Health.Validate(); err != nil {
		return nil, fmt.Errorf("safety.Builtin: %w", provider.Within("health", err))
	}
	rb, err := NewRollbackRule(src.Restorer, cfg.Rollback)
	if err := add("rollback", rb, err); err != nil {
		return nil, err
	}
	return rules, nil
}
