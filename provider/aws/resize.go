package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/idlescale/idlescale/provider"
)

// Lambda's configuration limits, inclusive.
const (
	// LambdaMinMemoryMiB and LambdaMaxMemoryMiB bound a function's memory.
	LambdaMinMemoryMiB = 128
	LambdaMaxMemoryMiB = 10240
	// LambdaMinTimeout and LambdaMaxTimeout bound a function's timeout; it
	// must be a whole number of seconds.
	LambdaMinTimeout = time.Second
	LambdaMaxTimeout = 900 * time.Second
)

// instanceTypePattern is the shape of an EC2 instance type ("m5.large",
// "u-6tb1.metal", "c7gd.16xlarge").
var instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// Resize implements provider.Resizer.
//
// A Lambda function (by name or ARN) gets UpdateFunctionConfiguration with
// size.MemoryMiB (128–10,240 MiB) and size.Timeout (1–900 s, whole
// seconds), then the SDK's FunctionUpdatedV2 waiter; an ARN or a name
// qualified by a version or an alias ("fn:prod") is
// provider.ErrUnsupported (Lambda changes the unpublished function,
// $LATEST, only), and a function whose creation
// failed (State Failed: Lambda says to delete and create it again) is
// provider.ErrConflict, both before any change. An update already in
// progress (or a function still being created) is waited for first
// (Config.WaitTimeout); a size whose update failed is applied again, not
// taken as current. If the update is accepted but fails or its wait does,
// the error names Lambda's reason and matches no provider sentinel (only a
// context error, when that is the cause). An EC2 instance gets
// size.InstanceType: a running instance is stopped (waited for), modified
// with ModifyInstanceAttribute and started again (waited for); a stopped one
// is only modified. If a step fails the driver restores the previous type
// and state and returns a *ResizeError matching ErrRolledBack and the
// failure's sentinel; if the rollback fails too, the *ResizeError matches
// only ErrRollbackFailed (no provider sentinel: something changed), and
// its RollbackErr names the state and type the instance was left in (or
// says they are unknown). The rollback runs even when the caller's context
// has ended, each of its steps bounded by Config.WaitTimeout. A stop
// whose outcome is unknown (a retry after a lost reply, or a request the
// caller's context cut short in flight, which Resize then returns up to
// Config.WaitTimeout after the cancellation) is rolled back: the instance
// is started again once stopped; one after which the
// instance is seen running on its type with the launch time it had
// (never stopped) throughout the wait for it to stop (Config.WaitTimeout)
// changed nothing: the error is no *ResizeError and
// carries the stop's last sentinel (provider.ErrThrottled for a throttled
// retry). A wait cut short by a describe that failed shows nothing of the
// kind: the error is the *ResizeError of a stop whose rollback failed.
// Sizes are validated before any API call against the
// kind the ID implies (an instance ID, a function ARN) or, for a plain name,
// the size itself (a timeout means a function), and again once the name is
// resolved (provider.ErrInvalid naming the field); resizing to the current size
// changes nothing; groups, an instance in service in an Auto Scaling
// group (which replaces a member it finds stopped), and a Spot Instance
// (whose type EC2 does not change), return provider.ErrUnsupported,
// before any change, unknown IDs
// provider.ErrNotFound, terminated or transitioning instances
// provider.ErrConflict.
func (d *Driver) Resize(ctx context.Context, id string, size provider.Size) (err error) {
	defer d.red.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return fmt.Errorf("aws: resize: %w", err)
	}
	if err := size.Validate(); err != nil {
		return fmt.Errorf("aws: resize %q: %w", id, provider.Within("size", err))
	}
	if err := validateImpliedSize(id, size); err != nil {
		return fmt.Errorf("aws: resize %q: %w", id, provider.Within("size", err))
	}
	if q := functionQualifier(id); q != "" && q != "$LATEST" {
		return fmt.Errorf("aws: resize %q: %w: the ARN names version or alias %q of a Lambda function, and Lambda changes the configuration of the unpublished function ($LATEST) only (a published version's is fixed, an alias serves a version): resize the unqualified ARN", id, provider.ErrUnsupported, q)
	}
	t, err := d.resolve(ctx, "resize", id)
	if err != nil {
		return err
	}
	switch t.kind {
	case provider.KindFunction, provider.KindInstance:
	default:
		return fmt.Errorf("aws: resize %q: %w: a %s cannot be resized", id, provider.ErrUnsupported, t.kind)
	}
	if err := validateSize(t.kind, size); err != nil { // a plain name may resolve to another kind
		return fmt.Errorf("aws: resize %q: %w", id, provider.Within("size", err))
	}
	if t.kind == provider.KindFunction {
		// A name Lambda took with its qualifier ("fn:prod", "ACCOUNT:function:fn:1")
		// resolved to that version, as the qualified ARN would.
		q := nameQualifier(id)
		if q == "" {
			q = functionQualifier(t.id)
		}
		if q != "" && q != "$LATEST" {
			return fmt.Errorf("aws: resize %q: %w: the name names version or alias %q of a Lambda function, and Lambda changes the configuration of the unpublished function ($LATEST) only (a published version's is fixed, an alias serves a version): resize the unqualified name", id, provider.ErrUnsupported, q)
		}
		return d.resizeFunction(ctx, id, t, size)
	}
	return d.resizeInstance(ctx, id, t.id, size.InstanceType)
}

// functionQualifier returns the version or alias that a Lambda function
// ARN id is qualified by ("arn:...:function:NAME:QUALIFIER"), or "".
func functionQualifier(id string) string {
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "lambda" {
		return ""
	}
	res, ok := strings.CutPrefix(parts[5], "function:")
	if !ok {
		return ""
	}
	_, q, _ := strings.Cut(res, ":")
	return q
}

// nameQualifier returns the version or alias that a function name id
// (not an ARN) is qualified by, in the forms Lambda takes as a
// FunctionName ("NAME:QUALIFIER", "ACCOUNT:function:NAME:QUALIFIER"), or "".
func nameQualifier(id string) string {
	if strings.HasPrefix(id, "arn:") {
		return ""
	}
	s := id
	if _, rest, ok := strings.Cut(s, ":function:"); ok {
		s = rest
	}
	_, q, _ := strings.Cut(s, ":")
	return q
}

// validateImpliedSize validates size, before any API call, for the kind
// that id or else the size itself implies: an instance ID or a size with an
// instance type means an instance; a function ARN, or a size with a timeout
// or only memory, a function.
func validateImpliedSize(id string, size provider.Size) error {
	kind := provider.KindInstance
	if t, ok, _ := classify(id); ok {
		kind = t.kind
	} else if size.Timeout > 0 || (size.InstanceType == "" && size.MemoryMiB > 0) {
		kind = provider.KindFunction
	}
	if kind != provider.KindFunction && kind != provider.KindInstance {
		return nil // unsupported; resolve and Resize say so
	}
	return validateSize(kind, size)
}

// validateSize checks size against the limits of kind.
func validateSize(kind provider.Kind, size provider.Size) error {
	if err := size.ValidateFor(kind); err != nil {
		return err
	}
	switch kind {
	case provider.KindFunction:
		if size.MemoryMiB < LambdaMinMemoryMiB || size.MemoryMiB > LambdaMaxMemoryMiB {
			return provider.Invalid("memory_mib", size.MemoryMiB, fmt.Sprintf("a Lambda function needs %d–%d MiB", LambdaMinMemoryMiB, LambdaMaxMemoryMiB))
		}
		if size.Timeout < LambdaMinTimeout || size.Timeout > LambdaMaxTimeout || size.Timeout%time.Second != 0 {
			return provider.Invalid("timeout", size.Timeout, "a Lambda function needs a whole number of seconds in 1s–900s")
		}
		if size.VCPU != 0 {
			return provider.Invalid("vcpu", size.VCPU, "a Lambda function's CPU follows its memory; leave vcpu 0")
		}
	case provider.KindInstance:
		if size.InstanceType == "" {
			return provider.Invalid("instance_type", size.InstanceType, "EC2 resizes need an instance type such as m5.large")
		}
		if !instanceTypePattern.MatchString(size.InstanceType) {
			return provider.Invalid("instance_type", size.InstanceType, "is not an EC2 instance type (FAMILY.SIZE, such as m5.large)")
		}
	}
	return nil
}

func (d *Driver) resizeFunction(ctx context.Context, id string, t target, size provider.Size) error {
	cur := t.function
	if cur == nil {
		var err error
		if cur, err = d.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &t.id}); err != nil {
			return wrap("resize", id, err)
		}
	}
	// A configuration still being applied (or a function still being
	// created) is not in effect yet: wait for it before comparing.
	if c := cur.Configuration; c != nil && (c.LastUpdateStatus == lambdatypes.LastUpdateStatusInProgress || c.State == lambdatypes.StatePending) {
		if err := d.waitFunction(ctx, id, t.id, c.State == lambdatypes.StatePending); err != nil {
			var failed *functionUpdateFailedError
			if !errors.As(err, &failed) {
				if ctx.Err() != nil {
					return err
				}
				// Nothing was changed by this call: another update of the
				// function did not settle.
				return fmt.Errorf("aws: resize %q: %w: an update of the function in progress did not settle: %s", id, provider.ErrConflict, err.Error())
			}
			// The pending update failed: apply the size again below
			// (a creation that failed is refused below).
		}
		var err error
		if cur, err = d.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &t.id}); err != nil {
			return wrap("resize", id, err)
		}
	}
	// A function whose creation failed is never invoked and must be
	// deleted and created again (Lambda): no resize applies to it.
	if c := cur.Configuration; c != nil && c.State == lambdatypes.StateFailed {
		return fmt.Errorf("aws: resize %q: %w: the function's creation failed (%s: %s): delete it and create it again",
			id, provider.ErrConflict, c.StateReasonCode, awssdk.ToString(c.StateReason))
	}
	// The size shown is in effect unless the update that set it failed;
	// then it is applied again.
	if c := cur.Configuration; c != nil && int(awssdk.ToInt32(c.MemorySize)) == size.MemoryMiB &&
		time.Duration(awssdk.ToInt32(c.Timeout))*time.Second == size.Timeout && c.LastUpdateStatus != lambdatypes.LastUpdateStatusFailed {
		return nil
	}
	var at attempts
	_, err := d.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: &t.id,
		MemorySize:   awssdk.Int32(int32(size.MemoryMiB)),
		Timeout:      awssdk.Int32(int32(size.Timeout / time.Second)),
	}, at.lambda)
	if err != nil {
		return at.write("resize", id, err)
	}
	d.log.InfoContext(ctx, "aws: resized function", "id", t.id, "memory_mib", size.MemoryMiB, "timeout", size.Timeout)
	if err := d.waitFunction(ctx, id, t.id, false); err != nil {
		// The update was accepted: whatever the wait's failure, it must not
		// read as nothing changed.
		return fmt.Errorf("aws: resize %q: the configuration update was accepted but is not known to be in effect: %w", id, noSentinel{err})
	}
	return nil
}

// functionUpdateFailedError is a function update that Lambda reports
// Failed (LastUpdateStatus), with its reason.
type functionUpdateFailedError struct {
	id, code, reason string
	err              error
}

func (e *functionUpdateFailedError) Error() string {
	return fmt.Sprintf("aws: resize %q: the function's configuration update failed (%s): %s", e.id, e.code, e.reason)
}

func (e *functionUpdateFailedError) Unwrap() error { return e.err }

// noSentinel hides the provider sentinels (and every other error) in err's
// chain but context errors, keeping its message: for failures after
// something changed.
type noSentinel struct{ err error }

func (e noSentinel) Error() string { return e.err.Error() }

func (e noSentinel) Unwrap() error {
	if errors.Is(e.err, context.Canceled) {
		return context.Canceled
	}
	if errors.Is(e.err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return nil
}

// waitFunction waits (bounded by Config.WaitTimeout) for function fn to be
// active (active) or for its last update to end (otherwise). An update that
// failed is a *functionUpdateFailedError naming Lambda's reason.
func (d *Driver) waitFunction(ctx context.Context, id, fn string, active bool) error {
	in := &lambda.GetFunctionInput{FunctionName: &fn}
	var err error
	if active {
		err = lambda.NewFunctionActiveV2Waiter(d.lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = d.cfg.WaitMinDelay, d.cfg.WaitMaxDelay
		}).Wait(ctx, in, d.cfg.WaitTimeout)
	} else {
		err = lambda.NewFunctionUpdatedV2Waiter(d.lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = d.cfg.WaitMinDelay, d.cfg.WaitMaxDelay
		}).Wait(ctx, in, d.cfg.WaitTimeout)
	}
	if err == nil || ctx.Err() != nil {
		return d.waitErr(ctx, "resize", id, err)
	}
	if out, gerr := d.lambda.GetFunction(ctx, in); gerr == nil && out.Configuration != nil {
		c := out.Configuration
		if c.LastUpdateStatus == lambdatypes.LastUpdateStatusFailed || c.State == lambdatypes.StateFailed {
			code, reason := string(c.LastUpdateStatusReasonCode), awssdk.ToString(c.LastUpdateStatusReason)
			if c.State == lambdatypes.StateFailed {
				code, reason = string(c.StateReasonCode), awssdk.ToString(c.StateReason)
			}
			return &functionUpdateFailedError{id: id, code: code, reason: reason, err: err}
		}
	}
	return d.waitErr(ctx, "resize", id, err)
}

// resizeInstance changes the type of the instance iid (an instance ID); id
// is the caller's ID (maybe an ARN), for messages and ResizeError.ID.
func (d *Driver) resizeInstance(ctx context.Context, id, iid, typ string) error {
	inst, err := d.describeInstance(ctx, iid)
	if err != nil {
		return wrap("resize", id, err)
	}
	from := string(inst.InstanceType)
	if from == typ {
		return nil
	}
	state := instanceStateName(inst)
	switch state {
	case ec2types.InstanceStateNameRunning, ec2types.InstanceStateNameStopped:
	default:
		return fmt.Errorf("aws: resize %q: %w: the instance is %s; it must be running or stopped", id, provider.ErrConflict, state)
	}
	if inst.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot {
		// EC2 refuses the modify: a running one would be stopped and
		// started again for nothing.
		return fmt.Errorf("aws: resize %q: %w: the instance is a Spot Instance, whose instance type EC2 does not change: launch one of type %s instead", id, provider.ErrUnsupported, typ)
	}
	if err := d.notAGroupMember(ctx, "resize", id, inst); err != nil {
		return err
	}
	wasRunning := state == ec2types.InstanceStateNameRunning
	fail := func(step string, err, rollback error) error {
		if rollback != nil {
			rollback = errors.Join(rollback, d.leftIn(ctx, iid))
		}
		return &ResizeError{ID: id, From: from, To: typ, Step: step, Err: err, RollbackErr: rollback, Disrupted: wasRunning}
	}
	if wasRunning {
		var at attempts
		if _, err := d.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{iid}}, at.ec2); err != nil {
			// A request the caller's context cut short in flight may
			// have reached EC2 as surely as a lost reply, and is never
			// retried.
			cut := at.last && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
			if at.earlier || cut {
				// An attempt that may have stopped it: started again once
				// stopped. One that never stops in the whole wait (every
				// describe answered, none showing it stopped until
				// Config.WaitTimeout ran out), and is then still running
				// on its type with the launch time it had, was never
				// stopped: nothing changed, as when the first attempt was
				// refused. A wait cut short (a describe that failed) shows
				// nothing: read at once, a stop EC2 took may not show yet,
				// its describes being eventually consistent.
				ranOut, rerr := d.restartAfterStop(ctx, iid)
				if rerr != nil && ranOut && d.neverStopped(ctx, iid, inst, from) {
					return fmt.Errorf("aws: resize %q: nothing changed: after a stop whose outcome was unknown (its reply was lost), the instance is still running on its type %s and was never stopped: %w",
						id, from, wrap("resize: stop", id, err))
				}
				return fail("stop", at.write("resize: stop", id, err), rerr)
			}
			return wrap("resize: stop", id, err) // nothing changed yet
		}
		if err := d.waitStopped(ctx, "resize: stop", iid); err != nil {
			return fail("stop", err, d.restart(ctx, iid))
		}
	}
	if err := d.setType(ctx, iid, typ); err != nil {
		// A modify that failed may have applied (a 5xx after EC2 took
		// it): the rollback puts the type back when it changed.
		rollback := d.restoreType(ctx, iid, from)
		if wasRunning {
			// Restarted whatever the type: a stopped instance is worse
			// than one left on the new type (ErrRollbackFailed says so).
			rollback = errors.Join(rollback, d.restart(ctx, iid))
		}
		return fail("modify", wrap("resize: modify", id, err), rollback)
	}
	d.log.InfoContext(ctx, "aws: changed instance type", "id", id, "from", from, "to", typ)
	if !wasRunning {
		return nil
	}
	if err := d.startAndWait(ctx, iid); err != nil {
		return fail("start", err, d.undoStart(ctx, iid, from))
	}
	return nil
}

// neverStopped reports whether instance id, described as before before
// a stop whose outcome is unknown, is seen running on its type from and
// was never stopped since: the same launch time (a start after a stop
// sets a new one). A describe that fails, or anything else it shows,
// reports false. It runs even when the caller's context has ended,
// bounded by Config.WaitTimeout.
func (d *Driver) neverStopped(ctx context.Context, id string, before ec2types.Instance, from string) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.WaitTimeout)
	defer cancel()
	now, err := d.describeInstance(rctx, id)
	if err != nil || before.LaunchTime == nil || now.LaunchTime == nil {
		return false
	}
	return instanceStateName(now) == ec2types.InstanceStateNameRunning && string(now.InstanceType) == from &&
		now.LaunchTime.Equal(*before.LaunchTime)
}

// undoStart rolls back a resize whose start on the new type failed. EC2
// changes a type only while the instance is stopped, so it looks first:
// a start refused, or accepted and then failed (pending, stopping,
// stopped), is waited for to stop, the type set back to from and the
// instance started; an instance pending or running was started on the new
// type (only the wait failed: the caller's context ended, a timeout) and
// is left so, not taken down again, and that is the rollback's error. It
// runs even when the caller's context has ended, each wait bounded by
// Config.WaitTimeout.
func (d *Driver) undoStart(ctx context.Context, id, from string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*d.cfg.WaitTimeout)
	defer cancel()
	inst, err := d.describeInstance(rctx, id)
	if err != nil {
		return wrap("resize: rollback: describe", id, err)
	}
	switch st := instanceStateName(inst); st {
	case ec2types.InstanceStateNameStopped, ec2types.InstanceStateNameStopping:
	case ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning:
		return fmt.Errorf("aws: rollback: the instance is %s on type %s: its start went through, and it is not stopped again to set back %s", st, inst.InstanceType, from)
	default:
		return fmt.Errorf("aws: rollback: the instance is %s", st)
	}
	if err := d.waitStopped(rctx, "resize: rollback: stop", id); err != nil {
		return errors.Join(errors.New("aws: rollback: the instance did not stop"), err)
	}
	// Started whatever the type: a stopped instance is worse than one
	// on the new type (ErrRollbackFailed says so).
	return errors.Join(d.setType(rctx, id, from), d.restart(ctx, id))
}

// restoreType sets instance id's type back to from when it is not from.
// It runs even when the caller's context has ended, bounded by
// Config.WaitTimeout.
func (d *Driver) restoreType(ctx context.Context, id, from string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.WaitTimeout)
	defer cancel()
	inst, err := d.describeInstance(rctx, id)
	if err != nil {
		return fmt.Errorf("aws: rollback: the type could not be set back to %s: %w", from, wrap("resize: rollback: describe", id, err))
	}
	if string(inst.InstanceType) == from {
		return nil
	}
	if err := d.setType(rctx, id, from); err != nil {
		return fmt.Errorf("aws: rollback: the type could not be set back to %s: %w", from, wrap("resize: rollback: modify", id, err))
	}
	return nil
}

// leftIn describes instance id after a rollback that failed, for its
// error: the state and type the instance was left in, or that they are
// unknown. It runs even when the caller's context has ended, bounded by
// Config.WaitTimeout.
func (d *Driver) leftIn(ctx context.Context, id string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.WaitTimeout)
	defer cancel()
	inst, err := d.describeInstance(rctx, id)
	if err != nil {
		return fmt.Errorf("aws: rollback: the state and type the instance was left in are unknown: %s", wrap("resize: rollback: describe", id, err).Error())
	}
	return fmt.Errorf("aws: rollback: the instance is left %s on type %s", instanceStateName(inst), inst.InstanceType)
}

func (d *Driver) setType(ctx context.Context, id, typ string) error {
	_, err := d.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId:   &id,
		InstanceType: &ec2types.AttributeValue{Value: &typ},
	})
	return err
}

func (d *Driver) startAndWait(ctx context.Context, id string) error {
	if _, err := d.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		return wrap("resize: start", id, err)
	}
	return d.waitRunning(ctx, "resize: start", id)
}

// restart brings a stopped or stopping instance back during a rollback:
// it waits for the instance to stop (EC2 refuses to start a stopping
// instance), then starts it and waits for it to run. It runs even when the
// caller's context has ended (each wait bounded by Config.WaitTimeout), so
// that a cancelled resize does not leave the instance down.
func (d *Driver) restart(ctx context.Context, id string) error {
	_, err := d.restartAfterStop(ctx, id)
	return err
}

// restartAfterStop is restart, also reporting whether the wait for the
// instance to stop failed by running out its time (Config.WaitTimeout),
// every describe answered and none showing it stopped; not when a
// describe failed, which cut the wait short. (The waiter's failure
// states, pending and terminated, count as run out: a describe by the
// caller shows them.)
func (d *Driver) restartAfterStop(ctx context.Context, id string) (ranOut bool, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*d.cfg.WaitTimeout)
	defer cancel()
	if werr := d.waitStoppedRaw(rctx, id); werr != nil {
		// The waiter's own deadline (WaitTimeout) ends its sleep or its
		// last describe; it says "exceeded max wait time" when its time
		// runs out between describes. Any other describe error, and a
		// failure state, cut the wait short.
		var oe *smithy.OperationError
		ranOut = rctx.Err() == nil && (errors.Is(werr, context.DeadlineExceeded) || !errors.As(werr, &oe) && !errors.Is(werr, context.Canceled))
		return ranOut, errors.Join(errors.New("aws: rollback: restart failed: the instance did not stop"),
			d.waitErr(rctx, "resize: rollback: stop", id, werr))
	}
	if err := d.startAndWait(rctx, id); err != nil {
		return false, errors.Join(errors.New("aws: rollback: restart failed"), err)
	}
	return false, nil
}
