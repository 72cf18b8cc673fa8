package prometheus_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestQueryTimeoutIsNamed: a query that runs past the server's query
// timeout (--query.timeout, here the API's timeout parameter, which a
// transport adds to the range query) is answered with HTTP 503, as an
// outage is; it still matches ErrUnavailable (the read fails closed), but
// the error says what the server said: the query timed out, so that an
// operator looks at the query's size rather than at a server that is up.
func TestQueryTimeoutIsNamed(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/query_range") {
			r = r.Clone(r.Context())
			r.URL.RawQuery = "timeout=0.000000001"
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	start, end := settled(3, 2*time.Second)
	src := newSource(t, fx.liveConfig(), prometheus.WithRoundTripper(rt))
	_, err := src.QueryMetric(t.Context(), provider.Query{ResourceID: fx.srv.ExporterTargets[0], Metric: provider.CustomMetric("load"), Start: start, End: end, Step: 2 * time.Second})
	require.ErrorIs(t, err, prometheus.ErrUnavailable)
	var se *prometheus.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusServiceUnavailable, se.Code)
	assert.Contains(t, err.Error(), "timed out", "the error names what happened")
	assert.Contains(t, err.Error(), "timeout")
}
