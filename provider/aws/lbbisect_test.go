package aws_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
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
// Two unknowns in different halves cost at most n+3 calls. Every read is
// what the single call answers.
func TestUnknownLoadBalancerAmongTwentyCostsFewCalls(t *testing.T) {
	t.Parallel()
	at := seeder{fewRegion}
	var lbs []string
	for range 19 {
		lbs = append(lbs, at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil))
	}
	unknown := func(n int) string {
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
		assert.LessOrEqual(t, len(elb.sizes), len(ids)+3, "at most n+3 calls: %v", elb.sizes)
		check(t, d, ids, reads, unknown(1), unknown(2))
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
