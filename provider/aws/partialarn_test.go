package aws_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// partialARNLambda answers GetFunction of a partial ARN
// ("ACCOUNT:function:NAME", a FunctionName Lambda takes) as Lambda does
// for a function of another account that the caller may read (a
// resource-based policy): with that account's function, whose ARN names
// it. moto fails on partial ARNs (an HTTP 500), so the answer is moto's
// function of that name with the account of the name.
type partialARNLambda struct{ awsprovider.LambdaAPI }

var partialARN = regexp.MustCompile(`^([0-9]{12}):function:(.+)$`)

func (l partialARNLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	m := partialARN.FindStringSubmatch(awssdk.ToString(in.FunctionName))
	if m == nil {
		return l.LambdaAPI.GetFunction(ctx, in, optFns...)
	}
	out, err := l.LambdaAPI.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &m[2]}, optFns...)
	if err != nil {
		return nil, err
	}
	c := *out.Configuration
	c.FunctionArn = awssdk.String(strings.Replace(awssdk.ToString(c.FunctionArn), ":"+motoAccount+":", ":"+m[1]+":", 1))
	out.Configuration = &c
	return out, nil
}

// TestPartialARNOfAnotherAccountNamesNothingHere: the account check of
// ARNs (TestARNOfAnotherAccountNamesNothingHere) missed Lambda's partial
// ARN "ACCOUNT:function:NAME", a plain name to the driver, which Lambda
// resolves to that account's function: Get returned the other account's
// function, and QueryMetric and Activity, which read CloudWatch by the
// function's name, read the driver's own account's function of that
// name. A name that GetFunction resolves to a function of another
// account (or region) is now provider.ErrNotFound naming both accounts.
func TestPartialARNOfAnotherAccountNamesNothingHere(t *testing.T) {
	t.Parallel()
	const other = "210987654321"
	arn := createFunction(t, 128, 3, nil)
	name := arn[strings.LastIndex(arn, ":")+1:]
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: partialARNLambda{sdk().lambda}}))
	notFound := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, provider.ErrNotFound)
		assert.Contains(t, err.Error(), other)
		assert.Contains(t, err.Error(), motoAccount)
	}
	id := other + ":function:" + name
	_, err := d.Get(tctx(t), id)
	notFound(err)
	now := time.Now().UTC().Truncate(time.Minute)
	_, err = d.QueryMetric(tctx(t), provider.Query{ResourceID: id, Metric: provider.MetricInvocations, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute})
	notFound(err)
	_, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: id, Start: now.Add(-time.Hour), End: now})
	notFound(err)
	reads := []provider.ResourceRead{{ID: id}}
	require.NoError(t, d.GetResources(tctx(t), reads))
	notFound(reads[0].Err)

	// The driver's own account's partial ARN names its function.
	r, err := d.Get(tctx(t), motoAccount+":function:"+name)
	require.NoError(t, err)
	assert.Equal(t, arn, r.ID)
}
