package aws_test

import (
	"context"
	"sync"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// startingEC2 is one running t3.micro instance whose state moves one step
// per DescribeInstances call along a script set when it is started, and
// which, like EC2 (and unlike moto), changes its type only while stopped
// and starts only when stopped. Stopping is instant. The first start
// follows firstStart; later ones go pending, then running. cancel, when
// set, is called by the first start.
type startingEC2 struct {
	offlineEC2
	mu         sync.Mutex
	state      ec2types.InstanceStateName
	typ        string
	script     []ec2types.InstanceStateName
	firstStart []ec2types.InstanceStateName
	cancel     func()
	starts     int
	modifies   int
}

func (f *startingEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) > 0 {
		f.state, f.script = f.script[0], f.script[1:]
	}
	inst := ec2types.Instance{InstanceId: awssdk.String("i-0123456789abcdef0"), InstanceType: ec2types.InstanceType(f.typ),
		State: &ec2types.InstanceState{Name: f.state}}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{inst}}}}, nil
}

func (f *startingEC2) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = ec2types.InstanceStateNameStopped
	return &ec2.StopInstancesOutput{}, nil
}

func (f *startingEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != ec2types.InstanceStateNameStopped {
		return nil, &smithy.GenericAPIError{Code: "IncorrectInstanceState", Message: "The instance is not in a state from which it can be started."}
	}
	f.starts++
	f.state, f.script = ec2types.InstanceStateNamePending, []ec2types.InstanceStateName{ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning}
	if f.starts == 1 {
		f.script = f.firstStart
		if f.cancel != nil {
			f.cancel()
		}
	}
	return &ec2.StartInstancesOutput{}, nil
}

func (f *startingEC2) ModifyInstanceAttribute(_ context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != ec2types.InstanceStateNameStopped {
		return nil, &smithy.GenericAPIError{Code: "IncorrectInstanceState", Message: "The instance 'i-0123456789abcdef0' is not in the 'stopped' state."}
	}
	f.modifies++
	f.typ = awssdk.ToString(in.InstanceType.Value)
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

func (f *startingEC2) now() (ec2types.InstanceStateName, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, f.typ
}

// A start on the new type that EC2 accepts and that then fails (the
// instance goes pending, stopping, stopped: an EBS key it cannot use, no
// capacity after all) failed the InstanceRunning waiter on "stopping", and
// the rollback set the old type on the stopping instance, which EC2
// refuses: the instance was left stopped on the new type. The rollback now
// waits for the instance to stop, then sets the old type and starts it.
func TestResizeRollsBackAStartThatFailsAfterAcceptance(t *testing.T) {
	t.Parallel()
	pending, stopping, stopped := ec2types.InstanceStateNamePending, ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped
	fake := &startingEC2{state: ec2types.InstanceStateNameRunning, typ: "t3.micro",
		firstStart: []ec2types.InstanceStateName{pending, stopping, stopping, stopping, stopped}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
	err := d.Resize(tctx(t), "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large"})
	st, typ := fake.now()
	require.Equal(t, ec2types.InstanceStateNameRunning, st, "the rollback must bring the instance back: %v", err)
	assert.Equal(t, "t3.micro", typ)
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "start", re.Step)
	require.NoError(t, re.RollbackErr)
	assert.Equal(t, 2, fake.starts)
}

// The suspicion that a cancelled resize whose start was accepted (the
// instance pending on the new type) "cannot be set back to its old type"
// is true and intended: setting the type back would take the instance
// down again after the caller gave up. It is left running on the new
// type, and the error says so: ErrRollbackFailed (never a sentinel that
// says nothing changed) with the instance's state and type.
func TestCancelledResizeAfterTheStartLeavesTheNewTypeRunning(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	fake := &startingEC2{state: ec2types.InstanceStateNameRunning, typ: "t3.micro", cancel: cancel,
		firstStart: []ec2types.InstanceStateName{ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
	err := d.Resize(ctx, "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large"})
	require.ErrorIs(t, err, awsprovider.ErrRollbackFailed)
	for _, s := range []error{provider.ErrConflict, provider.ErrThrottled, provider.ErrNotFound, provider.ErrInvalid, provider.ErrUnsupported, awsprovider.ErrRolledBack} {
		require.NotErrorIs(t, err, s)
	}
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "start", re.Step)
	assert.Contains(t, re.RollbackErr.Error(), "m5.large")
	assert.Equal(t, 1, fake.starts, "not stopped and started again")
	assert.Equal(t, 1, fake.modifies, "the type is not set back")
	_, typ := fake.now()
	assert.Equal(t, "m5.large", typ)
}
