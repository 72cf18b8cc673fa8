package aws_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestCancelledResizeBoundsTheTypeRollback: a resize whose caller gives
// up while the modify is in flight (EC2 applied it, the reply is lost to
// the cancellation) sets the type back with a context of its own, since
// the caller's has ended. That context had no deadline: a describe that
// never answers (a network that drops the request) held the resize for
// good, the instance stopped. The type's rollback is now bounded by
// Config.WaitTimeout, the instance is started again, and the error says
// the rollback failed and in what state and on what type the instance
// was left.
func TestCancelledResizeBoundsTheTypeRollback(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	release := make(chan struct{}) // ends the lost describe when the test fails
	t.Cleanup(func() { close(release) })
	var modified, lost atomic.Bool
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.modify = func(mctx context.Context, in *ec2.ModifyInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
		if modified.CompareAndSwap(false, true) {
			// EC2 applies it; the caller gives up before the reply.
			if _, err := sdk().ec2.ModifyInstanceAttribute(context.WithoutCancel(mctx), in); err != nil {
				return nil, err
			}
			cancel()
			return nil, mctx.Err()
		}
		return sdk().ec2.ModifyInstanceAttribute(mctx, in, optFns...)
	}
	rec.describe = func(dctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		if modified.Load() && lost.CompareAndSwap(false, true) {
			// The rollback's first describe is lost: only its context ends it.
			select {
			case <-dctx.Done():
				return nil, dctx.Err()
			case <-release:
				return nil, errors.New("released by the test's cleanup")
			}
		}
		return sdk().ec2.DescribeInstances(dctx, in, optFns...)
	}
	cfg := fastConfig()
	cfg.WaitTimeout = 2 * time.Second
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))

	done := make(chan error, 1)
	go func() { done <- d.Resize(ctx, id, provider.Size{InstanceType: "m5.large"}) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Resize has not returned a minute after its caller cancelled it (WaitTimeout 2s): the rollback of the type is unbounded")
	}
	require.ErrorIs(t, err, awsprovider.ErrRollbackFailed)
	require.NotErrorIs(t, err, awsprovider.ErrRolledBack)
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "modify", re.Step)
	require.Error(t, re.RollbackErr)
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "started again, on whatever type")
	assert.Equal(t, "m5.large", typ, "the type could not be set back")
	assert.Contains(t, re.RollbackErr.Error(), "running", "the error says the instance's state")
	assert.Contains(t, re.RollbackErr.Error(), "on type m5.large", "and its type")
}
