package memory_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Activity totals of finite counts stay finite (ActivityCount.Validate
// refuses +Inf): they saturate at math.MaxFloat64.
func TestActivityTotalSaturates(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	now := c.Now()
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	require.NoError(t, c.RecordActivity("i-1", provider.ActivityAPICalls, now.Add(-2*time.Minute), math.MaxFloat64))
	require.NoError(t, c.RecordActivity("i-1", provider.ActivityAPICalls, now.Add(-time.Minute), math.MaxFloat64))
	got, err := c.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-1", Start: now.Add(-time.Hour), End: now.Add(time.Second)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, got[0].Validate())
	assert.InDelta(t, math.MaxFloat64, got[0].Count, 0)
}
