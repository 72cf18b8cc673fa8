package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestUnknownLoadBalancerAmongTwentyCostsFewCalls: a describe of 20
// load balancers that ELBv2 fails for one unknown among them is asked
// again in halves, the refused half in halves again (three or fewer one
// by one), so that the unknown one is found in ten calls, not 21 (it
// made one call per load balancer after the first), and a load balancer
// refused alone is not asked again by the single lookup: QueryMetric of
// an unknown load balancer makes one DescribeLoadBalancers call, not two.
// Two unknowns in different halves, or 20 unknowns, cost n+3 calls, as
// the doc bounds them (both halves refused: one by one, two calls more
// than one by one at once; halving those again cost 16 and 35). A known
// load balancer whose call alone fails otherwise (throttled) reads as
// Activity reads it then, without its CreatedTime, not as refused. Every
// read is what the single call answers.
func TestUnknownLoadBalancerAmongTwentyCostsFewCalls(t *testing.T) {
	t.Parallel()
	at := seeder{fewRegion}
	var lbs []string
	for range 19 {
		lbs = append(lbs, at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil))
	}
	unknown := func(n int) string {
		if n >= 4 {
			return lbs[0][:strings.LastIndexByte(lbs[0], '/')+1] + fmt.Sprintf("%016x", 0xbad000+n)
		}
		return lbs[0][:strings.LastIndexByte(lbs[0], '/')+1] + strings.Repeat(string(rune('a'+n)), 16)
	}
	end := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Minute)
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: end.Add(-time.Hour), End: end}
	}
	newStrict := func(t *testing.T) (strictELB, *awsprovider.Driver) {
		elb := strictELB{&arnsELB{ELBv2API: sdkIn(fewRegion).elb}}
		return elb, newDriverIn(t, fewRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: elb}),
			awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	}
	check := func(t *testing.T, d *awsprovider.Driver, ids []string, reads []provider.ActivityRead, unknowns ...string) {
		t.Helper()
		for i, r := range reads {
			if slices.Contains(unknowns, ids[i]) {
				require.ErrorIs(t, r.Err, provider.ErrNotFound, "read %d", i)
				assert.Contains(t, r.Err.Error(), ids[i])
				continue
			}
			require.NoError(t, r.Err, "read %d", i)
			want, err := d.Activity(tctx(t), r.Query)
			require.NoError(t, err)
			assert.Equal(t, want, r.Counts, "read %d", i)
		}
	}

	t.Run("one unknown among 20", func(t *testing.T) {
		t.Parallel()
		elb, d := newStrict(t)
		ids := append(append([]string(nil), lbs...), unknown(0))
		reads := make([]provider.ActivityRead, len(ids))
		for i, id := range ids {
			reads[i] = provider.ActivityRead{Query: window(id)}
		}
		require.NoError(t, d.Activities(tctx(t), reads))
		assert.Equal(t, []int{20, 10, 10, 5, 5, 2, 3, 1, 1, 1}, elb.sizes, "halves down to three, then one by one")
		check(t, d, ids, reads, unknown(0))
	})
	t.Run("two unknowns in different halves", func(t *testing.T) {
		t.Parallel()
		elb, d := newStrict(t)
		ids := append([]string{unknown(1)}, lbs[:18]...)
		ids = append(ids, unknown(2))
		reads := make([]provider.ActivityRead, len(ids))
		for i, id := range ids {
			reads[i] = provider.ActivityRead{Query: window(id)}
		}
		require.NoError(t, d.Activities(tctx(t), reads))
		assert.Equal(t, append([]int{20, 10, 10}, slices.Repeat([]int{1}, 20)...), elb.sizes,
			"both halves refused: one by one, n+3 calls")
		check(t, d, ids, reads, unknown(1), unknown(2))
	})
	t.Run("all 20 unknown", func(t *testing.T) {
		t.Parallel()
		elb, d := newStrict(t)
		ids := make([]string, 20)
		reads := make([]provider.ActivityRead, len(ids))
		for i := range ids {
			ids[i] = unknown(4 + i)
			reads[i] = provider.ActivityRead{Query: window(ids[i])}
		}
		require.NoError(t, d.Activities(tctx(t), reads))
		assert.Equal(t, append([]int{20, 10, 10}, slices.Repeat([]int{1}, 20)...), elb.sizes,
			"n+3 calls: two more than one by one after the first, and no more")
		check(t, d, ids, reads, ids...)
	})
	t.Run("a known one failing alone for another reason", func(t *testing.T) {
		t.Parallel()
		// lbs[18] is asked alone after its chunk of three was refused
		// for the unknown one; that call is throttled, as the single
		// lookup's is: it reads as Activity reads it then (without its
		// CreatedTime, no error), not as unknown, and nothing more is
		// asked.
		elb := throttledELB{strictELB{&arnsELB{ELBv2API: sdkIn(fewRegion).elb}}, lbs[18]}
		d := newDriverIn(t, fewRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: elb}),
			awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
		ids := append(append([]string(nil), lbs...), unknown(30))
		reads := make([]provider.ActivityRead, len(ids))
		for i, id := range ids {
			reads[i] = provider.ActivityRead{Query: window(id)}
		}
		require.NoError(t, d.Activities(tctx(t), reads))
		assert.Equal(t, []int{20, 10, 10, 5, 5, 2, 3, 1, 1, 1}, elb.sizes)
		check(t, d, ids, reads, unknown(30))
	})
	t.Run("QueryMetric of an unknown one", func(t *testing.T) {
		t.Parallel()
		elb, d := newStrict(t)
		_, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: unknown(3), Metric: provider.MetricRequests, Start: end.Add(-time.Hour), End: end, Step: time.Minute})
		require.ErrorIs(t, err, provider.ErrNotFound)
		assert.Contains(t, err.Error(), unknown(3))
		assert.Equal(t, []int{1}, elb.sizes, "one call: the single lookup does not ask again")
	})
}

// throttledELB is strictELB that throttles a DescribeLoadBalancers call
// naming only the load balancer alone.
type throttledELB struct {
	strictELB
	alone string
}

func (c throttledELB) DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	if len(in.LoadBalancerArns) == 1 && in.LoadBalancerArns[0] == c.alone {
		c.mu.Lock()
		c.sizes = append(c.sizes, 1)
		c.mu.Unlock()
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	}
	return c.strictELB.DescribeLoadBalancers(ctx, in, optFns...)
}
