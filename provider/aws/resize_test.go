package aws_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

func TestResizeFunction(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	require.NoError(t, d.Resize(tctx(t), fn, provider.Size{MemoryMiB: 10240, Timeout: 900 * time.Second}))
	cfg, err := sdk().lambda.GetFunctionConfiguration(tctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: &fn})
	require.NoError(t, err)
	assert.Equal(t, int32(10240), awssdk.ToInt32(cfg.MemorySize))
	assert.Equal(t, int32(900), awssdk.ToInt32(cfg.Timeout))

	// By name, to the lower limits.
	require.NoError(t, d.Resize(tctx(t), awssdk.ToString(cfg.FunctionName), provider.Size{MemoryMiB: 128, Timeout: time.Second}))
	r, err := d.Get(tctx(t), fn)
	require.NoError(t, err)
	assert.Equal(t, provider.Size{MemoryMiB: 128, Timeout: time.Second}, r.Size)
}

// TestResizeOfAVersionOrAliasChangesNothing: Lambda changes the
// configuration of the unpublished function ($LATEST) only; a published
// version's is fixed, and an alias serves a version. Resize of a function
// ARN qualified by a version or an alias dropped the qualifier and
// resized $LATEST: it returned nil while what the version or alias runs
// kept its size (and Get of the same ARN, reading $LATEST, showed the new
// one, so the scaling engine took the change for done). It is now
// provider.ErrUnsupported naming the qualifier, before any change; the
// qualifier $LATEST names the unpublished function itself.
func TestResizeOfAVersionOrAliasChangesNothing(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	size := provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second}
	for _, q := range []string{"1", "prod"} {
		err := d.Resize(tctx(t), fn+":"+q, size)
		require.ErrorIs(t, err, provider.ErrUnsupported, q)
		assert.Contains(t, err.Error(), q)
		assert.True(t, provider.ChangedNothing(err), q)
		cfg, err := sdk().lambda.GetFunctionConfiguration(tctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: &fn})
		require.NoError(t, err)
		assert.Equal(t, int32(128), awssdk.ToInt32(cfg.MemorySize), "%s: $LATEST is not resized", q)
	}
	require.NoError(t, d.Resize(tctx(t), fn+":$LATEST", size))
	r, err := d.Get(tctx(t), fn)
	require.NoError(t, err)
	assert.Equal(t, size, r.Size)
}

func TestResizeRejectsBeforeAnyCall(t *testing.T) {
	t.Parallel()
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	fnARN := "arn:aws:lambda:us-east-1:123456789012:function:any"
	tests := []struct {
		name  string
		id    string
		give  provider.Size
		field string
	}{
		{"memory below 128", fnARN, provider.Size{MemoryMiB: 64, Timeout: time.Minute}, "size.memory_mib"},
		{"memory above 10240", fnARN, provider.Size{MemoryMiB: 10241, Timeout: time.Minute}, "size.memory_mib"},
		{"timeout above 900s", fnARN, provider.Size{MemoryMiB: 256, Timeout: 901 * time.Second}, "size.timeout"},
		{"timeout below 1s", fnARN, provider.Size{MemoryMiB: 256, Timeout: 500 * time.Millisecond}, "size.timeout"},
		{"fractional timeout", fnARN, provider.Size{MemoryMiB: 256, Timeout: 1500 * time.Millisecond}, "size.timeout"},
		{"function without timeout", fnARN, provider.Size{MemoryMiB: 256}, "size.timeout"},
		{"function by name, too small", "some-function", provider.Size{MemoryMiB: 64, Timeout: time.Minute}, "size.memory_mib"},
		{"instance without type", "i-0123456789abcdef0", provider.Size{MemoryMiB: 4096}, "size.instance_type"},
		{"instance with a bad type", "i-0123456789abcdef0", provider.Size{InstanceType: "huge"}, "size.instance_type"},
		{"instance with a timeout", "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large", Timeout: time.Second}, "size.timeout"},
		{"negative memory", fnARN, provider.Size{MemoryMiB: -1}, "size.memory_mib"},
		{"zero size", fnARN, provider.Size{}, "size.size"},
		{"bad id", "fn name", provider.Size{MemoryMiB: 256, Timeout: time.Second}, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Resize(tctx(t), tt.id, tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	assert.Zero(t, counter.n.Load(), "invalid sizes must not reach AWS")
}

func TestResizeErrors(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	group := createGroup(t, 0, 1, 0, nil)
	require.ErrorIs(t, d.Resize(tctx(t), group, provider.Size{InstanceType: "m5.large"}), provider.ErrUnsupported)
	require.ErrorIs(t, d.Resize(tctx(t), "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large"}), provider.ErrNotFound)
	err := d.Resize(tctx(t), "arn:aws:lambda:us-east-1:123456789012:function:"+uniq("nope"), provider.Size{MemoryMiB: 256, Timeout: time.Second})
	require.ErrorIs(t, err, provider.ErrNotFound)
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	require.NoError(t, d.Terminate(tctx(t), inst))
	require.ErrorIs(t, d.Resize(tctx(t), inst, provider.Size{InstanceType: "m5.large"}), provider.ErrConflict)
}

func TestResizeInstance(t *testing.T) {
	t.Parallel()
	rec := &recordingEC2{EC2API: sdk().ec2}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	running := runInstances(t, 1, "t3.micro", nil)[0]
	require.NoError(t, d.Resize(tctx(t), running, provider.Size{InstanceType: "m5.large"}))
	st, typ := ec2State(t, running)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "a running instance runs again")
	assert.Equal(t, "m5.large", typ)
	assert.Equal(t, 1, rec.count("StopInstances"))
	assert.Equal(t, 1, rec.count("StartInstances"))

	stopped := runInstances(t, 1, "t3.micro", nil)[0]
	require.NoError(t, d.Stop(tctx(t), stopped))
	require.NoError(t, d.Resize(tctx(t), stopped, provider.Size{InstanceType: "c5.large"}))
	st, typ = ec2State(t, stopped)
	assert.Equal(t, ec2types.InstanceStateNameStopped, st, "a stopped instance stays stopped")
	assert.Equal(t, "c5.large", typ)

	n := rec.count("ModifyInstanceAttribute")
	require.NoError(t, d.Resize(tctx(t), stopped, provider.Size{InstanceType: "c5.large"}))
	assert.Equal(t, n, rec.count("ModifyInstanceAttribute"), "the current size changes nothing")
}

func TestResizeInstanceRollsBack(t *testing.T) {
	t.Parallel()
	boom := errors.New("injected: capacity not available")
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.modify = func(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
		return nil, boom
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	id := runInstances(t, 1, "t3.micro", nil)[0]
	err := d.Resize(tctx(t), id, provider.Size{InstanceType: "m5.large"})
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	require.ErrorIs(t, err, boom)
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "modify", re.Step)
	assert.Equal(t, "t3.micro", re.From)
	require.NoError(t, re.RollbackErr)
	assert.Contains(t, re.Error(), "rolled back")
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "the instance was started again")
	assert.Equal(t, "t3.micro", typ)
}

// TestResizeInstanceRollsBackAFailedStart fails the start after the type
// change (as EC2 does when the new type has no capacity): the driver puts
// the old type back and starts the instance again.
func TestResizeInstanceRollsBackAFailedStart(t *testing.T) {
	t.Parallel()
	noCapacity := &smithy.GenericAPIError{Code: "InsufficientInstanceCapacity", Message: "no m5.large capacity"}
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.start = func(ctx context.Context, in *ec2.StartInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
		if rec.count("StartInstances") == 1 {
			return nil, noCapacity
		}
		return sdk().ec2.StartInstances(ctx, in, optFns...)
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	id := runInstances(t, 1, "t3.micro", nil)[0]
	err := d.Resize(tctx(t), id, provider.Size{InstanceType: "m5.large"})
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	require.ErrorIs(t, err, noCapacity)
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "start", re.Step)
	assert.Equal(t, 2, rec.count("ModifyInstanceAttribute"), "to m5.large, then back")
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	assert.Equal(t, "t3.micro", typ)
}

// TestResizeFailedRollbackMatchesNoNothingChangedSentinel pins that a resize
// whose rollback fails (the instance was stopped and could not be started
// again) matches ErrRollbackFailed and none of the provider sentinels that
// mean nothing changed, although both the failure and the rollback's
// failure (IncorrectInstanceState: ErrConflict) carry one.
func TestResizeFailedRollbackMatchesNoNothingChangedSentinel(t *testing.T) {
	t.Parallel()
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.modify = func(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "rate exceeded"}
	}
	rec.start = func(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "IncorrectInstanceState", Message: "The instance is not in a state from which it can be started."}
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	id := runInstances(t, 1, "t3.micro", nil)[0]
	err := d.Resize(tctx(t), id, provider.Size{InstanceType: "m5.large"})
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "modify", re.Step)
	require.Error(t, re.RollbackErr, "the instance was not restarted")
	require.ErrorIs(t, re.Err, provider.ErrThrottled, "the cause is kept")
	require.ErrorIs(t, re.RollbackErr, provider.ErrConflict, "the rollback's cause is kept")
	require.ErrorIs(t, err, awsprovider.ErrRollbackFailed)
	require.NotErrorIs(t, err, awsprovider.ErrRolledBack)
	for _, s := range []error{provider.ErrConflict, provider.ErrThrottled, provider.ErrNotFound, provider.ErrInvalid, provider.ErrUnsupported} {
		require.NotErrorIs(t, err, s, "a resize that left the instance stopped must not read as nothing changed")
	}
	assert.Contains(t, err.Error(), "rollback failed")
	assert.Contains(t, err.Error(), "IncorrectInstanceState")
	st, _ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameStopped, st)
}

// stoppingEC2 is one instance that, once asked to stop, stays stopping
// until the caller's context has ended and a few more DescribeInstances
// calls were made, then is stopped; like EC2 it refuses to start an
// instance that is stopping (IncorrectInstanceState). It needs no timing.
type stoppingEC2 struct {
	offlineEC2
	mu       sync.Mutex
	state    ec2types.InstanceStateName
	typ      string
	stopCtx  context.Context
	describe int // DescribeInstances calls since stopCtx ended
	starts   int
}

func (f *stoppingEC2) now() ec2types.InstanceStateName {
	if f.state == ec2types.InstanceStateNameStopping && f.stopCtx.Err() != nil && f.describe >= 2 {
		f.state = ec2types.InstanceStateNameStopped
	}
	return f.state
}

func (f *stoppingEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopCtx != nil && f.stopCtx.Err() != nil {
		f.describe++
	}
	inst := ec2types.Instance{InstanceId: awssdk.String("i-0123456789abcdef0"), InstanceType: ec2types.InstanceType(f.typ),
		State: &ec2types.InstanceState{Name: f.now()}}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{inst}}}}, nil
}

func (f *stoppingEC2) StopInstances(ctx context.Context, _ *ec2.StopInstancesInput, _ ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.stopCtx = ec2types.InstanceStateNameStopping, ctx
	return &ec2.StopInstancesOutput{}, nil
}

func (f *stoppingEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	if st := f.now(); st != ec2types.InstanceStateNameStopped && st != ec2types.InstanceStateNameRunning {
		return nil, &smithy.GenericAPIError{Code: "IncorrectInstanceState", Message: "The instance is not in a state from which it can be started."}
	}
	f.state = ec2types.InstanceStateNameRunning
	return &ec2.StartInstancesOutput{}, nil
}

func (f *stoppingEC2) ModifyInstanceAttribute(_ context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typ = awssdk.ToString(in.InstanceType.Value)
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

// TestCancelledResizeWhileStoppingRestartsTheInstance pins that a resize
// whose context ends while the instance is still stopping is rolled back
// completely: the rollback waits (past the caller's cancellation) for the
// instance to stop before starting it, instead of calling StartInstances
// on a stopping instance, which EC2 refuses, leaving it stopped.
func TestCancelledResizeWhileStoppingRestartsTheInstance(t *testing.T) {
	t.Parallel()
	fake := &stoppingEC2{state: ec2types.InstanceStateNameRunning, typ: "t3.micro"}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
	ctx, cancel := context.WithTimeout(tctx(t), 100*time.Millisecond)
	defer cancel()
	err := d.Resize(ctx, "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large"})
	require.Error(t, err)
	fake.mu.Lock()
	st, typ, starts := fake.now(), fake.typ, fake.starts
	fake.mu.Unlock()
	require.Equal(t, ec2types.InstanceStateNameRunning, st, "the rollback must bring the instance back: %v", err)
	assert.Equal(t, "t3.micro", typ)
	assert.Equal(t, 1, starts, "one StartInstances, once the instance had stopped")
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "stop", re.Step)
	require.NoError(t, re.RollbackErr)
}

// TestResizeByInstanceARN pins that Resize accepts an EC2 instance ARN, as
// Get, Stop and Start do: every EC2 call uses the instance ID the ARN names
// (it described the raw ARN and failed with provider.ErrNotFound), while a
// ResizeError keeps the caller's ID.
func TestResizeByInstanceARN(t *testing.T) {
	t.Parallel()
	rec := &recordingEC2{EC2API: sdk().ec2}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	id := runInstances(t, 1, "t3.micro", nil)[0]
	arn := "arn:aws:ec2:us-east-1:123456789012:instance/" + id

	require.NoError(t, d.Resize(tctx(t), arn, provider.Size{InstanceType: "m5.large"}), "Resize of an existing instance by its ARN")
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	assert.Equal(t, "m5.large", typ)

	rec.modify = func(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
		return nil, errors.New("injected")
	}
	err := d.Resize(tctx(t), arn, provider.Size{InstanceType: "c5.large"})
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, arn, re.ID)
	st, typ = ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	assert.Equal(t, "m5.large", typ)
}

// updatingLambda is one function at 256 MiB / 10 s whose GetFunction
// answers statuses (and states, Active when none) in turn (the last one
// repeats), and whose UpdateFunctionConfiguration fails with updateErr or
// else starts an update that the following GetFunction calls answer with
// afterUpdate.
type updatingLambda struct {
	awsprovider.LambdaAPI
	mu          sync.Mutex
	statuses    []lambdatypes.LastUpdateStatus
	states      []lambdatypes.State
	afterUpdate []lambdatypes.LastUpdateStatus
	updateErr   error
	gets        int
	updates     int
}

func (f *updatingLambda) GetFunction(_ context.Context, in *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	status := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	state := lambdatypes.StateActive
	if len(f.states) > 0 {
		state = f.states[0]
		if len(f.states) > 1 {
			f.states = f.states[1:]
		}
	}
	return &lambda.GetFunctionOutput{Configuration: &lambdatypes.FunctionConfiguration{
		FunctionArn: in.FunctionName, FunctionName: awssdk.String("fn"),
		MemorySize: awssdk.Int32(256), Timeout: awssdk.Int32(10),
		State: state, LastUpdateStatus: status,
		StateReasonCode: lambdatypes.StateReasonCodeSubnetOutOfIPAddresses, StateReason: awssdk.String("no free IP address in the subnet"),
		LastUpdateStatusReasonCode: lambdatypes.LastUpdateStatusReasonCodeEniLimitExceeded,
		LastUpdateStatusReason:     awssdk.String("ENI limit reached"),
	}}, nil
}

func (f *updatingLambda) UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates++
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	f.statuses = f.afterUpdate
	return &lambda.UpdateFunctionConfigurationOutput{}, nil
}

// updateCount returns how many updates were asked for.
func (f *updatingLambda) updateCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updates
}

// TestResizeFunctionWaitsForAnUpdateInProgress pins that Resize does not
// report a function's size as done while the update that set it is still
// in progress or after it failed: it waits for the update (nothing to do
// if it succeeds), applies the size again if it failed, and a failure of
// its own update is an error naming Lambda's reason that matches no
// "nothing changed" sentinel. It returned nil at once, the size not in
// effect.
func TestResizeFunctionWaitsForAnUpdateInProgress(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
	size := provider.Size{MemoryMiB: 256, Timeout: 10 * time.Second}
	inProgress, ok, failed := lambdatypes.LastUpdateStatusInProgress, lambdatypes.LastUpdateStatusSuccessful, lambdatypes.LastUpdateStatusFailed
	resize := func(t *testing.T, f *updatingLambda) error {
		d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: f}))
		return d.Resize(tctx(t), arn, size)
	}

	t.Run("in progress then successful", func(t *testing.T) {
		t.Parallel()
		f := &updatingLambda{statuses: []lambdatypes.LastUpdateStatus{inProgress, inProgress, ok}}
		require.NoError(t, resize(t, f))
		assert.Equal(t, 0, f.updateCount(), "the size is in effect once the update succeeded")
		assert.GreaterOrEqual(t, f.gets, 3, "waited for the update")
	})
	t.Run("in progress then failed is applied again", func(t *testing.T) {
		t.Parallel()
		f := &updatingLambda{statuses: []lambdatypes.LastUpdateStatus{inProgress, failed}, afterUpdate: []lambdatypes.LastUpdateStatus{inProgress, ok}}
		require.NoError(t, resize(t, f))
		assert.Equal(t, 1, f.updateCount(), "the failed update is applied again")
	})
	t.Run("last update failed is applied again", func(t *testing.T) {
		t.Parallel()
		f := &updatingLambda{statuses: []lambdatypes.LastUpdateStatus{failed}, afterUpdate: []lambdatypes.LastUpdateStatus{ok}}
		require.NoError(t, resize(t, f))
		assert.Equal(t, 1, f.updates)
	})
	t.Run("own update fails", func(t *testing.T) {
		t.Parallel()
		f := &updatingLambda{statuses: []lambdatypes.LastUpdateStatus{failed}, afterUpdate: []lambdatypes.LastUpdateStatus{inProgress, failed}}
		err := resize(t, f)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ENI limit reached")
		assert.Contains(t, err.Error(), "EniLimitExceeded")
		for _, s := range []error{provider.ErrConflict, provider.ErrThrottled, provider.ErrNotFound, provider.ErrInvalid, provider.ErrUnsupported} {
			require.NotErrorIs(t, err, s, "the update was accepted: something changed")
		}
	})
	t.Run("in progress then failed, another update in progress", func(t *testing.T) {
		t.Parallel()
		f := &updatingLambda{statuses: []lambdatypes.LastUpdateStatus{inProgress, failed},
			updateErr: &lambdatypes.ResourceConflictException{Message: awssdk.String("An update is in progress for resource")}}
		err := resize(t, f)
		require.ErrorIs(t, err, provider.ErrConflict, "the update was refused: nothing changed")
		assert.Equal(t, 1, f.updates)
	})
}

// appliedThenFailsEC2 is an instance whose stop and start take effect at
// once, and whose ModifyInstanceAttribute applies the new type and then
// answers with a server error (the reply lost after EC2 took it).
type appliedThenFailsEC2 struct {
	offlineEC2
	mu     sync.Mutex
	state  ec2types.InstanceStateName
	typ    string
	failed bool
	// blind: once the modify failed, the next describe is throttled.
	blind bool
}

func (f *appliedThenFailsEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.blind && f.failed {
		f.blind = false
		return nil, &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "throttled"}
	}
	inst := ec2types.Instance{InstanceId: awssdk.String("i-0123456789abcdef0"), InstanceType: ec2types.InstanceType(f.typ),
		State: &ec2types.InstanceState{Name: f.state}}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{inst}}}}, nil
}

func (f *appliedThenFailsEC2) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = ec2types.InstanceStateNameStopped
	return &ec2.StopInstancesOutput{}, nil
}

func (f *appliedThenFailsEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = ec2types.InstanceStateNameRunning
	return &ec2.StartInstancesOutput{}, nil
}

func (f *appliedThenFailsEC2) ModifyInstanceAttribute(_ context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typ = awssdk.ToString(in.InstanceType.Value)
	if !f.failed {
		f.failed = true
		return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "An internal error has occurred", Fault: smithy.FaultServer}
	}
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

// A modify that fails after EC2 applied it (a server error) is rolled back
// to the old type before the instance is started again: ErrRolledBack
// says "restored to From", and it was not (the instance ran the new type).
func TestResizeRollsBackAModifyThatApplied(t *testing.T) {
	t.Parallel()
	fake := &appliedThenFailsEC2{state: ec2types.InstanceStateNameRunning, typ: "t3.micro"}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
	err := d.Resize(tctx(t), "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large"})
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	assert.Equal(t, "t3.micro", fake.typ, "the type the failed modify applied is put back")
	assert.Equal(t, ec2types.InstanceStateNameRunning, fake.state, "and the instance restarted")
}

// When the rollback cannot read the instance's type back (one throttled
// describe), it still restarts the instance (ErrRollbackFailed: the type may be the new one):
// it skipped the restart and left the instance stopped.
func TestResizeRollbackRestartsEvenWhenItCannotReadTheType(t *testing.T) {
	t.Parallel()
	fake := &appliedThenFailsEC2{state: ec2types.InstanceStateNameRunning, typ: "t3.micro", blind: true}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
	err := d.Resize(tctx(t), "i-0123456789abcdef0", provider.Size{InstanceType: "m5.large"})
	require.ErrorIs(t, err, awsprovider.ErrRollbackFailed)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	assert.Equal(t, ec2types.InstanceStateNameRunning, fake.state, "restarted, not left stopped")
}
