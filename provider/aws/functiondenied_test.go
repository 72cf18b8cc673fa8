package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// getDeniedLambda is the real Lambda client whose role may list functions
// (lambda:ListFunctions, which takes no resource) but not get them
// (lambda:GetFunction, which IAM grants function by function).
type getDeniedLambda struct{ awsprovider.LambdaAPI }

func (getDeniedLambda) GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: lambda:GetFunction"}
}

// TestActivitiesOfFunctionsGetFunctionDenies: a read of a function whose
// GetFunction is denied fails with provider.ErrDenied in Activities as in
// Activity, though ListFunctions is allowed; the batch answered such
// functions from the listing, so a role denied them (IAM grants
// GetFunction function by function) had their quiet counts claimed,
// where Activity, its contract, fails them.
func TestActivitiesOfFunctionsGetFunctionDenies(t *testing.T) {
	t.Parallel()
	fns := []string{createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil)}
	d := newDriverConfig(t, fastConfig(), awsprovider.WithClients(awsprovider.Clients{Lambda: getDeniedLambda{sdk().lambda}}))
	start := minuteGrid()
	reads := make([]provider.ActivityRead, 0, len(fns)+1)
	for _, id := range append(fns, functionName(fns[0])) {
		reads = append(reads, provider.ActivityRead{Query: provider.ActivityQuery{ResourceID: id, Start: start, End: start.Add(10 * time.Minute)}})
	}
	require.NoError(t, d.Activities(tctx(t), reads))
	for i, r := range reads {
		_, err := d.Activity(tctx(t), r.Query)
		require.ErrorIs(t, err, provider.ErrDenied, "read %d (%q) alone", i, r.Query.ResourceID)
		require.ErrorIs(t, r.Err, provider.ErrDenied, "read %d (%q) in the batch", i, r.Query.ResourceID)
		assert.Nil(t, r.Counts, "read %d (%q) in the batch", i, r.Query.ResourceID)
	}
}
