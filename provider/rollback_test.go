package provider_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider"
)

// hostKey is a host's own context key.
type hostKey struct{}

// TestIsRollback: a context marked by WithRollback, and every context
// derived from it (the deadline a caller puts on its write, a value of
// its own), is a rollback's; any other is not.
func TestIsRollback(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	assert.False(t, provider.IsRollback(ctx))
	marked := provider.WithRollback(ctx)
	assert.True(t, provider.IsRollback(marked))
	assert.False(t, provider.IsRollback(ctx), "the parent is not marked")
	derived, cancel := context.WithCancel(context.WithValue(marked, hostKey{}, "host"))
	defer cancel()
	assert.True(t, provider.IsRollback(derived))
	assert.True(t, provider.IsRollback(context.WithoutCancel(marked)))
}
