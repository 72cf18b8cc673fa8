package quota_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/quota"
)

// TestSourceRefusesInvalidQueriesWithoutSpending: Source is a
// MetricsSource, so an invalid query fails with provider.ErrInvalid
// before any call, spending and waiting for nothing. A query of too many
// points (an hour at 1ns steps: 2³¹ by Query.Steps) was costed as 21,000
// paged calls and 2·10⁹ points, waited 15 hours for the budget and left
// it that far in debt, before the wrapped source refused it.
func TestSourceRefusesInvalidQueriesWithoutSpending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		for _, batching := range []bool{false, true} {
			b, err := quota.NewBudget(quota.Config{})
			require.NoError(t, err)
			fs := &batchSource{}
			var src *quota.Source
			if batching {
				src, err = quota.NewSource(fs, b)
			} else {
				src, err = quota.NewSource(&fs.fakeSource, b)
			}
			require.NoError(t, err)
			now := time.Now()
			bad := hourQueries(now, 1)[0].Query
			bad.Step = time.Nanosecond
			empty := hourQueries(now, 1)[0].Query
			empty.End = empty.Start

			_, err = src.QueryMetric(t.Context(), bad)
			require.ErrorIs(t, err, provider.ErrInvalid)
			reads := hourQueries(now, 4)
			reads[1].Query, reads[2].Query = bad, empty
			require.NoError(t, src.QueryMetrics(t.Context(), reads))
			require.ErrorIs(t, reads[1].Err, provider.ErrInvalid, "batching %v", batching)
			require.ErrorIs(t, reads[2].Err, provider.ErrInvalid, "batching %v", batching)
			for _, i := range []int{0, 3} {
				require.NoError(t, reads[i].Err, "batching %v: read %d", batching, i)
				assert.Len(t, reads[i].Series.Values, 12)
			}
			assert.Equal(t, time.Duration(0), time.Since(now), "batching %v: nothing waited", batching)
			want := quota.Cost{Calls: 2, Points: 24, RecentPoints: 24}
			if batching {
				want.Calls = 1
			}
			assert.Equal(t, want, b.Usage().Cost, "batching %v: only the valid reads spend", batching)
		}
	})
}
