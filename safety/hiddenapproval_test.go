package safety_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/safety"
)

// delegateError is a host's typed error that wraps ErrApprovalRequired.
type delegateError struct{ engine string }

func (e *delegateError) Error() string { return "engine " + e.engine + " wants an approval" }
func (e *delegateError) Unwrap() error { return safety.ErrApprovalRequired }

// errUnreachable is a host's sentinel that matchingError says it is.
var errUnreachable = errors.New("engine unreachable")

// matchingError is a host's error that wraps ErrApprovalRequired and
// matches errUnreachable through its own Is method.
type matchingError struct{}

func (matchingError) Error() string        { return "engine b unreachable; approval required" }
func (matchingError) Unwrap() error        { return safety.ErrApprovalRequired }
func (matchingError) Is(target error) bool { return target == errUnreachable }

// TestFailedRuleKeepsItsOwnErrorWhenItHidesApproval: taking
// ErrApprovalRequired out of a failed rule's chain replaced the rule's
// error itself by a wrapper: errors.Is of the rule's own sentinel (one
// that wraps ErrApprovalRequired) and errors.As of its own type no
// longer found it, so a host that told its rule's failures apart by them
// lost them. They are found again; ErrApprovalRequired still is not.
func TestFailedRuleKeepsItsOwnErrorWhenItHidesApproval(t *testing.T) {
	t.Parallel()
	errMine := fmt.Errorf("mine: %w", safety.ErrApprovalRequired)
	for _, tc := range []struct {
		name  string
		err   error
		check func(t *testing.T, err error)
	}{
		{"sentinel", errMine, func(t *testing.T, err error) {
			t.Helper()
			assert.ErrorIs(t, err, errMine, "the rule's own sentinel")
		}},
		{"typed", &delegateError{engine: "b"}, func(t *testing.T, err error) {
			t.Helper()
			var de *delegateError
			if assert.ErrorAs(t, err, &de, "the rule's own type") {
				assert.Equal(t, "b", de.engine)
			}
		}},
		{"own Is", matchingError{}, func(t *testing.T, err error) {
			t.Helper()
			assert.ErrorIs(t, err, errUnreachable, "what the rule's error says it is")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rule := safety.Named("delegate", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
				return safety.Result{}, tc.err
			}))
			eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
			require.NoError(t, err)
			d, err := eng.Evaluate(t.Context(), stop("i-1"))
			require.Equal(t, safety.Block, d.Outcome)
			require.ErrorIs(t, err, safety.ErrBlocked)
			require.NotErrorIs(t, err, safety.ErrApprovalRequired)
			tc.check(t, err)
		})
	}
}
