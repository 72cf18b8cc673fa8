package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestVerticalMemoryStepIsBounded: a memory step written in KiB (65536
// for 64 MiB) rounded every function's memory up to Lambda's 10,240 MiB;
// a step above MaxMemoryStepMiB is refused naming memory_step_mib, and
// the bound itself is accepted.
func TestVerticalMemoryStepIsBounded(t *testing.T) {
	t.Parallel()
	for _, step := range []int{65536, scaling.MaxMemoryStepMiB + 1, scaling.LambdaMaxMemoryMiB} {
		_, err := scaling.NewVertical(scaling.VerticalConfig{MemoryStepMiB: step})
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "memory step %d MiB", step)
		assert.Equal(t, "memory_step_mib", inv.Field)
		assert.Equal(t, step, inv.Value)
	}
	require.NoError(t, scaling.VerticalConfig{MemoryStepMiB: scaling.MaxMemoryStepMiB}.Validate())
}
