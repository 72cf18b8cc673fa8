package safety_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
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
			_, err := safety.New(nil, safety.WithAuditor(safety.AuditorFunc(nil)))
			return err
		}, "auditor"},
		{"approvals auditor", func() error {
			_, err := safety.NewApprovals(safety.NewMemoryApprovalStore(), safety.WithApprovalAuditor(safety.AuditorFunc(nil)))
			return err
		}, "auditor"},
		{"backup catalog", func() error {
			_, err := safety.NewBackupRule(provider.BackupCatalogFunc(nil), safety.BackupPolicy{})
			return err
		}, "catalog"},
		{"dependency graph", func() error {
			_, err := safety.NewDependencyRule(safety.DependencyGraphFunc(nil), safety.DependencyPolicy{})
			return err
		}, "graph"},
		{"health checker", func() error {
			_, err := safety.NewHealthRule([]safety.HealthCheck{{Name: "db", Checker: safety.HealthCheckerFunc(nil)}}, safety.HealthPolicy{})
			return err
		}, "checks[0].checker"},
		{"holiday calendar", func() error {
			_, err := safety.NewBusinessHoursRule(safety.BusinessHoursPolicy{}, safety.HolidayCalendarFunc(nil))
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
	lim, err := safety.NewLimitsRule(safety.ActionHistoryFunc(nil), safety.LimitsPolicy{})
	require.NoError(t, err)
	assert.True(t, lim.Inline(), "no history to read")
	rb, err := safety.NewRollbackRule(safety.RestorerFunc(nil), safety.RollbackPolicy{})
	require.NoError(t, err)
	assert.True(t, rb.Inline(), "no restorer to call")
	res, err := rb.Check(t.Context(), safety.Proposal{Action: safety.ActionStop})
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, res.Outcome)
}
