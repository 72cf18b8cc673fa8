package aws_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestBadWeightOnMotoIsInvalid (moto): a group whose override's
// WeightedCapacity is not a whole number of capacity units ≥ 1 fails
// Capacity and GetCapacities with provider.ErrInvalid, naming the group,
// the override's instance type and the value. The read failed with no
// sentinel: callers could not tell it from an outage.
func TestBadWeightOnMotoIsInvalid(t *testing.T) {
	t.Parallel()
	for _, weight := range []string{"two", "0", "1.5"} {
		group := mixedGroup(t, 2, weight)
		require.NotEmpty(t, describeGroup(t, group).Instances, "%s: moto holds the weight and launches", weight)
		d := newDriver(t)
		_, err := d.Capacity(tctx(t), group)
		require.ErrorIs(t, err, provider.ErrInvalid, weight)
		for _, s := range []string{`"` + group + `"`, `(type "t3.micro")`, "WeightedCapacity of the override for t3.micro", `"` + weight + `"`} {
			assert.Contains(t, err.Error(), s, weight)
		}
		reads := []provider.CapacityRead{{ID: group}}
		require.NoError(t, d.GetCapacities(tctx(t), reads))
		require.ErrorIs(t, reads[0].Err, provider.ErrInvalid, "%s: GetCapacities", weight)
		require.EqualError(t, reads[0].Err, err.Error(), "%s: GetCapacities answers as Capacity", weight)
	}
}
