package safety_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A rule declared as a literal (&safety.BackupRule{}) instead of made by
// its constructor has no configuration; it used to pass every proposal,
// failing open. It now fails, and the engine blocks (fail closed).
func TestZeroValueRulesFailClosed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 28, 3, 0, 0, 0, time.UTC) // a Saturday night
	p := safety.Proposal{
		Action: safety.ActionScaleIn, Requester: "autoscaler", Now: now,
		Resource: provider.Resource{ID: "asg-1", Kind: provider.KindGroup, Environment: "production"},
		Current:  provider.CapacitySpec{Min: 0, Max: 10, Desired: 8},
		Target:   provider.CapacitySpec{Min: 0, Max: 10, Desired: 1},
	}
	rules := map[string]safety.Rule{
		"backup":         &safety.BackupRule{},
		"critical":       &safety.CriticalRule{},
		"business_hours": &safety.BusinessHoursRule{},
		"dependency":     &safety.DependencyRule{},
		"gradual":        &safety.GradualRule{},
		"health":         &safety.HealthRule{},
		"limits":         &safety.LimitsRule{},
		"rollback":       &safety.RollbackRule{},
	}
	for name, r := range rules {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := r.Check(t.Context(), p)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "rule", ie.Field)

			eng, err := safety.New(safety.Config{}, []safety.Rule{r})
			require.NoError(t, err)
			d, err := eng.Check(t.Context(), p)
			require.ErrorIs(t, err, safety.ErrBlocked)
			assert.False(t, d.Allowed)
		})
	}
}
