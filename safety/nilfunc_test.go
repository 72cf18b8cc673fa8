package safety_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
)

// A nil Func adapter is a non-nil interface whose call panics. The
// constructors refuse one where they refuse nil, naming the field; the
// auditors matter most, since the engine does not recover their panics.
func TestNilFuncAdaptersRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		make  func() error
		field string
	}{
		{"engine auditor", func() error {
			_, err := safety.New(safety.Config{}, nil, safety.WithAuditor(safety.AuditorFunc(nil)))
			return err
		}, "auditor"},
		{"engine approval verifier", func() error {
			_, err := safety.New(safety.Config{}, nil, safety.WithApprovals(safety.ApprovalVerifierFunc(nil)))
			return err
		}, "approvals"},
		{"backup catalog", func() error {
			_, err := safety.NewBackupRule(safety.BackupConfig{}, provider.BackupCatalogFunc(nil))
			return err
		}, "catalog"},
		{"dependency graph", func() error {
			_, err := safety.NewDependencyRule(safety.DependencyConfig{}, safety.DependencyGraphFunc(nil))
			return err
		}, "graph"},
		{"health checker", func() error {
			_, err := safety.NewHealthRule(safety.HealthConfig{}, []safety.HealthCheck{{Name: "db", Checker: safety.HealthCheckerFunc(nil)}})
			return err
		}, "checks[0].checker"},
		{"holiday calendar", func() error {
			_, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{}, safety.HolidayCalendarFunc(nil))
			return err
		}, "calendars[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.make()
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

// Where nil is allowed (it disables a check), a nil Func adapter is nil
// too, rather than a dependency that panics on every Check.
func TestNilFuncAdaptersAsNil(t *testing.T) {
	t.Parallel()
	lim, err := safety.NewLimitsRule(safety.LimitsConfig{NoFleetShare: true}, safety.ActionHistoryFunc(nil))
	require.NoError(t, err)
	assert.True(t, lim.Inline(), "no history to read")
	rb, err := safety.NewRollbackRule(safety.RollbackConfig{}, safety.RestorerFunc(nil))
	require.NoError(t, err)
	assert.True(t, rb.Inline(), "no restorer to call")
	res, err := rb.Check(t.Context(), safety.Proposal{Action: safety.ActionStop})
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, res.Outcome)
}

// A typed nil (a nil *StaticGraph, a nil *memory.Cloud as the backup
// catalog) is refused when the rule is made, naming the field, as a nil
// Func adapter is: it passed, and every Check panicked (which the engine
// turned into a block, so it failed closed, but with no word of why).
func TestTypedNilSourcesAreRefused(t *testing.T) {
	t.Parallel()
	_, err := safety.NewDependencyRule(safety.DependencyConfig{}, (*safety.StaticGraph)(nil))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "graph", inv.Field)
	_, err = safety.NewBackupRule(safety.BackupConfig{}, (*memory.Cloud)(nil))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "catalog", inv.Field)
	_, err = safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: (*memory.Cloud)(nil)})
	require.ErrorAs(t, err, &inv)
	assert.Contains(t, inv.Field, "catalog")
	_, err = safety.NewHealthRule(safety.HealthConfig{}, []safety.HealthCheck{{Name: "lb", Checker: (*failingChecker)(nil)}})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "checks[0].checker", inv.Field)
}

type failingChecker struct{}

func (*failingChecker) Healthy(context.Context, safety.Proposal) error { return nil }

// IsFailure tells a gate's failure from its refusal: a refusal (a rule
// blocked, an approval missing, not allowed without an error) is no
// failure; a failed rule, an invalid proposal, a failed audit, an error
// that is not a block and an error with an allowed decision are.
func TestIsFailure(t *testing.T) {
	t.Parallel()
	blocked := safety.Decision{Outcome: safety.Block, Blocking: []safety.Result{{Rule: "hours", Outcome: safety.Block}}}
	approval := safety.Decision{Outcome: safety.RequireApproval, ApprovalRequired: true}
	failed := safety.Decision{Outcome: safety.Block, Results: []safety.Result{{Rule: "backup", Outcome: safety.Block,
		Err: fmt.Errorf("%w: catalog down", safety.ErrRuleFailed)}}}
	for _, tc := range []struct {
		name string
		d    safety.Decision
		err  error
		want bool
	}{
		{"allowed", safety.Decision{Allowed: true}, nil, false},
		{"not allowed, no error", safety.Decision{}, nil, false},
		{"blocked", blocked, blocked.Err(), false},
		{"approval required", approval, approval.Err(), false},
		{"rule failed", failed, failed.Err(), true},
		{"invalid", safety.Decision{}, provider.Invalid("now", nil, "is required"), true},
		{"audit", blocked, fmt.Errorf("%w: %w", safety.ErrAudit, blocked.Err()), true},
		{"not a block", safety.Decision{}, errors.New("policy service unreachable"), true},
		{"allowed with an error", safety.Decision{Allowed: true}, blocked.Err(), true},
	} {
		assert.Equal(t, tc.want, safety.IsFailure(tc.d, tc.err), tc.name)
	}
}

// A typed nil rule (a rule whose constructor's error was dropped) is
// refused by New, naming its index, as a nil RuleFunc is: New panicked on
// a nil *DependencyRule, *LimitsRule or *RollbackRule (their Inline reads
// a field), and took a nil *BackupRule and the like, whose every Check
// panicked, blocking everything with no word of why.
func TestNewRefusesTypedNilRules(t *testing.T) {
	t.Parallel()
	for _, r := range []safety.Rule{
		(*safety.BackupRule)(nil), (*safety.BusinessHoursRule)(nil), (*safety.CriticalRule)(nil),
		(*safety.DependencyRule)(nil), (*safety.GradualRule)(nil), (*safety.HealthRule)(nil),
		(*safety.LimitsRule)(nil), (*safety.RollbackRule)(nil),
		safety.Named("custom", (*safety.LimitsRule)(nil)),
	} {
		t.Run(fmt.Sprintf("%T", r), func(t *testing.T) {
			t.Parallel()
			var err error
			require.NotPanics(t, func() {
				_, err = safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{}), r})
			})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "rules[1]", ie.Field)
		})
	}
}

// A typed nil auditor (a *safety.AuditLog or *etcdaudit.Log left nil
// when auditing is off) is refused by New, naming the field: New took
// it, and every Check then blocked, its auditor having panicked.
func TestNewRefusesTypedNilAuditor(t *testing.T) {
	t.Parallel()
	var log *safety.AuditLog
	_, err := safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{})}, safety.WithAuditor(log))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "auditor", ie.Field)
	_, err = safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{})}, safety.WithAuditor(nil))
	require.NoError(t, err, "no auditor")
}
