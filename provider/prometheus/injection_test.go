package prometheus_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/promtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// A resource ID or target label with quotes, backslashes or braces (a
// label a workload's owner sets, relabelled onto its target) cannot change
// the PromQL of a template that puts {{.ID}} or {{index .Labels "team"}}
// in a string, in double or single quotes: a busy instance whose ID ends
// the string and adds "or vector(0)" must read busy, not idle.
func TestIDAndLabelsCannotInjectPromQL(t *testing.T) {
	t.Parallel()
	type target struct{ id, team string }
	targets := []target{
		// Each ends the string, adds "or vector(0)" and opens a selector
		// that the template's end closes: a 0 where the series is absent.
		{`busy"}or(vector(0))or{__name__="inj_cpu",id="`, `a"}or(vector(0))or{__name__="inj_cpu",team="`},
		{`busy'}or(vector(0))or{__name__='inj_cpu',id='`, `b'}or(vector(0))or{__name__='inj_cpu',team='`},
		{`back\slash`, `t\eam`},
		{`brace}{"q"`, `x'y"z`},
	}
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "# TYPE inj_up gauge")
		for _, tg := range targets {
			fmt.Fprintf(w, "inj_up{id=\"%s\",team=\"%s\"} 1\n", esc.Replace(tg.id), esc.Replace(tg.team))
		}
		fmt.Fprintln(w, "# TYPE inj_cpu gauge")
		for _, tg := range targets {
			fmt.Fprintf(w, "inj_cpu{id=\"%s\",team=\"%s\"} 0.9\n", esc.Replace(tg.id), esc.Replace(tg.team))
		}
	})
	srv := promtest.New(t, promtest.Options{Exporters: []promtest.Exporter{{Job: "inj", Handler: h}}})
	require.NoError(t, srv.WaitFor(t.Context(), `count_over_time(inj_cpu[1m]) >= 8`, len(targets), 40*time.Second))
	src := newSource(t, prometheus.Config{
		Address: srv.URL, IDLabel: "id",
		Targets: `last_over_time(inj_up{ {{.Matchers}} }[{{.Range}}])`,
		Metrics: map[provider.Metric]string{
			provider.MetricCPU:              `max(inj_cpu{id="{{.ID}}"})`,
			provider.CustomMetric("team"):   `max(inj_cpu{team="{{index .Labels "team"}}", {{.Matchers}}})`,
			provider.CustomMetric("single"): `max(inj_cpu{id='{{.ID}}', team='{{index .Labels "team"}}'})`,
		},
	})
	end := time.Now().Add(-2 * time.Second).Truncate(time.Second)
	for _, tg := range targets {
		for _, m := range []provider.Metric{provider.MetricCPU, provider.CustomMetric("team"), provider.CustomMetric("single")} {
			got, err := src.QueryMetric(t.Context(), provider.Query{ResourceID: tg.id, Metric: m, Start: end.Add(-5 * time.Second), End: end, Step: time.Second})
			require.NoError(t, err, "%s %s", tg.id, m)
			assert.Less(t, got.Gaps(), got.Len(), "%s %s: %v", tg.id, m, got.Values)
			for i, v := range got.Values {
				if !provider.IsGap(v) {
					assert.InDelta(t, 0.9, v, 1e-9, "%s %s step %d reads %v, not the instance's 0.9", tg.id, m, i, v)
				}
			}
		}
	}
}
