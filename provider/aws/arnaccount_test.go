package aws_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// motoAccount is the account moto's credentials belong to.
const motoAccount = "123456789012"

// TestARNOfAnotherAccountNamesNothingHere: an ARN names a resource of its
// account, as of its region (TestARNOfAnotherRegionNamesNothingHere).
// The driver checked the region but not the account, and resolved a
// group's ARN by its name alone, a function's by its name for its
// metrics (and moto, like a function with a resource policy, answers
// GetFunction on the ARN with the function of that name), and a
// database's by its identifier: another account's ARN of group "web"
// read, and SetCapacity changed, the driver's own account's "web", and
// Resize of another account's function changed the local function of
// that name. Such an ARN is now provider.ErrNotFound naming both
// accounts, before any read or change, one by one as in a batch.
func TestARNOfAnotherAccountNamesNothingHere(t *testing.T) {
	t.Parallel()
	const other = "210987654321"
	name := seeder{region}.createGroup(t, 1, 4, 2, nil)
	groupARN := func(account string) string {
		return "arn:aws:autoscaling:" + region + ":" + account + ":autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/" + name
	}
	fnARN := createFunction(t, 128, 3, nil)
	otherFn := strings.Replace(fnARN, ":"+motoAccount+":", ":"+other+":", 1)
	require.NotEqual(t, fnARN, otherFn)
	d := newDriver(t)
	notFound := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, provider.ErrNotFound)
		assert.Contains(t, err.Error(), other)
		assert.Contains(t, err.Error(), motoAccount)
	}

	notFound(d.SetCapacity(tctx(t), groupARN(other), provider.CapacitySpec{Min: 1, Max: 4, Desired: 4}))
	c, err := d.Capacity(tctx(t), name)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Desired, "the driver's account's group is not changed")
	_, err = d.Get(tctx(t), groupARN(other))
	notFound(err)
	_, err = d.Capacity(tctx(t), groupARN(other))
	notFound(err)

	notFound(d.Resize(tctx(t), otherFn, provider.Size{MemoryMiB: 256, Timeout: 3 * time.Second}))
	fn, err := sdk().lambda.GetFunction(tctx(t), &lambda.GetFunctionInput{FunctionName: &fnARN})
	require.NoError(t, err)
	assert.Equal(t, int32(128), awssdk.ToInt32(fn.Configuration.MemorySize), "the driver's account's function is not changed")
	_, err = d.Get(tctx(t), otherFn)
	notFound(err)

	now := time.Now().UTC().Truncate(time.Minute)
	win := func(id string) provider.Query {
		return provider.Query{ResourceID: id, Metric: provider.MetricInvocations, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}
	}
	_, err = d.QueryMetric(tctx(t), win(otherFn))
	notFound(err)
	_, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: otherFn, Start: now.Add(-time.Hour), End: now})
	notFound(err)
	dbARN := "arn:aws:rds:" + region + ":" + other + ":db:" + uniq("db")
	q := win(dbARN)
	q.Metric = provider.MetricConnections
	_, err = d.QueryMetric(tctx(t), q)
	notFound(err)

	// The batch reads say the same of each such ARN, and read the others.
	reads := []provider.ResourceRead{{ID: groupARN(other)}, {ID: name}, {ID: otherFn}}
	require.NoError(t, d.GetResources(tctx(t), reads))
	notFound(reads[0].Err)
	require.NoError(t, reads[1].Err)
	notFound(reads[2].Err)
	caps := []provider.CapacityRead{{ID: groupARN(other)}, {ID: name}}
	require.NoError(t, d.GetCapacities(tctx(t), caps))
	notFound(caps[0].Err)
	require.NoError(t, caps[1].Err)
	mreads := []provider.MetricRead{{Query: win(otherFn)}, {Query: q}}
	require.NoError(t, d.QueryMetrics(tctx(t), mreads))
	notFound(mreads[0].Err)
	notFound(mreads[1].Err)

	// The driver's own account's ARNs still name its resources.
	r, err := d.Get(tctx(t), groupARN(motoAccount))
	require.NoError(t, err)
	assert.Equal(t, name, r.ID)
	r, err = d.Get(tctx(t), fnARN)
	require.NoError(t, err)
	assert.Equal(t, fnARN, r.ID)
}

// countingSTS counts the GetCallerIdentity calls made through it.
type countingSTS struct {
	awsprovider.STSAPI
	n atomic.Int64
}

func (c *countingSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	c.n.Add(1)
	return c.STSAPI.GetCallerIdentity(ctx, in, optFns...)
}

// TestAccountIsLookedUpOnceAndOnlyForARNs: the account check costs a
// host that passes no ARN nothing, one that passes ARNs one STS call for
// the driver's life, and one that sets Config.AccountID none; a
// Config.AccountID that is not the credentials' makes the ARNs of the
// credentials' account ErrNotFound, as it says.
func TestAccountIsLookedUpOnceAndOnlyForARNs(t *testing.T) {
	t.Parallel()
	name := createGroup(t, 1, 4, 2, nil)
	arn := "arn:aws:autoscaling:" + region + ":" + motoAccount + ":autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/" + name
	stsClient := sts.NewFromConfig(sdkConfig())
	tests := []struct {
		name      string
		account   string
		ids       []string
		wantCalls int64
		wantErr   error
	}{
		{name: "no ARN", ids: []string{name, name, name}, wantCalls: 0},
		{name: "ARNs", ids: []string{arn, name, arn, arn}, wantCalls: 1},
		{name: "AccountID set", account: motoAccount, ids: []string{arn, arn}, wantCalls: 0},
		{name: "AccountID of another account", account: "210987654321", ids: []string{arn}, wantCalls: 0, wantErr: provider.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &countingSTS{STSAPI: stsClient}
			cfg := fastConfig()
			cfg.AccountID = tt.account
			d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{STS: c}))
			for _, id := range tt.ids {
				_, err := d.Capacity(tctx(t), id)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
					continue
				}
				require.NoError(t, err)
			}
			reads := make([]provider.CapacityRead, len(tt.ids))
			for i, id := range tt.ids {
				reads[i].ID = id
			}
			require.NoError(t, d.GetCapacities(tctx(t), reads))
			for _, r := range reads {
				if tt.wantErr != nil {
					require.ErrorIs(t, r.Err, tt.wantErr)
					continue
				}
				require.NoError(t, r.Err)
			}
			assert.Equal(t, tt.wantCalls, c.n.Load())
		})
	}
}

func TestAccountIDIsValidated(t *testing.T) {
	t.Parallel()
	for _, give := range []string{"12345678901", "1234567890123", "12345678901a", " 123456789012"} {
		err := awsprovider.Config{AccountID: give}.Validate()
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, give)
		assert.Equal(t, "config.account_id", inv.Field)
	}
	require.NoError(t, awsprovider.Config{AccountID: motoAccount}.Validate())
}

// failingSTS answers every GetCallerIdentity with an error, counting them.
type failingSTS struct{ n atomic.Int64 }

func (f *failingSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.n.Add(1)
	return nil, errors.New("injected: STS unreachable")
}

// TestBatchAsksForTheAccountOnce: a batch read of ARNs whose account
// cannot be looked up (STS unreachable) fails each ARN's read with the
// lookup's error, and asks STS once for the batch, not once per ARN
// (each call retried by the SDK: a batch of a fleet's ARNs would take
// minutes to fail); its plain names are read.
func TestBatchAsksForTheAccountOnce(t *testing.T) {
	t.Parallel()
	name := createGroup(t, 1, 4, 2, nil)
	arn := "arn:aws:autoscaling:" + region + ":" + motoAccount + ":autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/" + name
	f := &failingSTS{}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{STS: f}))
	reads := []provider.CapacityRead{{ID: arn}, {ID: name}, {ID: arn}, {ID: arn}}
	require.NoError(t, d.GetCapacities(tctx(t), reads))
	for _, i := range []int{0, 2, 3} {
		require.Error(t, reads[i].Err)
		assert.Contains(t, reads[i].Err.Error(), "STS unreachable")
		require.NotErrorIs(t, reads[i].Err, provider.ErrNotFound, "not known to be of another account")
	}
	require.NoError(t, reads[1].Err)
	assert.Equal(t, int64(1), f.n.Load())
}
