package aws_test

import (
	"context"
	"errors"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/mototest"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// deniedPolicy lets its user read and create everything and denies every
// change the driver makes.
const deniedPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"*","Resource":"*"},
 {"Effect":"Deny","Action":["ec2:StopInstances","ec2:StartInstances","ec2:TerminateInstances","ec2:DeleteVolume",
  "autoscaling:SetDesiredCapacity","autoscaling:UpdateAutoScalingGroup","lambda:UpdateFunctionConfiguration"],"Resource":"*"}]}`

// TestDeniedCallsMatchErrDenied runs the driver's changes on a real
// moto_server that enforces IAM, as a user whose policy denies them: each
// fails with an error matching provider.ErrDenied (so the reaper releases
// its approval and refunds its budget: provider.ChangedNothing), the SDK's
// error stays in the chain, and nothing changed. Calls signed with a key
// no user has are denied too (AuthFailure). Before, none of them matched a sentinel: the reaper
// spent the approval and verified a change that never happened.
func TestDeniedCallsMatchErrDenied(t *testing.T) {
	t.Parallel()
	// Three free calls: the user, its policy and its key.
	srv, err := mototest.StartEnforcingIAM(tctx(t), 3)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	const reg = "eu-north-1"
	cfgFor := func(key, secret string) awssdk.Config {
		return awssdk.Config{Region: reg, BaseEndpoint: awssdk.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
	}
	admin := iam.NewFromConfig(cfgFor("testing", "testing"))
	_, err = admin.CreateUser(tctx(t), &iam.CreateUserInput{UserName: awssdk.String("reaper")})
	require.NoError(t, err)
	_, err = admin.PutUserPolicy(tctx(t), &iam.PutUserPolicyInput{UserName: awssdk.String("reaper"),
		PolicyName: awssdk.String("no-changes"), PolicyDocument: awssdk.String(deniedPolicy)})
	require.NoError(t, err)
	key, err := admin.CreateAccessKey(tctx(t), &iam.CreateAccessKeyInput{UserName: awssdk.String("reaper")})
	require.NoError(t, err)
	user := cfgFor(awssdk.ToString(key.AccessKey.AccessKeyId), awssdk.ToString(key.AccessKey.SecretAccessKey))

	// The fixture, made by the user (its policy allows creating).
	ec2c := ec2.NewFromConfig(user)
	run, err := ec2c.RunInstances(tctx(t), &ec2.RunInstancesInput{ImageId: awssdk.String(ami),
		MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1), InstanceType: "t3.micro"})
	require.NoError(t, err)
	instance := awssdk.ToString(run.Instances[0].InstanceId)
	vol, err := ec2c.CreateVolume(tctx(t), &ec2.CreateVolumeInput{AvailabilityZone: awssdk.String(reg + "a"), Size: awssdk.Int32(8)})
	require.NoError(t, err)
	volume := awssdk.ToString(vol.VolumeId)
	asg := autoscaling.NewFromConfig(user)
	_, err = asg.CreateLaunchConfiguration(tctx(t), &autoscaling.CreateLaunchConfigurationInput{
		LaunchConfigurationName: awssdk.String("lc"), ImageId: awssdk.String(ami), InstanceType: awssdk.String("t3.micro")})
	require.NoError(t, err)
	_, err = asg.CreateAutoScalingGroup(tctx(t), &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: awssdk.String("web"),
		LaunchConfigurationName: awssdk.String("lc"), MinSize: awssdk.Int32(1), MaxSize: awssdk.Int32(4), DesiredCapacity: awssdk.Int32(2),
		AvailabilityZones: []string{reg + "a"}})
	require.NoError(t, err)
	role, err := iam.NewFromConfig(user).CreateRole(tctx(t), &iam.CreateRoleInput{RoleName: awssdk.String("fn"),
		AssumeRolePolicyDocument: awssdk.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	fn, err := lambda.NewFromConfig(user).CreateFunction(tctx(t), &lambda.CreateFunctionInput{FunctionName: awssdk.String("fn"),
		Runtime: lambdatypes.RuntimePython312, Role: role.Role.Arn, Handler: awssdk.String("index.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: functionZip()}, MemorySize: awssdk.Int32(256), Timeout: awssdk.Int32(30)})
	require.NoError(t, err)
	function := awssdk.ToString(fn.FunctionArn)

	d, err := awsprovider.New(fastConfig(), user, awsprovider.WithCloudWatchOptions(queryProtocol))
	require.NoError(t, err)
	ctx := tctx(t)
	denied := func(t *testing.T, err error, code string) {
		t.Helper()
		require.ErrorIs(t, err, provider.ErrDenied)
		assert.True(t, provider.ChangedNothing(err), "%v", err)
		if code != "" {
			var api smithy.APIError
			require.ErrorAs(t, err, &api, "the SDK's error stays in the chain")
			assert.Equal(t, code, api.ErrorCode())
		}
	}
	t.Run("stop", func(t *testing.T) {
		denied(t, d.Stop(ctx, instance), "AccessDenied")
		r, err := d.Get(ctx, instance)
		require.NoError(t, err)
		assert.Equal(t, provider.StateRunning, r.State, "nothing changed")
	})
	t.Run("terminate an instance", func(t *testing.T) {
		denied(t, d.Terminate(ctx, instance), "AccessDenied")
	})
	t.Run("delete a detached volume", func(t *testing.T) {
		denied(t, d.Terminate(ctx, volume), "AccessDenied")
		r, err := d.Get(ctx, volume)
		require.NoError(t, err)
		assert.Equal(t, provider.StateStopped, r.State, "still there, detached")
	})
	t.Run("set a group's capacity", func(t *testing.T) {
		denied(t, d.SetCapacity(ctx, "web", provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}), "AccessDenied")
		c, err := d.Capacity(ctx, "web")
		require.NoError(t, err)
		assert.Equal(t, 2, c.Desired, "nothing changed")
	})
	t.Run("a refusal without a code", func(t *testing.T) {
		// moto enforcing IAM refuses every Lambda read made with the
		// SDK (SignatureDoesNotMatch: it does not verify these GETs'
		// signatures as AWS does), with an XML body that Lambda's
		// REST-JSON client cannot read a code from: the resize fails on
		// its read of the function, and the HTTP status 403 alone says
		// denied.
		err := d.Resize(ctx, function, provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second})
		denied(t, err, "")
		assert.ErrorContains(t, err, "StatusCode: 403")
	})
	t.Run("unknown key", func(t *testing.T) {
		stranger, err := awsprovider.New(fastConfig(), cfgFor("AKIAUNKNOWN000000000", "wrong"), awsprovider.WithCloudWatchOptions(queryProtocol))
		require.NoError(t, err)
		_, err = stranger.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
		denied(t, err, "AuthFailure")
		_, err = stranger.QueryMetric(ctx, provider.Query{ResourceID: instance, Metric: provider.MetricCPU,
			Start: time.Now().Add(-time.Hour).Truncate(time.Minute), End: time.Now().Truncate(time.Minute), Step: 5 * time.Minute})
		denied(t, err, "")
	})
}

// TestDeniedCodesMatchErrDenied pins the codes AWS answers a refused
// permission or credential with (the services' "Common Errors" pages,
// EC2's UnauthorizedOperation and AuthFailure, STS's ExpiredToken), which
// moto does not all produce, on a Stop: each matches provider.ErrDenied;
// a code that means something else does not.
func TestDeniedCodesMatchErrDenied(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code string
		want error
	}{
		{"UnauthorizedOperation", provider.ErrDenied},
		{"AccessDenied", provider.ErrDenied},
		{"AccessDeniedException", provider.ErrDenied},
		{"NotAuthorized", provider.ErrDenied},
		{"OptInRequired", provider.ErrDenied},
		{"AuthFailure", provider.ErrDenied},
		{"InvalidClientTokenId", provider.ErrDenied},
		{"UnrecognizedClientException", provider.ErrDenied},
		{"MissingAuthenticationToken", provider.ErrDenied},
		{"IncompleteSignature", provider.ErrDenied},
		{"SignatureDoesNotMatch", provider.ErrDenied},
		{"InvalidSignatureException", provider.ErrDenied},
		{"ExpiredToken", provider.ErrDenied},
		{"ExpiredTokenException", provider.ErrDenied},
		{"RequestExpired", provider.ErrDenied},
		{"IncorrectInstanceState", provider.ErrConflict},
		{"InternalError", nil},
	} {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			ec := &stopFails{offlineEC2: offlineEC2{newOffline(1)}, err: &smithy.GenericAPIError{Code: tt.code, Message: "injected"}}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: ec}))
			err := d.Stop(tctx(t), "i-00000000000000001")
			require.Error(t, err)
			for _, s := range []error{provider.ErrDenied, provider.ErrConflict} {
				assert.Equal(t, errors.Is(tt.want, s), errors.Is(err, s), "%s: matches %v: %v", tt.code, s, err)
			}
			assert.Equal(t, tt.want != nil, provider.ChangedNothing(err), "%v", err)
		})
	}
}

// stopFails is an offline EC2 whose StopInstances fails with err.
type stopFails struct {
	offlineEC2
	err error
}

func (f *stopFails) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	return nil, f.err
}

// TestDisruptedResizeIsNotNothingChanged: a resize of a running instance
// whose modify is refused (denied, here) stops the instance, puts it back
// and starts it again. The type and state are as they were, but the
// instance was stopped: its public address and instance store are gone.
// The error matches ErrRolledBack and its cause, and none of the
// sentinels that say nothing changed, so that the reaper spends its
// approval rather than release it and bounce the instance again at every
// run while the permission is missing. Before, it matched ErrDenied (and
// any other cause's sentinel: ErrInvalid, ErrConflict, ErrThrottled) and
// provider.ChangedNothing. A stopped instance whose modify is refused is
// left as it was, untouched: that error still says nothing changed.
func TestDisruptedResizeIsNotNothingChanged(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"UnauthorizedOperation", "InvalidParameterValue", "RequestLimitExceeded"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			refused := &smithy.GenericAPIError{Code: code, Message: "injected"}
			rec := &recordingEC2{EC2API: sdk().ec2}
			rec.modify = func(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
				return nil, refused
			}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
			ids := runInstances(t, 2, "t3.micro", nil)
			running, stopped := ids[0], ids[1]
			_, err := sdk().ec2.StopInstances(tctx(t), &ec2.StopInstancesInput{InstanceIds: []string{stopped}})
			require.NoError(t, err)

			err = d.Resize(tctx(t), running, provider.Size{InstanceType: "m5.large"})
			require.ErrorIs(t, err, awsprovider.ErrRolledBack)
			require.ErrorIs(t, err, refused, "the cause stays in the chain")
			var api smithy.APIError
			require.ErrorAs(t, err, &api)
			assert.Equal(t, code, api.ErrorCode())
			assert.False(t, provider.ChangedNothing(err), "the instance was stopped and started: %v", err)
			for _, s := range untouched {
				require.NotErrorIs(t, err, s)
			}
			var re *awsprovider.ResizeError
			require.ErrorAs(t, err, &re)
			assert.True(t, re.Disrupted)
			assert.True(t, provider.ChangedNothing(re.Err), "the cause itself says the modify changed nothing")
			st, typ := ec2State(t, running)
			assert.Equal(t, ec2types.InstanceStateNameRunning, st)
			assert.Equal(t, "t3.micro", typ)

			err = d.Resize(tctx(t), stopped, provider.Size{InstanceType: "m5.large"})
			require.Error(t, err)
			assert.True(t, provider.ChangedNothing(err), "a stopped instance was not touched: %v", err)
			require.ErrorAs(t, err, &re)
			assert.False(t, re.Disrupted)
			st, typ = ec2State(t, stopped)
			assert.Equal(t, ec2types.InstanceStateNameStopped, st)
			assert.Equal(t, "t3.micro", typ)
		})
	}
}
