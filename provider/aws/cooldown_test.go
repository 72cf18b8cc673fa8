package aws_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/scaling"
)

// TestHonorCooldownMultiStepPlan: with Config.HonorCooldown, Auto
// Scaling refuses a plan's second step while the cooldown (300 s) that
// its first step started is in effect. The refusal changed nothing and
// succeeds once the cooldown ends: it matches provider.ErrThrottled,
// which the scaling engine retries within its RetryDeadline (longer than
// the cooldown here), so the plan goes on (4 → 6 → 8), and a rollback
// after a step that did not settle (the instances beyond 6 never in
// service) restores 4 (marked by the engine, it is sent without
// HonorCooldown: TestRollbackInTheCooldownOfTheStepItUndoes). The
// refusal was provider.ErrConflict alone: the second step failed, and
// so did the rollback the same cooldown refused, leaving the group at 6,
// the plan failed.
func TestHonorCooldownMultiStepPlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		stuckAbove int
		status     scaling.PlanStatus
		desired    int32
	}{
		{"the second step waits", 0, scaling.PlanCompleted, 8},
		{"the rollback after it", 6, scaling.PlanRolledBack, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				asg := newWeightedASG(1, 10, 4, "m5.large", 1, nil)
				asg.cooldown, asg.stuckAbove = 300*time.Second, tc.stuckAbove
				cfg := fastConfig()
				cfg.HonorCooldown = true
				d := fakeDriver(t, cfg, asg)
				x := executeTo(t, d, 8, scaling.EngineConfig{VerifyWindow: time.Minute, VerifyTimeout: time.Minute,
					PollInterval: 10 * time.Second, RetryDeadline: 10 * time.Minute})
				require.Equal(t, tc.status, x.Status, "%s: %v", x.Reason, x.Err)
				require.Len(t, x.Steps, 2)
				assert.Equal(t, 6, x.Steps[0].Step.To.Desired)
				asg.mu.Lock()
				defer asg.mu.Unlock()
				assert.Equal(t, tc.desired, awssdk.ToInt32(asg.group.DesiredCapacity))
				assert.Positive(t, asg.refused, "the cooldown refused a call")
			})
		})
	}
}

// TestCooldownRefusalIsThrottled: the refusal matches
// provider.ErrThrottled and, as before, provider.ErrConflict: both say
// nothing changed.
func TestCooldownRefusalIsThrottled(t *testing.T) {
	t.Parallel()
	asg := newWeightedASG(1, 10, 4, "m5.large", 1, nil)
	asg.cooldown, asg.lastScale = time.Hour, time.Now()
	cfg := fastConfig()
	cfg.HonorCooldown = true
	err := fakeDriver(t, cfg, asg).SetCapacity(tctx(t), "web", provider.CapacitySpec{Min: 1, Max: 10, Desired: 5})
	require.ErrorIs(t, err, provider.ErrThrottled)
	require.ErrorIs(t, err, provider.ErrConflict)
	assert.Contains(t, err.Error(), "cooldown")
}

// TestScalingActivityRefusalIsThrottled: Auto Scaling refuses a
// SetDesiredCapacity that honours the cooldown with the error code
// ScalingActivityInProgress, whose message need not say "cooldown"
// ("Scaling activity … is in progress and blocks this action", as AWS
// answers it): the refusal changed nothing and succeeds once the
// activity and its cooldown end, and matches provider.ErrThrottled as the
// one whose message names the cooldown does. It matched ErrConflict
// alone, so the scaling engine did not retry it, and a plan's next step
// failed in the cooldown its first step started.
func TestScalingActivityRefusalIsThrottled(t *testing.T) {
	t.Parallel()
	refused := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusBadRequest}},
		Err: &smithy.GenericAPIError{Code: "ScalingActivityInProgress",
			Message: "Scaling activity 0685cb16-898e-25fe-d43c-fc9f97233857 is in progress and blocks this action"}}
	cfg := fastConfig()
	cfg.HonorCooldown = true
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: offlineEC2{newOffline(0)}, AutoScaling: cooldownASG{err: refused},
		CloudWatch: offlineCW{}, Lambda: offlineLambda{}}))
	err := d.SetCapacity(tctx(t), "web", provider.CapacitySpec{Min: 1, Max: 8, Desired: 3})
	require.ErrorIs(t, err, provider.ErrThrottled)
	require.ErrorIs(t, err, provider.ErrConflict)
	assert.Contains(t, err.Error(), "blocks this action")
}
