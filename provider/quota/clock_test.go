package quota_test

import (
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/quota"
)

// A nil Clock means the real clock, as package clock says of every
// WithClock: a host that passes its optional clock through (nil in
// production) reads through the budget. WithClock(nil) set the Budget's
// clock to nil, and the first read panicked. A nil *clock.Mock is not a
// nil Clock and would panic on first use: NewBudget refuses it, naming
// the clock, as the etcd stores and the rate limiter do.
func TestWithClockNil(t *testing.T) {
	t.Parallel()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	now := cloud.Now()
	require.NoError(t, cloud.AddSamples("i-1", provider.MetricCPU, provider.Sample{Time: now.Add(-time.Minute), Value: 0.5}))

	b, err := quota.NewBudget(quota.Config{}, quota.WithClock(nil))
	require.NoError(t, err)
	src, err := quota.NewSource(cloud, b)
	require.NoError(t, err)
	s, err := src.QueryMetric(t.Context(), provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU,
		Start: now.Add(-time.Hour), End: now, Step: time.Hour})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, s.Values[0], 1e-12)

	_, err = quota.NewBudget(quota.Config{}, quota.WithClock((*bclock.Mock)(nil)))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
}

// A nil *memory.Cloud is not a nil MetricsSource: NewSource refuses it,
// naming the source. It was taken, and the first read panicked.
func TestNewSourceRefusesNilPointer(t *testing.T) {
	t.Parallel()
	b, err := quota.NewBudget(quota.Config{})
	require.NoError(t, err)
	_, err = quota.NewSource((*memory.Cloud)(nil), b)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "source", inv.Field)
}
