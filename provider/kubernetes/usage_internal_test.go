package kubernetes

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestPrometheusUsageSourcesAreBounded: PrometheusUsage keeps one
// prometheus.Source for each namespace it reads (about 7.5 KB each), and
// kept every one for good, so a host over a cluster whose namespaces come
// and go (a namespace for each pull request's preview) grew without
// bound. It now keeps at most maxUsageSources; one dropped is made again
// when its namespace is read (the same configuration: nothing in it
// depends on more than the namespace's name), and one kept is reused.
func TestPrometheusUsageSourcesAreBounded(t *testing.T) {
	t.Parallel()
	u, err := NewPrometheusUsage(prometheus.Config{Address: "http://prometheus.invalid:9090", Ranges: prometheus.RangesClosed})
	require.NoError(t, err)
	first, err := u.source("ns-0")
	require.NoError(t, err)
	again, err := u.source("ns-0")
	require.NoError(t, err)
	assert.Same(t, first, again, "a namespace's source is reused")
	for i := range maxUsageSources + 100 {
		_, err := u.source("ns-" + strconv.Itoa(i))
		require.NoError(t, err)
	}
	u.mu.Lock()
	n := len(u.sources)
	u.mu.Unlock()
	assert.LessOrEqual(t, n, maxUsageSources, "sources kept")
	src, err := u.source("ns-0")
	require.NoError(t, err)
	assert.NotNil(t, src, "a namespace whose source was dropped is read again")
}
