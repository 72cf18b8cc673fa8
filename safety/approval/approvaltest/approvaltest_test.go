package approvaltest_test

import (
	"testing"

	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	approvaltest.Run(t, func(*testing.T) approval.Store {
		return approval.NewMemoryStore()
	})
}
