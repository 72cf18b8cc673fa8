package aws_test

import (
	"testing"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestStartOfAPendingInstanceWaitsForRunning: Start of an instance
// already pending (another start under way, or an earlier Start whose
// wait the caller gave up) waits for it to run, as Stop of a stopping
// instance waits for it to stop: it returned nil at once, so that a
// start that then failed (pending, stopping, stopped: no capacity, a key
// it cannot use) read as the instance running. With Config.NoWait it
// returns at once, as a start does.
func TestStartOfAPendingInstanceWaitsForRunning(t *testing.T) {
	t.Parallel()
	pending, running, stopping, stopped := ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning, ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped
	tests := []struct {
		name    string
		script  []ec2types.InstanceStateName
		noWait  bool
		wantErr bool
		want    ec2types.InstanceStateName // the state last described
	}{
		{"it runs", []ec2types.InstanceStateName{pending, pending, running}, false, false, running},
		{"its start fails", []ec2types.InstanceStateName{pending, pending, stopping, stopped}, false, true, stopping},
		{"NoWait", []ec2types.InstanceStateName{pending, pending, running}, true, false, pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &startingEC2{state: pending, typ: "t3.micro", script: tt.script}
			cfg := fastConfig()
			cfg.NoWait = tt.noWait
			d := newDriverIn(t, region, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
			err := d.Start(tctx(t), "i-0123456789abcdef0")
			st, _ := fake.now()
			assert.Equal(t, tt.want, st, "the state last described")
			assert.Zero(t, fake.starts, "no StartInstances: it is starting")
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err, "a start that failed is no running instance")
			for _, s := range []error{provider.ErrNotFound, provider.ErrThrottled, provider.ErrInvalid, provider.ErrUnsupported} {
				require.NotErrorIs(t, err, s)
			}
		})
	}
}
