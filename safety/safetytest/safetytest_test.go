package safetytest_test

import (
	"testing"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/safetytest"
)

func TestMemoryApprovalStore(t *testing.T) {
	t.Parallel()
	safetytest.RunApprovalStore(t, func(*testing.T) safety.ApprovalStore {
		return safety.NewMemoryApprovalStore()
	})
}
