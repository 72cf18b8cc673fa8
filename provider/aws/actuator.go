package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/idlescale/idlescale/provider"
)

// Start implements provider.Actuator for EC2 instances: StartInstances, then
// (unless Config.NoWait) the SDK's InstanceRunning waiter. Starting a running
// instance changes nothing; a pending one is waited for as a start is
// (unless Config.NoWait): its start may still fail. A stopping, shutting-down or
// terminated instance returns provider.ErrConflict; groups and functions
// provider.ErrUnsupported; unknown IDs provider.ErrNotFound.
func (d *Driver) Start(ctx context.Context, id string) (err error) {
	defer d.red.Errorp(&err)
	inst, err := d.actuatable(ctx, "start", id)
	if err != nil {
		return err
	}
	switch st := instanceStateName(inst); st {
	case ec2types.InstanceStateNameRunning:
		return nil
	case ec2types.InstanceStateNamePending:
		// Starting already: waited for as a start is (and as Stop waits
		// for a stopping instance), since a start can still fail.
		if d.cfg.NoWait {
			return nil
		}
		return d.waitRunning(ctx, "start", awssdk.ToString(inst.InstanceId))
	case ec2types.InstanceStateNameStopped:
	default:
		return fmt.Errorf("aws: start %q: %w: the instance is %s", id, provider.ErrConflict, st)
	}
	iid := awssdk.ToString(inst.InstanceId) // id may be its ARN
	var at attempts
	if _, err := d.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{iid}}, at.ec2); err != nil {
		return at.write("start", id, err)
	}
	d.log.InfoContext(ctx, "aws: started instance", "id", id)
	if d.cfg.NoWait {
		return nil
	}
	return d.waitRunning(ctx, "start", iid)
}

// Stop implements provider.Actuator for EC2 instances: StopInstances (with
// Hibernate when Config.Hibernate is set), then (unless Config.NoWait) the
// SDK's InstanceStopped waiter. Stopping a stopped or stopping instance
// changes nothing. A pending, shutting-down or terminated instance returns
// provider.ErrConflict; groups, functions and an instance in service in an
// Auto Scaling group (which would replace it) provider.ErrUnsupported;
// unknown IDs provider.ErrNotFound.
func (d *Driver) Stop(ctx context.Context, id string) (err error) {
	defer d.red.Errorp(&err)
	inst, err := d.actuatable(ctx, "stop", id)
	if err != nil {
		return err
	}
	switch st := instanceStateName(inst); st {
	case ec2types.InstanceStateNameStopped:
		return nil
	case ec2types.InstanceStateNameStopping:
		if d.cfg.NoWait {
			return nil
		}
		return d.waitStopped(ctx, "stop", awssdk.ToString(inst.InstanceId))
	case ec2types.InstanceStateNameRunning:
	default:
		return fmt.Errorf("aws: stop %q: %w: the instance is %s", id, provider.ErrConflict, st)
	}
	if err := d.notAGroupMember(ctx, "stop", id, inst); err != nil {
		return err
	}
	iid := awssdk.ToString(inst.InstanceId) // id may be its ARN
	in := &ec2.StopInstancesInput{InstanceIds: []string{iid}}
	if d.cfg.Hibernate {
		in.Hibernate = awssdk.Bool(true)
	}
	var at attempts
	if _, err := d.ec2.StopInstances(ctx, in, at.ec2); err != nil {
		return at.write("stop", id, err)
	}
	d.log.InfoContext(ctx, "aws: stopped instance", "id", id, "hibernate", d.cfg.Hibernate)
	if d.cfg.NoWait {
		return nil
	}
	return d.waitStopped(ctx, "stop", iid)
}

// Terminate implements provider.Actuator for EC2 instances:
// TerminateInstances, then (unless Config.NoWait) the SDK's
// InstanceTerminated waiter. Terminating a terminated instance changes
// nothing. Groups, functions and load balancers return
// provider.ErrUnsupported (the driver never deletes them), and so does an
// instance in service in an Auto Scaling group (which would launch
// another) and one launched by a persistent Spot request not cancelled
// (EC2 opens the request again and launches another; its request is read
// with DescribeSpotInstanceRequests, whose failure fails the call, before
// any change); unknown IDs provider.ErrNotFound.
//
// For an EBS volume: DeleteVolume, then (unless Config.NoWait) the SDK's
// VolumeDeleted waiter. Deleting a deleted volume changes nothing, and a
// deleting one is waited for. A volume attached to an instance (in-use,
// or with any attachment) returns provider.ErrConflict naming the
// instances before any change, as does one creating or in error: only a
// detached (available) volume is deleted. A DeleteVolume that answers not
// found (an earlier attempt whose reply was lost deleted it, or another
// client did) has the volume gone, and returns nil.
func (d *Driver) Terminate(ctx context.Context, id string) (err error) {
	defer d.red.Errorp(&err)
	if t, ok, _ := d.classify(ctx, id); ok && t.kind == provider.KindVolume && provider.ValidateID(id) == nil {
		if err := ctxErr(ctx, "terminate", id); err != nil {
			return err
		}
		return d.terminateVolume(ctx, id, t)
	}
	inst, err := d.actuatable(ctx, "terminate", id)
	if err != nil {
		return err
	}
	if instanceStateName(inst) == ec2types.InstanceStateNameTerminated {
		return nil
	}
	if err := d.notAGroupMember(ctx, "terminate", id, inst); err != nil {
		return err
	}
	if err := d.notOfAPersistentSpotRequest(ctx, "terminate", id, inst); err != nil {
		return err
	}
	iid := awssdk.ToString(inst.InstanceId) // id may be its ARN
	var at attempts
	if _, err := d.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{iid}}, at.ec2); err != nil {
		return at.write("terminate", id, err)
	}
	d.log.InfoContext(ctx, "aws: terminated instance", "id", id)
	if d.cfg.NoWait {
		return nil
	}
	err = ec2.NewInstanceTerminatedWaiter(d.ec2, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = d.cfg.WaitMinDelay, d.cfg.WaitMaxDelay
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{iid}}, d.cfg.WaitTimeout)
	return d.waitErr(ctx, "terminate", id, err)
}

var _ provider.TerminateChecker = (*Driver)(nil)

// CanTerminate implements provider.TerminateChecker: an EC2 instance or
// an EBS volume may be terminated (a volume that is not detached is
// refused by Terminate, which reads it); every other kind is
// provider.ErrUnsupported, since the driver never deletes a group, a
// function, a load balancer or a database, and so is an instance listed
// as a member of an Auto Scaling group (see CanStop).
func (d *Driver) CanTerminate(r provider.Resource) error {
	switch r.Kind {
	case provider.KindInstance:
		return groupMember("terminate", r)
	case provider.KindVolume:
		return nil
	}
	return fmt.Errorf("aws: terminate %q: %w: the driver never deletes a %s", r.ID, provider.ErrUnsupported, r.Kind)
}

var _ provider.StopChecker = (*Driver)(nil)

// CanStop implements provider.StopChecker: an EC2 instance may be
// stopped; every other kind is provider.ErrUnsupported, as Stop refuses
// it: the driver stops no database, function, group or load balancer, and
// a volume's state follows its attachment. An instance listed as a member
// of an Auto Scaling group (EC2's aws:autoscaling:groupName tag, which
// the driver's List and Get copy into Tags) is provider.ErrUnsupported
// too, naming the group: Stop refuses one in service, so that the reaper
// would ask a person to approve a stop of an idle member at every run.
// CanStop reads nothing, so it refuses a tagged member that Stop, which
// reads its lifecycle state, would stop (one in Standby or leaving its
// group, or whose group is gone): the reaper leaves those alone (fail
// closed), and a host stops them with Stop.
func (d *Driver) CanStop(r provider.Resource) error {
	if r.Kind == provider.KindInstance {
		return groupMember("stop", r)
	}
	return fmt.Errorf("aws: stop %q: %w: the driver stops EC2 instances only, not a %s", r.ID, provider.ErrUnsupported, r.Kind)
}

// groupMember returns an error matching provider.ErrUnsupported, naming
// the group, when the instance r is listed as a member of an Auto Scaling
// group.
func groupMember(op string, r provider.Resource) error {
	if g := r.Tags[groupNameTag]; g != "" {
		return fmt.Errorf("aws: %s %q: %w: the instance is a member of Auto Scaling group %q (tag %s), which replaces a member it finds stopped or terminated: change the group's capacity, or put the instance in Standby and call %s directly",
			op, r.ID, provider.ErrUnsupported, g, groupNameTag, op)
	}
	return nil
}

// actuatable validates id, checks that it is an instance and describes it.
func (d *Driver) actuatable(ctx context.Context, op, id string) (ec2types.Instance, error) {
	t, err := d.resolve(ctx, op, id)
	if err != nil {
		return ec2types.Instance{}, err
	}
	switch {
	case t.kind == provider.KindVolume:
		return ec2types.Instance{}, fmt.Errorf("aws: %s %q: %w: a volume cannot be started or stopped (its state follows its attachment); Terminate deletes a detached one", op, id, provider.ErrUnsupported)
	case t.kind != provider.KindInstance:
		return ec2types.Instance{}, fmt.Errorf("aws: %s %q: %w: a %s cannot be started, stopped or terminated by the driver", op, id, provider.ErrUnsupported, t.kind)
	}
	inst, err := d.describeInstance(ctx, t.id)
	if err != nil {
		return ec2types.Instance{}, wrap(op, id, err)
	}
	return inst, nil
}

// groupNameTag is the tag EC2 gives the instances an Auto Scaling group
// launches, naming the group.
const groupNameTag = "aws:autoscaling:groupName"

// notAGroupMember returns an error matching provider.ErrUnsupported,
// naming the group, when inst (the instance id) is a member of an Auto
// Scaling group that health-checks it: Auto Scaling takes a stopped
// member for unhealthy and replaces it (a stop would be a termination),
// and launches another for one terminated. A member in Standby, or
// leaving its group (detaching, terminating), and one whose group no
// longer exists are not refused.
func (d *Driver) notAGroupMember(ctx context.Context, op, id string, inst ec2types.Instance) error {
	var group string
	for _, t := range inst.Tags {
		if awssdk.ToString(t.Key) == groupNameTag {
			group = awssdk.ToString(t.Value)
		}
	}
	if group == "" {
		return nil
	}
	g, err := d.describeGroup(ctx, group)
	switch {
	case errors.Is(err, provider.ErrNotFound):
		return nil
	case err != nil:
		return wrap(op+": describe its Auto Scaling group", id, err)
	}
	iid := awssdk.ToString(inst.InstanceId)
	for _, m := range g.Instances {
		if awssdk.ToString(m.InstanceId) != iid {
			continue
		}
		if st := m.LifecycleState; countsTowardDesired(st) || strings.HasPrefix(string(st), "Warmed:") {
			return fmt.Errorf("aws: %s %q: %w: the instance is %s in Auto Scaling group %q, which replaces a member it finds stopped or terminated: change the group's capacity, or put the instance in Standby first",
				op, id, provider.ErrUnsupported, st, group)
		}
	}
	return nil
}

// notOfAPersistentSpotRequest returns an error matching
// provider.ErrUnsupported, naming the request, when inst (the instance
// id) was launched by a persistent Spot request that is not cancelled,
// closed or failed: EC2 opens such a request again when its instance is
// terminated, and launches another in its place (AWS: cancel the request
// first), so that a terminate would save nothing and lose the instance's
// data. A request EC2 no longer knows launches nothing. A describe that
// fails otherwise fails the call: whether the request is persistent is
// then not known (fail closed).
func (d *Driver) notOfAPersistentSpotRequest(ctx context.Context, op, id string, inst ec2types.Instance) error {
	rid := awssdk.ToString(inst.SpotInstanceRequestId)
	if rid == "" {
		return nil
	}
	out, err := d.ec2.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{rid}})
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "InvalidSpotInstanceRequestID.NotFound":
		return nil
	case err != nil:
		return wrap(op+": describe its Spot request "+rid, id, err)
	}
	for _, r := range out.SpotInstanceRequests {
		if awssdk.ToString(r.SpotInstanceRequestId) != rid || r.Type != ec2types.SpotInstanceTypePersistent {
			continue
		}
		switch r.State {
		case ec2types.SpotInstanceStateCancelled, ec2types.SpotInstanceStateClosed, ec2types.SpotInstanceStateFailed:
			continue
		}
		return fmt.Errorf("aws: %s %q: %w: the instance was launched by persistent Spot request %s (state %s), which EC2 opens again to launch another in its place: cancel the request first",
			op, id, provider.ErrUnsupported, rid, r.State)
	}
	return nil
}

func instanceStateName(inst ec2types.Instance) ec2types.InstanceStateName {
	if inst.State == nil {
		return ""
	}
	return inst.State.Name
}

func (d *Driver) waitRunning(ctx context.Context, op, id string) error {
	err := ec2.NewInstanceRunningWaiter(d.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = d.cfg.WaitMinDelay, d.cfg.WaitMaxDelay
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, d.cfg.WaitTimeout)
	return d.waitErr(ctx, op, id, err)
}

func (d *Driver) waitStopped(ctx context.Context, op, id string) error {
	return d.waitErr(ctx, op, id, d.waitStoppedRaw(ctx, id))
}

// waitStoppedRaw is waitStopped's wait, returning the waiter's error as
// it is: a describe that failed is a *smithy.OperationError.
func (d *Driver) waitStoppedRaw(ctx context.Context, id string) error {
	return ec2.NewInstanceStoppedWaiter(d.ec2, func(o *ec2.InstanceStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = d.cfg.WaitMinDelay, d.cfg.WaitMaxDelay
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, d.cfg.WaitTimeout)
}

// waitErr wraps a waiter's failure; the caller's context error, when it is
// the cause, stays in the chain. A waiter runs after EC2 accepted the
// change (or while one is under way), so its failure (a throttled or
// failed describe, an instance no longer found) says nothing of whether
// the change happens: the error matches none of the provider's sentinels
// that say nothing changed, which would have the caller refund its budget
// and approval and try again. Its cause is kept in the message.
func (d *Driver) waitErr(ctx context.Context, op, id string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("aws: %s %q: waiting: %w (%s)", op, id, cerr, err.Error())
	}
	// The cause's text only: wrapped, its sentinel would say nothing changed.
	return fmt.Errorf("aws: %s %q: waiting after the request was accepted (the change may still happen): %s", op, id, err.Error())
}
