package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// statusLambda is the real Lambda client with State and LastUpdateStatus
// of the functions (by ARN) in status rewritten in GetFunction's answers,
// as moto never reports a function Failed, Inactive or with a failed
// update. ListFunctions' answers are left as they are: AWS's carry
// neither field, so List must read them with GetFunction too.
type statusLambda struct {
	awsprovider.LambdaAPI
	status map[string]lambdatypes.FunctionConfiguration
}

func (s statusLambda) rewrite(c *lambdatypes.FunctionConfiguration) {
	if c == nil || c.FunctionArn == nil {
		return
	}
	if st, ok := s.status[*c.FunctionArn]; ok {
		c.State, c.LastUpdateStatus = st.State, st.LastUpdateStatus
	}
}

func (s statusLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	out, err := s.LambdaAPI.GetFunction(ctx, in, optFns...)
	if err == nil {
		s.rewrite(out.Configuration)
	}
	return out, err
}

// A function whose creation failed (State Failed: Lambda never invokes it
// and says to delete and recreate it) was inventoried as running, and one
// whose last configuration update failed or is still in progress with the
// size that update set, which is not in effect. The reaper then judged a
// broken function's zero invocations as idleness and could resize it
// from a size it does not have. Now Failed reads as terminated (it never
// runs again; nothing applies to it), and the size of a function whose
// last update did not succeed is unknown (so the rollback rule blocks a
// resize and a changed size is seen); Pending stays pending and Inactive
// stopped.
func TestInventoryFunctionStates(t *testing.T) {
	t.Parallel()
	fns := map[string]struct {
		give      lambdatypes.FunctionConfiguration
		state     provider.State
		sizeKnown bool
	}{
		"active":         {lambdatypes.FunctionConfiguration{State: lambdatypes.StateActive, LastUpdateStatus: lambdatypes.LastUpdateStatusSuccessful}, provider.StateRunning, true},
		"failed":         {lambdatypes.FunctionConfiguration{State: lambdatypes.StateFailed}, provider.StateTerminated, true},
		"pending":        {lambdatypes.FunctionConfiguration{State: lambdatypes.StatePending}, provider.StatePending, true},
		"inactive":       {lambdatypes.FunctionConfiguration{State: lambdatypes.StateInactive, LastUpdateStatus: lambdatypes.LastUpdateStatusSuccessful}, provider.StateStopped, true},
		"update failed":  {lambdatypes.FunctionConfiguration{State: lambdatypes.StateActive, LastUpdateStatus: lambdatypes.LastUpdateStatusFailed}, provider.StateRunning, false},
		"update ongoing": {lambdatypes.FunctionConfiguration{State: lambdatypes.StateActive, LastUpdateStatus: lambdatypes.LastUpdateStatusInProgress}, provider.StateRunning, false},
	}
	status := map[string]lambdatypes.FunctionConfiguration{}
	names := map[string]string{}
	var arns []string
	for name, f := range fns {
		arn := createFunction(t, 256, 30, nil)
		status[arn], names[arn] = f.give, name
		arns = append(arns, arn)
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: statusLambda{LambdaAPI: sdk().lambda, status: status}}))
	listed, err := d.List(tctx(t), provider.Filter{IDs: arns})
	require.NoError(t, err)
	require.Len(t, listed, len(arns))
	for _, r := range listed {
		name := names[r.ID]
		want := fns[name]
		got, err := d.Get(tctx(t), r.ID)
		require.NoError(t, err, name)
		for how, r := range map[string]provider.Resource{"List": r, "Get": got} {
			assert.Equal(t, want.state, r.State, "%s %s", how, name)
			if want.sizeKnown {
				assert.Equal(t, provider.Size{MemoryMiB: 256, Timeout: 30 * time.Second}, r.Size, "%s %s", how, name)
			} else {
				assert.Zero(t, r.Size, "%s %s: the size of an update that did not succeed is not known to be in effect", how, name)
			}
			require.NoError(t, r.Validate(), "%s %s", how, name)
		}
	}
}

// configlessLambda answers every GetFunction without a Configuration, as
// a host's wrapper or a proxy may (Get and List already refuse such an
// answer).
type configlessLambda struct{ awsprovider.LambdaAPI }

func (configlessLambda) GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	return &lambda.GetFunctionOutput{}, nil
}

// TestFunctionNameAnsweredWithoutConfiguration: a plain name that
// GetFunction answers without a configuration is an error naming it, as
// Get of the function's ARN is; resolving the name read the answer's
// Configuration.FunctionArn and every method given a function's name
// (Get, QueryMetric, Activity, Resize) panicked, taking the host down.
func TestFunctionNameAnsweredWithoutConfiguration(t *testing.T) {
	t.Parallel()
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: configlessLambda{sdk().lambda}}))
	name := uniq("fn")
	now := time.Now().UTC().Truncate(time.Minute)
	for op, call := range map[string]func() error{
		"get": func() error { _, err := d.Get(tctx(t), name); return err },
		"query metric": func() error {
			_, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: name, Metric: provider.MetricInvocations, Start: now.Add(-time.Hour), End: now, Step: time.Minute})
			return err
		},
		"activity": func() error {
			_, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: name, Start: now.Add(-time.Hour), End: now})
			return err
		},
		"resize": func() error { return d.Resize(tctx(t), name, provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second}) },
	} {
		var err error
		require.NotPanics(t, func() { err = call() }, op)
		require.Error(t, err, op)
		assert.Contains(t, err.Error(), name, op)
		assert.Contains(t, err.Error(), "no configuration", op)
	}
}

// TestResizeOfAFailedFunctionChangesNothing: a function whose creation
// failed (State Failed) must be deleted and created again, Lambda says,
// and the package doc says no resize applies to it. Resize sent it an
// UpdateFunctionConfiguration anyway, the creation's failure taken for a
// failed update "applied again", and then waited Config.WaitTimeout for
// an update that does not settle, failing as a change that may have been
// made. It is now provider.ErrConflict naming Lambda's reason, with no
// update, also when the function was still being created (Pending) and
// its creation failed while Resize waited.
func TestResizeOfAFailedFunctionChangesNothing(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
	size := provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second}
	for name, states := range map[string][]lambdatypes.State{
		"failed":               {lambdatypes.StateFailed},
		"pending, then failed": {lambdatypes.StatePending, lambdatypes.StateFailed},
	} {
		f := &updatingLambda{statuses: []lambdatypes.LastUpdateStatus{""}, states: states}
		cfg := fastConfig()
		cfg.WaitTimeout = time.Minute
		d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{Lambda: f}))
		ctx, cancel := context.WithTimeout(tctx(t), 20*time.Second) // far less than WaitTimeout
		err := d.Resize(ctx, arn, size)
		cancel()
		require.ErrorIs(t, err, provider.ErrConflict, name)
		assert.True(t, provider.ChangedNothing(err), "%s: %v", name, err)
		assert.Contains(t, err.Error(), "no free IP address in the subnet", name)
		assert.Zero(t, f.updateCount(), "%s: no update of a function whose creation failed", name)
	}
}
