package safety

import "time"

// Config configures an Engine: how long and how widely it runs rules, and
// from which risk level it asks for approval. A host loads it from JSON or
// YAML next to the BuiltinConfig of the rules. The zero value means the
// defaults.
type Config struct {
	// Timeout bounds the rule phase of one check: rules that have not
	// answered by then fail (and block). Rules that run inline (see
	// Inliner) are not subject to it. Must be ≥ 0; 0 means the default.
	// Default: 2s, long enough for a backup catalog or CMDB lookup over
	// the network, short enough that a hung source blocks one action
	// instead of stalling a pipeline.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Concurrency is how many rules of one check run at once, and how many
	// proposals Preview checks at once. Must be ≥ 0; 0 means the default.
	// Default: 4.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// ApprovalRisk is the risk level from which a decision requires
	// approval even when no rule asked for it ("approval for critical or
	// high-risk"): low, medium or high. Unset ("") means the default.
	// RiskNone is refused: every decision's risk is at least low, so
	// "none" would say the same as low. Default: high.
	ApprovalRisk Risk `json:"approval_risk,omitempty" yaml:"approval_risk,omitempty"`
	// AllowNoRules lets New build an engine without rules. Such an engine
	// allows every valid proposal: it would let the reaper terminate a
	// protected production database that has no backup. Set it only where
	// that is meant, such as a test of the code around the gate or a
	// pipeline that reports and never acts. Default: false: New refuses an
	// empty rule set, so that a rule list that failed to load does not
	// silently open the gate.
	AllowNoRules bool `json:"allow_no_rules,omitempty" yaml:"allow_no_rules,omitempty"`
}

// The Config defaults.
const (
	DefaultTimeout     = 2 * time.Second // Config.Timeout's default
	DefaultConcurrency = 4               // Config.Concurrency's default
)

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field and its value.
func (c Config) Validate() error {
	switch {
	case c.Timeout < 0:
		return invalidf("timeout", c.Timeout, "must be ≥ 0 (0 means 2s)")
	case c.Concurrency < 0:
		return invalidf("concurrency", c.Concurrency, "must be ≥ 0 (0 means 4)")
	case c.ApprovalRisk != "" && c.ApprovalRisk.Level() < RiskLow.Level():
		return invalidf("approval_risk", string(c.ApprovalRisk), "must be low, medium or high (unset means high)")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ApprovalRisk == "" {
		c.ApprovalRisk = RiskHigh
	}
	return c
}
