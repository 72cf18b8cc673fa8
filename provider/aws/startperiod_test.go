package aws_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestStartPeriodBoundaries pins the period CloudWatch asks of a query by
// its start's age, which decides whether a quiet count's steps may read
// 0: a minute under 15 days, 5 minutes under 63, an hour from then on,
// with the start taken 5 minutes older than the real time says
// (CloudWatch's clock may be that far ahead), so that a start just
// inside a tier by the driver's clock is read in the next one.
func TestStartPeriodBoundaries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	skew := 5 * time.Minute
	for _, tt := range []struct {
		name string
		age  time.Duration
		want time.Duration
	}{
		{"now", 0, time.Minute},
		{"15 days less the skew, less a nanosecond", 15*day - skew - time.Nanosecond, time.Minute},
		{"15 days less the skew", 15*day - skew, 5 * time.Minute},
		{"15 days less 4 minutes", 15*day - 4*time.Minute, 5 * time.Minute},
		{"15 days less 6 minutes", 15*day - 6*time.Minute, time.Minute},
		{"63 days less the skew, less a nanosecond", 63*day - skew - time.Nanosecond, 5 * time.Minute},
		{"63 days less the skew", 63*day - skew, time.Hour},
		{"63 days less 4 minutes", 63*day - 4*time.Minute, time.Hour},
		{"455 days", 455 * day, time.Hour},
	} {
		assert.Equal(t, tt.want, awsprovider.StartPeriod(now.Add(-tt.age), now), tt.name)
	}
}

// TestQuietCountPeriodIsJudgedWhenAnswered: CloudWatch judges a query's
// Start by its clock as it answers, so a read that starts just inside
// the 1-minute tier by the real time before it and ends after the tier
// has moved (a slow read: throttling, pages) got 5-minute datapoints,
// and its 1-minute steps without one are unknown, not quiet. The tier is
// the one at the real time after the read, not before it (a mutant
// judging it before the read lived: every other test's clock stands
// still).
func TestQuietCountPeriodIsJudgedWhenAnswered(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	before := f.now
	var calls atomic.Int32
	clock := func() time.Time { // the read takes 10 minutes
		if calls.Add(1) == 1 {
			return before
		}
		return before.Add(10 * time.Minute)
	}
	q := provider.Query{ResourceID: f.fn, Metric: provider.MetricInvocations, Statistic: provider.StatSum,
		Start: before.Add(-15*24*time.Hour + 6*time.Minute), End: before.Add(-time.Hour), Step: time.Minute}
	require.Equal(t, time.Minute, awsprovider.StartPeriod(q.Start, before), "a minute before the read")
	require.Equal(t, 5*time.Minute, awsprovider.StartPeriod(q.Start, before.Add(10*time.Minute)), "five after it")

	lam := modifiedLambda{LambdaAPI: lambda.NewFromConfig(sdkConfigIn(region)), modified: map[string]time.Time{f.fn: before.Add(-500 * 24 * time.Hour)}}
	d := newDriverIn(t, region, fastConfig(), awsprovider.WithClients(awsprovider.Clients{Lambda: lam}), awsprovider.WithNow(clock))
	got, err := d.QueryMetric(tctx(t), q)
	require.NoError(t, err)
	require.Equal(t, got.Len(), got.Gaps(), "the steps of a read CloudWatch answered at five minutes stay gaps")
	require.Positive(t, calls.Load(), "the driver read the clock")

	// Read in no time, the same query's recent steps are quiet.
	d = newDriverIn(t, region, fastConfig(), awsprovider.WithClients(awsprovider.Clients{Lambda: lam}), awsprovider.WithNow(func() time.Time { return before }))
	got, err = d.QueryMetric(tctx(t), q)
	require.NoError(t, err)
	assert.Less(t, got.Gaps(), got.Len())
}
