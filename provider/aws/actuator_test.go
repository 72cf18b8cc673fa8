package aws_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// ec2State reads an instance's state straight from EC2.
func ec2State(t *testing.T, id string) (ec2types.InstanceStateName, string) {
	t.Helper()
	out, err := sdk().ec2.DescribeInstances(tctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	require.NoError(t, err)
	inst := out.Reservations[0].Instances[0]
	return inst.State.Name, string(inst.InstanceType)
}

func TestStopStartTerminateTransitions(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	id := runInstances(t, 1, "t3.micro", nil)[0]
	ctx := tctx(t)

	require.NoError(t, d.Stop(ctx, id))
	st, _ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameStopped, st)
	require.NoError(t, d.Stop(ctx, id), "stopping a stopped instance is a no-op")

	require.NoError(t, d.Start(ctx, id))
	st, _ = ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	require.NoError(t, d.Start(ctx, id), "starting a running instance is a no-op")

	require.NoError(t, d.Terminate(ctx, id))
	st, _ = ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameTerminated, st)
	require.NoError(t, d.Terminate(ctx, id), "terminating twice is a no-op")

	err := d.Start(ctx, id)
	require.ErrorIs(t, err, provider.ErrConflict)
	err = d.Stop(ctx, id)
	require.ErrorIs(t, err, provider.ErrConflict)
	st, _ = ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameTerminated, st, "moto would restart a terminated instance; the driver must not ask")
}

// TestStopStartTerminateByInstanceARN: Start, Stop and Terminate accept
// an instance's ARN, as Get and Resize do (the package doc: every method
// accepts the ARNs of instances), and act on the instance it names. They
// described the instance by its ID, then sent the ARN itself to
// StopInstances, StartInstances and TerminateInstances, which EC2 refuses
// as a malformed instance ID: the call failed with provider.ErrNotFound
// (nothing changed, so the reaper released its approval) and the
// instance was never stopped or terminated.
func TestStopStartTerminateByInstanceARN(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	id := runInstances(t, 1, "t3.micro", nil)[0]
	arn := "arn:aws:ec2:" + region + ":123456789012:instance/" + id
	ctx := tctx(t)

	require.NoError(t, d.Stop(ctx, arn))
	st, _ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameStopped, st)
	require.NoError(t, d.Start(ctx, arn))
	st, _ = ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	require.NoError(t, d.Terminate(ctx, arn))
	st, _ = ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameTerminated, st)
}

func TestActuatorErrors(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	group := createGroup(t, 0, 1, 0, nil)
	fn := createFunction(t, 128, 3, nil)
	ctx := tctx(t)
	for name, act := range map[string]func(context.Context, string) error{"start": d.Start, "stop": d.Stop, "terminate": d.Terminate} {
		err := act(ctx, "i-00000000000000001")
		require.ErrorIs(t, err, provider.ErrNotFound, name)
		var api smithy.APIError
		require.ErrorAs(t, err, &api, "%s: the SDK's error stays in the chain", name)
		assert.Equal(t, "InvalidInstanceID.NotFound", api.ErrorCode())

		require.ErrorIs(t, act(ctx, group), provider.ErrUnsupported, name)
		require.ErrorIs(t, act(ctx, fn), provider.ErrUnsupported, name)
		require.ErrorIs(t, act(ctx, "bad id"), provider.ErrInvalid, name)
		require.ErrorIs(t, act(ctx, ""), provider.ErrInvalid, name)
	}
}

func TestStopHibernatesAndNoWait(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	var hibernate *bool
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.stop = func(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
		hibernate = in.Hibernate
		return sdk().ec2.StopInstances(ctx, in, optFns...)
	}
	cfg := fastConfig()
	cfg.Hibernate, cfg.NoWait = true, true
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	require.NoError(t, d.Stop(tctx(t), id))
	require.NotNil(t, hibernate)
	assert.True(t, *hibernate)
	assert.Equal(t, 1, rec.count("DescribeInstances"), "NoWait: describe once to check the state, no waiter polls")
	st, _ := ec2State(t, id)
	assert.Equal(t, ec2types.InstanceStateNameStopped, st)
}

// TestWaitHonoursContext makes the instance look stuck in stopping: the
// waiter must return when the caller's context ends. The deadline is
// generous: a loaded machine's moto can take seconds to describe and
// stop, and a deadline of 2s ended before the waiter's first poll.
func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	id := runInstances(t, 1, "t3.micro", nil)[0]
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.describe = func(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		out, err := sdk().ec2.DescribeInstances(ctx, in, optFns...)
		if err == nil && len(out.Reservations) > 0 && rec.count("StopInstances") > 0 {
			out.Reservations[0].Instances[0].State = &ec2types.InstanceState{Name: ec2types.InstanceStateNameStopping}
		}
		return out, err
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	err := d.Stop(ctx, id)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, rec.count("DescribeInstances"), 2, "the waiter polled")
}

func TestCancelledContextMakesNoCall(t *testing.T) {
	t.Parallel()
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := minuteGrid()
	calls := map[string]error{
		"start":     d.Start(ctx, "i-0123456789abcdef0"),
		"terminate": d.Terminate(ctx, "i-0123456789abcdef0"),
		"resize":    d.Resize(ctx, "some-function", provider.Size{MemoryMiB: 256, Timeout: time.Second}),
		"set":       d.SetCapacity(ctx, "some-group", provider.CapacitySpec{Max: 1}),
	}
	_, calls["list"] = d.List(ctx, provider.Filter{})
	_, calls["get"] = d.Get(ctx, "some-group")
	_, calls["capacity"] = d.Capacity(ctx, "some-group")
	_, calls["backups"] = d.Backups(ctx, "i-0123456789abcdef0", time.Time{})
	_, calls["query"] = d.QueryMetric(ctx, provider.Query{ResourceID: "i-0123456789abcdef0", Metric: provider.MetricCPU, Start: start, End: start.Add(time.Hour), Step: time.Minute})
	for name, err := range calls {
		require.ErrorIs(t, err, context.Canceled, name)
	}
	assert.Zero(t, counter.n.Load())
}

func TestThrottlingMapsToErrThrottled(t *testing.T) {
	t.Parallel()
	rec := &recordingEC2{EC2API: sdk().ec2}
	throttle := &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	rec.describe = func(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		return nil, throttle
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	_, err := d.Get(tctx(t), "i-00000000000000001")
	require.ErrorIs(t, err, provider.ErrThrottled)
	require.ErrorIs(t, err, throttle)
	_, err = d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	require.ErrorIs(t, err, provider.ErrThrottled)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   awssdk.Config
		opt   awsprovider.Config
		field string
	}{
		{"no region", awssdk.Config{}, awsprovider.Config{}, "aws.Config.Region"},
		{"negative wait", sdkConfig(), awsprovider.Config{WaitTimeout: -time.Second}, "config.wait_timeout"},
		{"min delay above max", sdkConfig(), awsprovider.Config{WaitMinDelay: time.Minute, WaitMaxDelay: time.Second}, "config.wait_min_delay"},
		{"attempts", sdkConfig(), awsprovider.Config{MaxAttempts: 50}, "config.max_attempts"},
		{"page size", sdkConfig(), awsprovider.Config{PageSize: 3}, "config.page_size"},
		{"batch", sdkConfig(), awsprovider.Config{MetricBatch: 501}, "config.metric_batch"},
		{"concurrency", sdkConfig(), awsprovider.Config{Concurrency: -1}, "config.concurrency"},
		{"negative publish delay", sdkConfig(), awsprovider.Config{PublishDelay: -time.Second}, "config.publish_delay"},
		{"price", sdkConfig(), awsprovider.Config{HourlyPrices: map[string]float64{"m5.large": -1}}, "config.hourly_prices[m5.large]"},
		{"negative load balancer cost", sdkConfig(), awsprovider.Config{LoadBalancerHourlyCost: -0.01}, "config.load_balancer_hourly_cost"},
		{"NaN load balancer cost", sdkConfig(), awsprovider.Config{LoadBalancerHourlyCost: math.NaN()}, "config.load_balancer_hourly_cost"},
		{"infinite load balancer cost", sdkConfig(), awsprovider.Config{LoadBalancerHourlyCost: math.Inf(1)}, "config.load_balancer_hourly_cost"},
		{"negative volume price", sdkConfig(), awsprovider.Config{VolumeMonthlyPrices: map[string]float64{"gp3": 0.08, "io2": -0.125}}, "config.volume_monthly_prices[io2]"},
		{"NaN volume price", sdkConfig(), awsprovider.Config{VolumeMonthlyPrices: map[string]float64{"gp3": math.NaN()}}, "config.volume_monthly_prices[gp3]"},
		{"infinite volume price", sdkConfig(), awsprovider.Config{VolumeMonthlyPrices: map[string]float64{"st1": math.Inf(1)}}, "config.volume_monthly_prices[st1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := awsprovider.New(tt.opt, tt.cfg)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	d, err := awsprovider.New(awsprovider.Config{}, sdkConfig())
	require.NoError(t, err)
	assert.Equal(t, "aws", d.Name(), "default name")
	assert.Equal(t, region, d.Region())
	require.NoError(t, awsprovider.Config{}.Validate(), "the zero Config means the defaults")
	// A price of 0 is a price (a free tier, a cost the host books
	// elsewhere), and valid; only below 0 is not.
	require.NoError(t, awsprovider.Config{HourlyPrices: map[string]float64{"t3.micro": 0}, VolumeMonthlyPrices: map[string]float64{"gp3": 0},
		LoadBalancerHourlyCost: 0}.Validate())
}

// throttlingHTTP answers every EC2 DescribeInstances with EC2's throttling
// error, as AWS does under a request-rate limit, and counts the attempts.
type throttlingHTTP struct{ attempts atomic.Int64 }

func (h *throttlingHTTP) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(body), "Action=DescribeInstances") {
		r.Body = io.NopCloser(bytes.NewReader(body))
		return testHTTP.Do(r)
	}
	h.attempts.Add(1)
	const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>req-1</RequestID></Response>`
	return &http.Response{
		StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
		Header: http.Header{"Content-Type": []string{"text/xml"}}, Body: io.NopCloser(strings.NewReader(xml)),
		ContentLength: int64(len(xml)), Request: r,
	}, nil
}

// TestThrottlingIsRetriedBounded checks the driver's retryer end to end:
// a throttled call is retried Config.MaxAttempts times in all, then
// reported as ErrThrottled with EC2's error code in the chain.
func TestThrottlingIsRetriedBounded(t *testing.T) {
	t.Parallel()
	h := &throttlingHTTP{}
	cfg := fastConfig()
	cfg.MaxAttempts = 4
	d := newDriverConfig(t, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = h }))
	_, err := d.Get(tctx(t), "i-00000000000000001")
	require.ErrorIs(t, err, provider.ErrThrottled)
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "RequestLimitExceeded", api.ErrorCode())
	assert.Equal(t, int64(4), h.attempts.Load())
}

// describeFailsAfterWrite is an EC2 client whose describes fail, with
// code, once StopInstances or TerminateInstances has been accepted.
type describeFailsAfterWrite struct {
	offlineEC2
	code    string
	written atomic.Bool
}

func (f *describeFailsAfterWrite) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if f.written.Load() {
		return nil, &smithy.GenericAPIError{Code: f.code, Message: "injected after the write"}
	}
	return f.offlineEC2.DescribeInstances(ctx, in, opts...)
}

func (f *describeFailsAfterWrite) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.written.Store(true)
	return &ec2.StopInstancesOutput{}, nil
}

func (f *describeFailsAfterWrite) TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	f.written.Store(true)
	return &ec2.TerminateInstancesOutput{}, nil
}

// A wait that fails after EC2 accepted a stop or a terminate (a throttled
// describe, an instance no longer found, a describe denied) does not say
// that nothing changed: the stop or terminate may well happen. It read as
// provider.ErrThrottled or ErrNotFound, and a caller refunded its budget,
// released its approval and could act again.
func TestWaitAfterAcceptedWriteMatchesNoNothingChangedSentinel(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"RequestLimitExceeded", "InvalidInstanceID.NotFound", "InternalError", "UnauthorizedOperation"} {
		for _, op := range []string{"stop", "terminate"} {
			fake := &describeFailsAfterWrite{offlineEC2: offlineEC2{newOffline(1)}, code: code}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: fake}))
			var err error
			if op == "stop" {
				err = d.Stop(tctx(t), "i-00000000000000001")
			} else {
				err = d.Terminate(tctx(t), "i-00000000000000001")
			}
			require.Error(t, err, "%s %s", op, code)
			assert.Contains(t, err.Error(), "the change may still happen", "%s %s", op, code)
			assert.Contains(t, err.Error(), code, "the cause is in the message")
			for _, s := range []error{provider.ErrThrottled, provider.ErrNotFound, provider.ErrConflict, provider.ErrUnsupported, provider.ErrInvalid, provider.ErrDenied} {
				assert.NotErrorIs(t, err, s, "%s %s", op, code)
			}
		}
	}
}
