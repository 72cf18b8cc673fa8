package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// exampleServer returns the address of the tests' Prometheus, which holds
// a week of the NAB traces nab-idle and nab-busy as cpu_utilization.
func exampleServer() (string, time.Time) {
	fxOnce.Do(func() { fxVal, fxErr = startFixture() })
	if fxErr != nil {
		panic(fxErr)
	}
	return fxVal.srv.URL, fxVal.nabEnd
}

func ExampleDefaultMetricTemplates() {
	fmt.Println(prometheus.DefaultMetricTemplates()[provider.MetricCPU])
	// Output:
	// 1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle",{{.Matchers}}}[{{.Range}}]))
}

// New validates every template without calling the server.
func ExampleNew() {
	src, err := prometheus.New(prometheus.Config{
		Address: "http://prometheus.example:9090",
		Metrics: map[provider.Metric]string{
			provider.MetricRequests:        `sum(rate(nginx_http_requests_total{ {{.Matchers}} }[{{.Range}}]))`,
			provider.CustomMetric("queue"): `max(queue_depth{ {{.Matchers}}, job="{{index .Labels "job"}}" })`,
			provider.MetricDiskUtilization: "", // remove a default
		},
		RateWindow: 2 * time.Minute,
	})
	fmt.Println(src.Name(), err)

	_, err = prometheus.New(prometheus.Config{
		Address: "http://prometheus.example:9090",
		Metrics: map[provider.Metric]string{provider.MetricCPU: `avg(rate(node_cpu_seconds_total[5m]))`},
	})
	var ie *provider.InvalidError
	fmt.Println(errors.As(err, &ie), ie.Field, ie.Reason)
	// Output:
	// prometheus <nil>
	// true config.metrics[cpu] must select the resource with {{.Matchers}}, {{.Selector}} or {{.ID}}
}

func ExampleSource_QueryMetric() {
	addr, end := exampleServer()
	src, err := prometheus.New(prometheus.Config{
		Address: addr,
		// The traces were backfilled as a gauge, not node-exporter counters.
		Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu_utilization{ {{.Matchers}} }`},
		// They end up to 10 minutes before the server started: look back
		// far enough to list them however long the tests ran.
		Lookback: time.Hour,
	})
	if err != nil {
		panic(err)
	}
	s, err := src.QueryMetric(context.Background(), provider.Query{
		ResourceID: "nab-idle", Metric: provider.MetricCPU,
		Start: end.Add(-24 * time.Hour), End: end, Step: time.Hour, Statistic: provider.StatMax,
	})
	if err != nil {
		panic(err)
	}
	highest := 0.0
	for _, v := range s.Values {
		highest = max(highest, v)
	}
	fmt.Printf("%d hourly steps, %d gaps, highest hourly max %.1f%%\n", s.Len(), s.Gaps(), 100*highest)
	// Output:
	// 24 hourly steps, 0 gaps, highest hourly max 1.4%
}

func ExampleSource_List() {
	addr, _ := exampleServer()
	src, err := prometheus.New(prometheus.Config{Address: addr, Lookback: time.Hour})
	if err != nil {
		panic(err)
	}
	rs, err := src.List(context.Background(), provider.Filter{Tags: map[string]string{"job": "nab"}})
	if err != nil {
		panic(err)
	}
	for _, r := range rs {
		fmt.Println(r.ID, r.Kind, r.State)
	}
	// Output:
	// nab-busy instance running
	// nab-idle instance running
}

// The detector scans the fleet Prometheus scrapes, reading its metrics and
// activity from the same server.
func ExampleSource_detector() {
	addr, now := exampleServer()
	src, err := prometheus.New(prometheus.Config{
		Address:  addr,
		Lookback: time.Hour,
		Metrics:  map[provider.Metric]string{provider.MetricCPU: `cpu_utilization{ {{.Matchers}} }`},
	})
	if err != nil {
		panic(err)
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		panic(err)
	}
	report, err := detector.Scan(context.Background(), detector.Fleet{Inventory: src, Metrics: src}, ens, detector.ScanConfig{
		Now:    now,
		Filter: provider.Filter{Tags: map[string]string{"job": "nab"}},
	})
	if err != nil {
		panic(err)
	}
	for _, v := range report.Verdicts {
		fmt.Println(v.ResourceID, v.State, v.Action)
	}
	// Output:
	// nab-busy not_idle none
	// nab-idle idle stop
}

func ExampleSource_Activity() {
	addr, _ := exampleServer()
	src, err := prometheus.New(prometheus.Config{Address: addr})
	if err != nil {
		panic(err)
	}
	// The tests' in-process exporter counts the scrapes it serves in
	// http_requests_total, once a second.
	app := fxVal.srv.ExporterTargets[0]
	end := time.Now().Add(-2 * time.Second)
	counts, err := src.Activity(context.Background(), provider.ActivityQuery{ResourceID: app, Start: end.Add(-10 * time.Second), End: end})
	if err != nil {
		panic(err)
	}
	for _, c := range counts {
		fmt.Println(c.Kind, c.Count > 0)
	}
	// Output:
	// api_calls true
}

// Check sends every template to the server, which parses the PromQL.
func ExampleSource_Check() {
	addr, _ := exampleServer()
	src, err := prometheus.New(prometheus.Config{
		Address: addr,
		Metrics: map[provider.Metric]string{
			provider.MetricRequests: `rate(http_requests_total{ {{.Matchers}} })`, // rate needs a range
		},
	})
	if err != nil {
		panic(err) // New checks only what it can without the server
	}
	err = src.Check(context.Background())
	fmt.Println(errors.Is(err, prometheus.ErrBadQuery), errors.Is(err, provider.ErrInvalid))
	fmt.Println(strings.SplitN(err.Error(), ":", 2)[0])
	// Output:
	// true true
	// config.metrics[requests]
}
