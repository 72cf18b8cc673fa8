package provider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestChangedNothing pins the provider contract's list of errors that say
// a change call changed nothing, which the reaper uses to release an
// approval and refund its budget: each sentinel, wrapped as drivers wrap
// them, and nothing else (a timeout or a lost reply may have left the
// change made).
func TestChangedNothing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", fmt.Errorf("aws: stop %q: %w", "i-1", provider.ErrNotFound), true},
		{"throttled", fmt.Errorf("aws: stop %q: %w", "i-1", provider.ErrThrottled), true},
		{"unsupported", fmt.Errorf("memory: start: %w", provider.ErrUnsupported), true},
		{"conflict", fmt.Errorf("aws: terminate: %w: volume in use", provider.ErrConflict), true},
		{"invalid", fmt.Errorf("resize: %w", provider.ErrInvalid), true},
		{"an *InvalidError", provider.Invalid("size.cpu", -1, "must be positive"), true},
		{"an unknown metric", fmt.Errorf("query: %w", provider.ErrUnknownMetric), true},
		{"denied", fmt.Errorf("aws: stop %q: %w: UnauthorizedOperation", "i-1", provider.ErrDenied), true},
		{"denied, joined", errors.Join(errors.New("first"), provider.ErrDenied), true},
		{"a plain error", errors.New("connection reset by peer"), false},
		{"a timeout", fmt.Errorf("aws: stop: %w", context.DeadlineExceeded), false},
		{"cancelled", context.Canceled, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, provider.ChangedNothing(tt.err), "%v", tt.err)
		})
	}
}

// The sentinels are distinct: a denied call is not a missing resource or
// a throttle, which callers treat differently (retry later, gone).
func TestErrDeniedIsItsOwnSentinel(t *testing.T) {
	t.Parallel()
	for _, other := range []error{provider.ErrNotFound, provider.ErrThrottled, provider.ErrUnsupported, provider.ErrConflict, provider.ErrInvalid} {
		require.NotErrorIs(t, provider.ErrDenied, other)
		require.NotErrorIs(t, other, provider.ErrDenied)
	}
	assert.Equal(t, "denied", provider.ErrDenied.Error())
}
