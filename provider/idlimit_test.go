package provider_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
)

// TestOneIDLimit checks that provider.MaxIDLength is the one limit on
// resource IDs: every ID a provider accepts is a target the rate limiter
// accepts, so no resource can be listed and then fail at the rate limit
// forever.
func TestOneIDLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 255, 256, 257, 1024, provider.MaxIDLength, provider.MaxIDLength + 1} {
		id := strings.Repeat("a", n)
		idErr := provider.ValidateID(id)
		targetErr := ratelimit.ValidateTarget("target", id)
		assert.Equal(t, idErr == nil, targetErr == nil, "ID of %d bytes: provider accepts it: %t, limiter accepts it: %t", n, idErr == nil, targetErr == nil)
		assert.Equal(t, n <= provider.MaxIDLength, idErr == nil, "ID of %d bytes", n)
	}

	// A driver accepts the longest ID where it enters, and refuses one
	// byte more there, naming the field.
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	longest := "i-" + strings.Repeat("0", provider.MaxIDLength-2)
	require.NoError(t, cloud.Add(provider.Resource{ID: longest, Kind: provider.KindInstance}))
	require.NoError(t, ratelimit.ValidateTarget("target", longest))
	err = cloud.Add(provider.Resource{ID: longest + "0", Kind: provider.KindInstance})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "resources[0].id", ie.Field)
}
