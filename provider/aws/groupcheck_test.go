package aws_test

import (
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestCheckersRefuseAGroupMember: an instance the driver lists as a
// member of an Auto Scaling group (EC2's aws:autoscaling:groupName tag)
// is refused by CanStop and CanTerminate, naming the group, as Stop and
// Terminate refuse it after a read: both allowed it, so the reaper asked
// a person to approve the stop of an idle group member at every run, and
// the approved stop was then refused. A stand-alone instance is allowed.
func TestCheckersRefuseAGroupMember(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 0, 3, 1, nil)
	g := describeGroup(t, group)
	require.Len(t, g.Instances, 1)
	member := awssdk.ToString(g.Instances[0].InstanceId)
	d := newDriver(t)
	ctx := tctx(t)

	r, err := d.Get(ctx, member)
	require.NoError(t, err)
	for name, check := range map[string]func(provider.Resource) error{"CanStop": d.CanStop, "CanTerminate": d.CanTerminate} {
		err := check(r)
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		assert.Contains(t, err.Error(), group, name)
	}
	rs, err := d.List(ctx, provider.Filter{IDs: []string{member}})
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.ErrorIs(t, d.CanStop(rs[0]), provider.ErrUnsupported, "as listed")

	alone := r
	delete(alone.Tags, "aws:autoscaling:groupName")
	require.NoError(t, d.CanStop(alone))
	require.NoError(t, d.CanTerminate(alone))
}
