package aws_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// lostReplyHTTP sends the first request of EC2 action to moto and loses
// its reply (an HTTP 500 comes back instead, as from a load balancer that
// timed out), then answers the retries RequestLimitExceeded without
// sending them: the first attempt was applied, the last was throttled.
// With lost, the first request is lost on its way (never sent) instead.
// With denied, the retries are refused for want of a permission (HTTP
// 403 UnauthorizedOperation: a policy or a session token that changed
// between the attempts) instead of throttled. With reset, the first
// request is sent and its reply lost to a connection reset (no HTTP
// response at all) instead of an HTTP 500.
type lostReplyHTTP struct {
	action string
	lost   bool
	denied bool
	reset  bool
	calls  atomic.Int64
	others atomic.Int64 // the requests of any other action that changes an instance
}

func (h *lostReplyHTTP) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !strings.Contains(string(body), "Action="+h.action+"&") {
		for _, a := range []string{"StartInstances", "StopInstances", "ModifyInstanceAttribute", "TerminateInstances"} {
			if strings.Contains(string(body), "Action="+a+"&") {
				h.others.Add(1)
			}
		}
		return testHTTP.Do(r)
	}
	status, code := http.StatusServiceUnavailable, "RequestLimitExceeded"
	if h.denied {
		status, code = http.StatusForbidden, "UnauthorizedOperation"
	}
	if n := h.calls.Add(1); n == 1 && h.lost {
		status, code = http.StatusInternalServerError, "InternalError"
	} else if n == 1 {
		resp, err := testHTTP.Do(r)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if h.reset {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		}
		status, code = http.StatusInternalServerError, "InternalError"
	}
	xml := `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>` + code +
		`</Code><Message>injected</Message></Error></Errors><RequestID>lost-reply</RequestID></Response>`
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(strings.NewReader(xml)), ContentLength: int64(len(xml)), Request: r}, nil
}

// untouched are the provider sentinels that say a write changed nothing:
// the reaper refunds its budget, releases the approval and verifies
// nothing on them; the scaling engine retries a throttled write.
var untouched = []error{provider.ErrThrottled, provider.ErrNotFound, provider.ErrConflict, provider.ErrUnsupported, provider.ErrInvalid, provider.ErrDenied}

// TestRetriedWriteAfterALostReplyIsNotUntouched: a Stop, Start or
// Terminate whose first StopInstances (StartInstances,
// TerminateInstances) EC2 applied but whose reply was lost, retried by
// the SDK and then throttled, changed the instance: its error must not
// match provider.ErrThrottled (nor any sentinel that says nothing
// changed), or the reaper refunds the budget, releases the approval and
// records no action for an instance it stopped. So with a retry refused
// for want of a permission: a 403 says nothing of the first attempt, and
// the error must not match provider.ErrDenied.
func TestRetriedWriteAfterALostReplyIsNotUntouched(t *testing.T) {
	t.Parallel()
	for _, tt := range instanceWrites() {
		for _, retry := range []string{"throttled", "denied"} {
			t.Run(tt.action+"/"+retry, func(t *testing.T) {
				t.Parallel()
				id := runInstances(t, 1, "t3.micro", nil)[0]
				if tt.before != nil {
					tt.before(t, newDriver(t), id)
				}
				hook := &lostReplyHTTP{action: tt.action, denied: retry == "denied"}
				cfg := fastConfig()
				cfg.MaxAttempts = 2
				cfg.NoWait = true
				d := newDriverConfig(t, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
				err := tt.act(d, tctx(t), id)
				require.Error(t, err)
				assert.Equal(t, int64(2), hook.calls.Load(), "the SDK retried once")
				st, _ := ec2State(t, id)
				require.Contains(t, tt.want, st, "the first attempt was applied")
				for _, s := range untouched {
					require.NotErrorIs(t, err, s, "%v: the change was made; it must not read as nothing changed", err)
				}
				assert.Contains(t, err.Error(), "may have been applied")
				if retry == "denied" {
					assert.Contains(t, err.Error(), "UnauthorizedOperation", "the last attempt's answer is in the message")
				}
			})
		}
	}
}

// TestResizeWhoseStopReplyWasLostRestarts: an instance resize whose
// StopInstances EC2 applied but whose reply was lost, then throttled on
// the retry, took the instance down: the driver restarts it (a
// *ResizeError matching ErrRolledBack) instead of returning
// provider.ErrThrottled as if nothing had changed, which left the
// instance stopped while the scaling engine read the old type and took
// the step for one that changed nothing.
func TestResizeWhoseStopReplyWasLostRestarts(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	hook := &lostReplyHTTP{action: "StopInstances"}
	cfg := fastConfig()
	cfg.MaxAttempts = 2
	d := newDriverConfig(t, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
	err := d.Resize(tctx(t), id, provider.Size{InstanceType: "t3.large"})
	require.Error(t, err)
	for _, s := range untouched {
		require.NotErrorIs(t, err, s, "%v", err)
	}
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, awsprovider.ErrRolledBack)
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "restarted")
	assert.Equal(t, "t3.micro", typ)
}

// TestResizeWhoseStopNeverTookChangedNothing: an instance resize whose
// first StopInstances was lost before EC2 saw it (an HTTP 500) and whose
// retry was throttled left the instance running on its type, never
// stopped: the driver sees so and reports that nothing changed, with the
// last attempt's provider.ErrThrottled (the scaling engine retries it,
// the reaper refunds its budget), without touching the instance. It
// waited for a stop that never came and reported a failed rollback
// (ErrRollbackFailed, something changed) of an instance left untouched.
func TestResizeWhoseStopNeverTookChangedNothing(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	hook := &lostReplyHTTP{action: "StopInstances", lost: true}
	cfg := fastConfig()
	cfg.MaxAttempts = 2
	// The driver waits this long for a stop that never comes before it
	// concludes that none happened (its outcome does not depend on it).
	cfg.WaitTimeout = 5 * time.Second
	d := newDriverConfig(t, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
	err := d.Resize(tctx(t), id, provider.Size{InstanceType: "t3.large"})
	require.Error(t, err)
	assert.Equal(t, int64(2), hook.calls.Load(), "the SDK retried once")
	require.ErrorIs(t, err, provider.ErrThrottled, "%v", err)
	require.NotErrorIs(t, err, awsprovider.ErrRollbackFailed)
	require.NotErrorIs(t, err, awsprovider.ErrRolledBack)
	var re *awsprovider.ResizeError
	require.NotErrorAs(t, err, &re, "no step was taken")
	assert.Contains(t, err.Error(), "nothing changed")
	assert.Contains(t, err.Error(), "never stopped")
	assert.Zero(t, hook.others.Load(), "no start, no modify")
	st, typ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	assert.Equal(t, "t3.micro", typ)
}

// staleStopHTTP holds the first StopInstances without sending it (a 500
// comes back: its outcome unknown) and throttles the retries; EC2 took
// the stop, but its describes do not show it yet (eventually consistent):
// the first DescribeInstances after the stop fails (a 400, which ends the
// driver's wait for the stop at once), the next ones show the instance
// running. The held stop reaches moto when the test calls deliver.
type staleStopHTTP struct {
	mu        sync.Mutex
	held      *http.Request
	heldBody  []byte
	stops     int
	describes int // DescribeInstances since the first stop
}

func (h *staleStopHTTP) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.mu.Lock()
	stop, describe := strings.Contains(string(body), "Action=StopInstances&"), strings.Contains(string(body), "Action=DescribeInstances&")
	status, code := 0, ""
	switch {
	case stop:
		h.stops++
		status, code = http.StatusServiceUnavailable, "RequestLimitExceeded"
		if h.stops == 1 {
			h.held, h.heldBody = r.Clone(context.WithoutCancel(r.Context())), body
			status, code = http.StatusInternalServerError, "InternalError"
		}
	case describe && h.stops > 0:
		if h.describes++; h.describes == 1 {
			status, code = http.StatusBadRequest, "InvalidInstanceID.Malformed"
		}
	}
	h.mu.Unlock()
	if status == 0 {
		return testHTTP.Do(r)
	}
	xml := `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>` + code +
		`</Code><Message>injected</Message></Error></Errors><RequestID>stale-stop</RequestID></Response>`
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(strings.NewReader(xml)), ContentLength: int64(len(xml)), Request: r}, nil
}

// deliver sends the held stop to moto.
func (h *staleStopHTTP) deliver(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotNil(t, h.held, "a stop was held")
	h.held.Body = io.NopCloser(bytes.NewReader(h.heldBody))
	resp, err := testHTTP.Do(h.held)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestResizeWhoseStopWaitFailedEarlyIsNotUntouched: after a stop whose
// outcome was unknown (its first attempt lost, the retry throttled), the
// wait for the instance to stop ended at once on a failed describe, not
// by running out its Config.WaitTimeout: nothing says the stop was not
// taken, and the next describe showing the instance running on its
// launch time proves nothing (EC2's describes are eventually
// consistent). The error must not say that nothing changed: it read as
// provider.ErrThrottled ("never stopped"), and the stop EC2 had taken
// left the instance stopped with no one to start it.
func TestResizeWhoseStopWaitFailedEarlyIsNotUntouched(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	hook := &staleStopHTTP{}
	cfg := fastConfig()
	cfg.MaxAttempts = 2
	d := newDriverConfig(t, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
	err := d.Resize(tctx(t), id, provider.Size{InstanceType: "t3.large"})
	require.Error(t, err)
	hook.deliver(t) // EC2 carries out the stop it took
	for _, s := range untouched {
		require.NotErrorIs(t, err, s, "%v: the stop may have been taken; it must not read as nothing changed", err)
	}
	assert.NotContains(t, err.Error(), "nothing changed")
	var re *awsprovider.ResizeError
	require.ErrorAs(t, err, &re, "the stop is a step whose outcome is unknown")
	st, _ := ec2State(t, id)
	assert.Contains(t, []ec2types.InstanceStateName{ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped}, st)
}

// instanceWrite is one of the driver's instance writes: the EC2 action,
// the call, what to do first (nil: nothing; the instance is running) and
// the states the instance may be in once EC2 applied it.
type instanceWrite struct {
	action string
	act    func(d *awsprovider.Driver, ctx context.Context, id string) error
	before func(t *testing.T, d *awsprovider.Driver, id string)
	want   []ec2types.InstanceStateName
}

// instanceWrites returns Stop, Start (of a stopped instance) and Terminate.
func instanceWrites() []instanceWrite {
	return []instanceWrite{
		{"StopInstances", (*awsprovider.Driver).Stop, nil,
			[]ec2types.InstanceStateName{ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped}},
		{"StartInstances", (*awsprovider.Driver).Start, func(t *testing.T, d *awsprovider.Driver, id string) { require.NoError(t, d.Stop(tctx(t), id)) },
			[]ec2types.InstanceStateName{ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning}},
		{"TerminateInstances", (*awsprovider.Driver).Terminate, nil,
			[]ec2types.InstanceStateName{ec2types.InstanceStateNameShuttingDown, ec2types.InstanceStateNameTerminated}},
	}
}
