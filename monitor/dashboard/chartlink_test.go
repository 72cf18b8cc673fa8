package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/monitor/report"
)

// The page's "data" and "SVG" links of a host's chart whose name holds a
// character a URL path reads otherwise ("#", "?", "/", "%", a space) lead
// to that chart: the name was written into the links as it was, so
// "p95#eu" linked to api/charts/p95 (a 404; "#eu" a fragment) and
// "latency/eu" to a route that does not exist. The name is now
// path-escaped in the links, and the endpoints read it back.
func TestChartLinksReachChartsWithAnyName(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	names := []string{"p95#eu", "latency/eu", "what?", "50%", "two words"}
	charts := dashboard.ChartsFunc(func(context.Context, time.Time) ([]report.Chart, error) {
		var out []report.Chart
		for _, n := range names {
			out = append(out, report.Chart{Name: n, Title: "host chart " + n, Type: report.ChartBar,
				Labels: []string{"a"}, Series: []report.Series{{Label: "x", Values: []float64{1}}}})
		}
		return out, nil
	})
	_, srv := f.serve(t, dashboard.WithCharts(charts))
	status, page, _ := get(t, srv.URL+"/")
	require.Equal(t, http.StatusOK, status)
	for _, n := range names {
		fig := regexp.MustCompile(`(?s)data-chart="` + regexp.QuoteMeta(html.EscapeString(n)) + `">.*?<figcaption><a href="([^"]*)">data</a> · <a href="([^"]*)">SVG</a>`).
			FindStringSubmatch(page)
		require.NotNil(t, fig, "the figure of %q", n)
		status, b, _ := get(t, srv.URL+"/"+html.UnescapeString(fig[1]))
		if assert.Equal(t, http.StatusOK, status, "%s: data link %s", n, fig[1]) {
			assert.Contains(t, b, `"text":"host chart `+n+`"`)
		}
		status, b, _ = get(t, srv.URL+"/"+html.UnescapeString(fig[2]))
		if assert.Equal(t, http.StatusOK, status, "%s: SVG link %s", n, fig[2]) {
			assert.Contains(t, b, "host chart")
		}
	}
}
