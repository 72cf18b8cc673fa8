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
