package aws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/idlescale/idlescale/provider"
)

// Capacity implements provider.Scaler for Auto Scaling groups (by name or
// ARN): min, max and desired from DescribeAutoScalingGroups, Current the
// instances counted toward the desired capacity (Pending, Pending:Wait,
// Pending:Proceed, InService, Quarantined and the root volume replacement
// states; not Terminating*, Terminated, Detaching, Detached, EnteringStandby,
// Standby or a warm pool's Warmed:*, which Auto Scaling keeps outside the
// desired capacity), Ready those InService and Healthy. Both are in the
// group's capacity units, as its desired capacity is: each instance counts
// its weight (see "Weighted groups" in the package doc; 1 in a group
// without weights), and a weight that is not known or not a whole number
// ≥ 1 fails the read, naming the group and the instance. Instances
// and functions return provider.ErrUnsupported, unknown names
// provider.ErrNotFound.
func (d *Driver) Capacity(ctx context.Context, id string) (_ provider.Capacity, err error) {
	defer d.red.Errorp(&err)
	g, err := d.group(ctx, "capacity", id)
	if err != nil {
		return provider.Capacity{}, err
	}
	return groupCapacity(g)
}

// SetCapacity implements provider.Scaler. want is validated (0 ≤ Min ≤
// Desired ≤ Max ≤ math.MaxInt32, Auto Scaling's 32-bit sizes) before any
// API call. When only the desired capacity
// changes the driver calls SetDesiredCapacity (honouring the group's
// cooldown when Config.HonorCooldown is set, unless ctx is marked by
// provider.WithRollback: a rollback is sent with HonorCooldown false; a
// refusal in the cooldown, or while a scaling activity is in progress
// (ScalingActivityInProgress), matches provider.ErrThrottled and
// provider.ErrConflict); otherwise
// UpdateAutoScalingGroup with the bounds, and with the desired capacity
// only when it changes (a desired capacity read just before may be stale:
// the group's own scaling may have moved it, and Auto Scaling clamps it
// into the new bounds itself). Setting the current spec
// changes nothing. A write the SDK retried after an attempt that may
// have been applied (a server error, a lost reply) fails with an error
// matching none of the sentinels that say nothing changed, whatever its
// last attempt answered (see "Errors and retries" in the package doc). A group being deleted (its Status "Delete in
// progress", which Auto Scaling refuses to modify) is
// provider.ErrConflict naming the status, before any write. Unknown groups return provider.ErrNotFound, even when
// AWS answers with a server error (the group is described again to tell).
func (d *Driver) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) (err error) {
	defer d.red.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return fmt.Errorf("aws: set capacity: %w", err)
	}
	if err := want.Validate(); err != nil {
		return fmt.Errorf("aws: set capacity %q: %w", id, provider.Within("capacity", err))
	}
	if want.Max > math.MaxInt32 {
		// Min ≤ Desired ≤ Max: the largest is checked. Sent as int32 it
		// would wrap into another size that Auto Scaling accepts.
		return fmt.Errorf("aws: set capacity %q: %w", id, provider.Invalid("capacity.max", want.Max,
			fmt.Sprintf("Auto Scaling's sizes are 32-bit: must be at most %d", math.MaxInt32)))
	}
	g, err := d.group(ctx, "set capacity", id)
	if err != nil {
		return err
	}
	if deleting(g) {
		// Auto Scaling refuses to modify it (a ValidationError, which
		// would read as bad input), and it is going away: nothing it
		// has, the current spec included, is set.
		return fmt.Errorf("aws: set capacity %q: %w: the group is being deleted (status %q)", id, provider.ErrConflict, awssdk.ToString(g.Status))
	}
	cur := groupSpec(g)
	if cur == want {
		return nil
	}
	name := awssdk.ToString(g.AutoScalingGroupName)
	var at attempts
	if cur.Min == want.Min && cur.Max == want.Max {
		_, err = d.asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
			AutoScalingGroupName: &name,
			DesiredCapacity:      awssdk.Int32(int32(want.Desired)),
			// A rollback (provider.IsRollback) undoes a change that
			// most often started the cooldown in effect: it must not
			// wait for it.
			HonorCooldown: awssdk.Bool(d.cfg.HonorCooldown && !provider.IsRollback(ctx)),
		}, at.asg)
	} else {
		in := &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: &name,
			MinSize:              awssdk.Int32(int32(want.Min)),
			MaxSize:              awssdk.Int32(int32(want.Max)),
		}
		// The desired capacity is sent only when it changes: the one read
		// above may be stale (the group's own policy, another caller), and
		// written back it would undo their change. Auto Scaling clamps
		// the desired capacity into the new bounds itself.
		if want.Desired != cur.Desired {
			in.DesiredCapacity = awssdk.Int32(int32(want.Desired))
		}
		_, err = d.asg.UpdateAutoScalingGroup(ctx, in, at.asg)
	}
	if err != nil {
		return d.capacityErr(ctx, id, name, &at, err)
	}
	d.log.InfoContext(ctx, "aws: set capacity", "group", name, "min", want.Min, "max", want.Max, "desired", want.Desired)
	return nil
}

// capacityErr maps a failed capacity change. Auto Scaling reports an
// unknown group as a ValidationError (and moto as an HTTP 500), and a group
// deleted between describe and update is possible: a server or validation
// error is checked against a fresh describe. A call retried after an
// attempt that may have been applied (at: a server error, a lost reply)
// fails with an error that matches none of the sentinels that say
// nothing changed, whatever its last attempt answered (throttled, or the
// scaling activity the first attempt started in progress).
func (d *Driver) capacityErr(ctx context.Context, id, name string, at *attempts, err error) error {
	if ctx.Err() == nil && (isServerError(err) || errors.Is(sentinel(err), provider.ErrInvalid)) {
		if _, derr := d.describeGroup(ctx, name); errors.Is(derr, provider.ErrNotFound) {
			return fmt.Errorf("aws: set capacity %q: %w: the group no longer exists: %w", id, provider.ErrNotFound, err)
		}
	}
	if at.earlier {
		return at.write("set capacity", id, err)
	}
	// A refusal in cooldown changed nothing and succeeds once the cooldown
	// ends: a rate limit on scaling activities, which the scaling engine
	// retries (ErrThrottled) within its RetryDeadline, rather than fail a
	// plan's next step the same cooldown refuses (a rollback is not sent
	// honouring it: provider.IsRollback). Auto
	// Scaling refuses so with the code ScalingActivityInProgress, whose
	// message may name the activity rather than the cooldown ("Scaling
	// activity … is in progress and blocks this action"). A server error
	// that mentions one says nothing of whether the change was applied.
	var api interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !isServerError(err) && errors.As(err, &api) &&
		(api.ErrorCode() == "ScalingActivityInProgress" || strings.Contains(strings.ToLower(api.ErrorMessage()), "cooldown")) {
		return fmt.Errorf("aws: set capacity %q: %w (%w: in the group's cooldown): %w", id, provider.ErrThrottled, provider.ErrConflict, err)
	}
	return wrap("set capacity", id, err)
}

// group resolves id to an Auto Scaling group and describes it.
func (d *Driver) group(ctx context.Context, op, id string) (*asgtypes.AutoScalingGroup, error) {
	t, err := d.resolve(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if t.kind != provider.KindGroup {
		return nil, fmt.Errorf("aws: %s %q: %w: a %s is not an Auto Scaling group", op, id, provider.ErrUnsupported, t.kind)
	}
	g, err := d.targetGroup(ctx, t)
	if err != nil {
		return nil, wrap(op, id, err)
	}
	return g, nil
}

// groupSpec is g's bounds and desired capacity, in its capacity units.
func groupSpec(g *asgtypes.AutoScalingGroup) provider.CapacitySpec {
	return provider.CapacitySpec{
		Min:     int(awssdk.ToInt32(g.MinSize)),
		Max:     int(awssdk.ToInt32(g.MaxSize)),
		Desired: int(awssdk.ToInt32(g.DesiredCapacity)),
	}
}

// groupCapacity is g's capacity, Current and Ready in the units of its
// desired capacity: the sum of the weights (weight) of the instances
// counted toward it, and of those in service and healthy. Auto Scaling
// launches whole instances until the desired capacity is met, which a
// weighted group can exceed by less than the weight of one instance (its
// overage): an overage less than the smallest counted weight is reported
// as Current = Desired, where Auto Scaling leaves the group, with Ready
// at most Current. An instance whose weight is unknown or invalid fails
// the read with provider.ErrInvalid, naming the group, the instance, its
// type and where its weight came from (its own WeightedCapacity or its
// type's override) with the value.
func groupCapacity(g *asgtypes.AutoScalingGroup) (provider.Capacity, error) {
	c := provider.Capacity{CapacitySpec: groupSpec(g)}
	w := groupWeights(g)
	lightest := 0
	for _, inst := range g.Instances {
		if !countsTowardDesired(inst.LifecycleState) {
			continue
		}
		n, err := w.of(inst)
		if err != nil {
			return provider.Capacity{}, fmt.Errorf("aws: capacity of group %q: %w", awssdk.ToString(g.AutoScalingGroupName), err)
		}
		c.Current += n
		if lightest == 0 || n < lightest {
			lightest = n
		}
		if inst.LifecycleState == asgtypes.LifecycleStateInService && strings.EqualFold(awssdk.ToString(inst.HealthStatus), "Healthy") {
			c.Ready += n
		}
	}
	if c.Current > c.Desired && c.Current-lightest < c.Desired {
		c.Current = c.Desired // the overage of a weighted group: Auto Scaling keeps it
		c.Ready = min(c.Ready, c.Current)
	}
	return c, nil
}

// weights are the capacity units of a group's instances by instance type,
// from its mixed instances policy's overrides.
type weights struct {
	byType   map[string]string // override instance type → WeightedCapacity
	weighted bool              // the group counts in units other than instances
	unit     string            // what its desired capacity counts, for messages
}

// groupWeights reads g's weights: the WeightedCapacity of its mixed
// instances policy's overrides; a DesiredCapacityType other than units
// (vcpu, memory-mib) counts in units too, whose weights only the
// instances carry.
func groupWeights(g *asgtypes.AutoScalingGroup) weights {
	w := weights{unit: "units"}
	if t := awssdk.ToString(g.DesiredCapacityType); t != "" && t != "units" {
		w.weighted, w.unit = true, t
	}
	if m := g.MixedInstancesPolicy; m != nil && m.LaunchTemplate != nil {
		for _, o := range m.LaunchTemplate.Overrides {
			if o.WeightedCapacity == nil {
				continue
			}
			w.weighted = true
			if t := awssdk.ToString(o.InstanceType); t != "" {
				if w.byType == nil {
					w.byType = make(map[string]string)
				}
				if _, ok := w.byType[t]; !ok { // the first override of a type
					w.byType[t] = *o.WeightedCapacity
				}
			}
		}
	}
	return w
}

// of returns the capacity units instance inst counts for: its own
// WeightedCapacity (as DescribeAutoScalingGroups reports it), else the
// weight of its instance type's override, else 1 in a group without
// weights. A weight that is not a whole number from 1, or an instance of
// a weighted group whose weight is not known, is an error matching
// provider.ErrInvalid that names the instance, its type, the weight's
// source and the value: the group's configuration (or Auto Scaling's
// answer) gives a weight the driver cannot count in, as a malformed value
// it is given, not a state that changes (ErrConflict) or a call to retry.
func (w weights) of(inst asgtypes.Instance) (int, error) {
	id, typ := awssdk.ToString(inst.InstanceId), awssdk.ToString(inst.InstanceType)
	src, s := "", ""
	switch o, ok := w.byType[typ]; {
	case inst.WeightedCapacity != nil:
		src, s = "its WeightedCapacity", *inst.WeightedCapacity
	case ok:
		src, s = fmt.Sprintf("the WeightedCapacity of the override for %s", typ), o
	case w.weighted:
		return 0, fmt.Errorf("instance %s (type %q): %w: its weight is not known: the group counts its capacity in %s and neither the instance nor an override for its type has a WeightedCapacity", id, typ, provider.ErrInvalid, w.unit)
	default:
		return 1, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("instance %s (type %q): %w: %s is %q, not a whole number of capacity units ≥ 1", id, typ, provider.ErrInvalid, src, s)
	}
	return n, nil
}

// countsTowardDesired reports whether an instance in lifecycle state s is
// part of its group's desired capacity. Terminating and detaching instances
// have left it; Auto Scaling decrements the desired capacity for an
// instance entering standby, or launches a replacement that counts instead;
// warm pool instances (Warmed:*) are outside the group until they launch
// into it (as Pending).
func countsTowardDesired(s asgtypes.LifecycleState) bool {
	state := string(s)
	switch {
	case strings.HasPrefix(state, "Terminat"), strings.HasPrefix(state, "Detach"), strings.HasPrefix(state, "Warmed:"):
		return false
	case s == asgtypes.LifecycleStateEnteringStandby, s == asgtypes.LifecycleStateStandby:
		return false
	}
	return true
}

// deleting reports whether g is being deleted (its Status "Delete in
// progress", the only status Auto Scaling gives).
func deleting(g *asgtypes.AutoScalingGroup) bool {
	return g.Status != nil && strings.Contains(strings.ToLower(*g.Status), "delete")
}
