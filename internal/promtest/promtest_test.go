package promtest

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartScrapesAndBackfills(t *testing.T) {
	t.Parallel()
	ts := time.Now().Add(-time.Hour).Truncate(time.Minute).Unix()
	om := fmt.Sprintf("# TYPE old_metric gauge\nold_metric{instance=\"x\"} 1 %d\nold_metric{instance=\"x\"} 2 %d\n# EOF\n", ts, ts+60)
	exporter := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("# TYPE in_process gauge\nin_process 42\n"))
	})
	s := New(t, Options{
		Exporters:   []Exporter{{Job: "mine", Handler: exporter, Labels: map[string]string{"team": "a b"}}},
		OpenMetrics: []byte(om),
	})
	require.NotEmpty(t, s.URL)
	require.Len(t, s.ExporterTargets, 1)
	assert.Empty(t, s.NodeTarget)
	require.NoError(t, s.WaitFor(t.Context(), `in_process{job="mine",team="a b"} == 42`, 1, 30*time.Second))
	n, err := s.Query(t.Context(), `count_over_time(old_metric[2h]) == 2`)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the backfilled samples are queryable")
	_, err = s.Query(t.Context(), `rate(`)
	require.Error(t, err, "bad PromQL")
	require.NoError(t, s.Stop())
	require.NoError(t, s.Stop(), "Stop twice")
	_, err = os.Stat(s.Dir)
	require.ErrorIs(t, err, os.ErrNotExist, "Stop removes the directory")
}

func TestBackfillRejectsBadInput(t *testing.T) {
	t.Parallel()
	err := Backfill([]byte("this is not openmetrics\n"), t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "promtool")
}

func TestLookPathSaysHowToInstall(t *testing.T) {
	t.Parallel()
	_, err := LookPath("prometheus-no-such-binary")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "install-deps.sh")
	for _, bin := range []string{binPrometheus, binPromtool, binNode} {
		_, err := LookPath(bin)
		require.NoError(t, err, "the tests need %s", bin)
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	t.Parallel()
	_, err := Start(Options{Exporters: []Exporter{{Job: ""}}})
	require.Error(t, err)
	_, err = Start(Options{Targets: []Target{{Job: "x"}}})
	require.Error(t, err)
}

func TestRenderConfigQuotes(t *testing.T) {
	t.Parallel()
	got := string(renderConfig(2*time.Second, []scrapeJob{{name: "j", target: "127.0.0.1:1", labels: map[string]string{"b": "x: y", "a": `q"`}}}))
	assert.Contains(t, got, "scrape_interval: 2s")
	assert.Contains(t, got, `- targets: ["127.0.0.1:1"]`)
	// Sorted keys, quoted values.
	assert.Less(t, strings.Index(got, `"a": "q\""`), strings.Index(got, `"b": "x: y"`))
}
