package aws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
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

// cancelAfterHTTP sends the first request of EC2 action to moto, which
// carries it out, and then cancels the caller's context before the reply
// reaches the SDK, as a caller that gives up while the request is in
// flight does.
type cancelAfterHTTP struct {
	action string
	cancel context.CancelFunc
	calls  atomic.Int64
}

func (h *cancelAfterHTTP) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !strings.Contains(string(body), "Action="+h.action+"&") || h.calls.Add(1) > 1 {
		return testHTTP.Do(r)
	}
	resp, err := testHTTP.Do(r.WithContext(context.WithoutCancel(r.Context())))
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	h.cancel()
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestCancelledResizeWhoseStopWentThroughRestarts: a resize whose caller
// gave up while StopInstances was in flight, after EC2 had taken it,
// returned the context's error as a stop that "changed nothing yet" and
// left the instance stopped: only a retried stop (a lost reply) counted
// as one that may have been applied, and a cancelled request is never
// retried. Such a stop is now rolled back like a lost reply: the
// instance is started again, and the error matches ErrRolledBack and the
// context's error.
func TestCancelledResizeWhoseStopWentThroughRestarts(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	hook := &cancelAfterHTTP{action: "StopInstances", cancel: cancel}
	d := newDriver(t, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
	err := d.Resize(ctx, id, provider.Size{InstanceType: "t3.large"})
	require.Equal(t, int64(1), hook.calls.Load(), "the stop was sent once: %v", err)
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "restarted: %v", err)
	assert.Equal(t, "t3.micro", typ)
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	require.ErrorIs(t, err, context.Canceled)
	for _, s := range untouched {
		require.NotErrorIs(t, err, s)
	}
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "stop", re.Step)
	require.NoError(t, re.RollbackErr)
}

// TestResizeCancelledBeforeItsStopReturnsAtOnce: a resize whose caller
// gave up before StopInstances was sent (between the describe and the
// stop) changed nothing and returns at once with the context's error:
// the SDK fails the call before any attempt, so the stop is not taken
// for one cut short in flight (TestCancelledResizeWhoseStopWentThroughRestarts),
// which would wait Config.WaitTimeout for a stop that never comes.
func TestResizeCancelledBeforeItsStopReturnsAtOnce(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	var described atomic.Bool
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.describe = func(dctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		out, err := sdk().ec2.DescribeInstances(dctx, in, optFns...)
		if described.CompareAndSwap(false, true) {
			cancel() // the caller gives up once the instance is described
		}
		return out, err
	}
	cfg := fastConfig()
	cfg.WaitTimeout = 10 * time.Minute
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	done := make(chan error, 1)
	go func() { done <- d.Resize(ctx, id, provider.Size{InstanceType: "t3.large"}) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Resize has not returned a minute after its caller cancelled it before the stop was sent (WaitTimeout 10m)")
	}
	require.ErrorIs(t, err, context.Canceled)
	var re *awsprovider.ResizeError
	require.NotErrorAs(t, err, &re, "nothing changed")
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	assert.Equal(t, "t3.micro", typ)
}
