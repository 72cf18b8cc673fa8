package aws_test

import (
	"context"
	"sync/atomic"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// spotStateEC2 is spotEC2 whose DescribeSpotInstanceRequests reports the
// requests of states in those states (moto 5.2.1 keeps a request open),
// adds the requests of extra to every answer, and counts its calls.
type spotStateEC2 struct {
	spotEC2
	states map[string]ec2types.SpotInstanceState
	extra  []ec2types.SpotInstanceRequest
	calls  *atomic.Int32
	// gone are the requests EC2 no longer knows
	// (InvalidSpotInstanceRequestID.NotFound).
	gone map[string]bool
}

func (c spotStateEC2) DescribeSpotInstanceRequests(ctx context.Context, in *ec2.DescribeSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error) {
	c.calls.Add(1)
	for _, id := range in.SpotInstanceRequestIds {
		if c.gone[id] {
			return nil, &smithy.GenericAPIError{Code: "InvalidSpotInstanceRequestID.NotFound", Message: "The spot instance request ID '" + id + "' does not exist"}
		}
	}
	out, err := c.spotEC2.DescribeSpotInstanceRequests(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for i := range out.SpotInstanceRequests {
		r := &out.SpotInstanceRequests[i]
		if st, ok := c.states[awssdk.ToString(r.SpotInstanceRequestId)]; ok {
			r.State = st
		}
	}
	out.SpotInstanceRequests = append(out.SpotInstanceRequests, c.extra...)
	return out, nil
}

// TestTerminateOfAnInstanceOfAnEndedPersistentSpotRequest: a persistent
// Spot request that is cancelled, closed or failed launches nothing
// more, so its instance is terminated, as is one whose request EC2 no
// longer knows; another request in the answer
// (one that is open and persistent) is not the instance's; and an
// instance launched by no Spot request is terminated without reading
// any (Clients: DescribeSpotInstanceRequests is called only for a Spot
// instance, so a policy without it still terminates the others).
func TestTerminateOfAnInstanceOfAnEndedPersistentSpotRequest(t *testing.T) {
	t.Parallel()
	requests := map[string]string{}
	states := map[string]ec2types.SpotInstanceState{}
	var ended []string
	for _, st := range []ec2types.SpotInstanceState{ec2types.SpotInstanceStateCancelled, ec2types.SpotInstanceStateClosed, ec2types.SpotInstanceStateFailed} {
		rid, iid := requestSpot(t, ec2types.SpotInstanceTypePersistent)
		requests[iid], states[rid] = rid, st
		ended = append(ended, iid)
	}
	forgotten, orphan := requestSpot(t, ec2types.SpotInstanceTypePersistent)
	requests[orphan] = forgotten
	ended = append(ended, orphan)
	oneTime, single := requestSpot(t, ec2types.SpotInstanceTypeOneTime)
	requests[single] = oneTime
	onDemand := runInstances(t, 1, "t3.micro", nil)[0]
	other := ec2types.SpotInstanceRequest{SpotInstanceRequestId: awssdk.String("sir-99999999"),
		Type: ec2types.SpotInstanceTypePersistent, State: ec2types.SpotInstanceStateActive}
	ec2c := spotStateEC2{spotEC2: spotEC2{EC2API: sdk().ec2, requests: requests}, states: states,
		extra: []ec2types.SpotInstanceRequest{other}, calls: &atomic.Int32{},
		gone: map[string]bool{forgotten: true}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: ec2c}))
	ctx := tctx(t)

	for _, id := range append(ended, single) {
		require.NoError(t, d.Terminate(ctx, id), "%s of %s", id, requests[id])
		st, _ := ec2State(t, id)
		assert.Equal(t, ec2types.InstanceStateNameTerminated, st, id)
	}
	n := ec2c.calls.Load()
	require.NoError(t, d.Terminate(ctx, onDemand))
	assert.Equal(t, n, ec2c.calls.Load(), "no Spot request read for an on-demand instance")
}
