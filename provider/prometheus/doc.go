// Package prometheus is the idlescale driver for Prometheus: it reads
// metrics, activity and a fleet of scrape targets from a Prometheus server's
// HTTP API (through github.com/prometheus/client_golang/api/prometheus/v1).
//
// A *Source implements provider.MetricsSource, provider.ActivitySource and
// provider.Inventory. It cannot start, stop or resize anything, so hosts
// pair it with an actuating driver (or use it for detection and reports
// only).
//
//	src, err := prometheus.New(prometheus.Config{Address: "http://prometheus:9090"})
//	if err != nil { ... }                   // a bad template is reported here
//	if err := src.Check(ctx); err != nil { ... } // optional: the server parses every template
//	cpu, err := src.QueryMetric(ctx, provider.Query{
//		ResourceID: "10.0.0.7:9100", Metric: provider.MetricCPU,
//		Start: now.Add(-24 * time.Hour), End: now, Step: 5 * time.Minute,
//	})
//
// # Templates
//
// Each metric and activity kind maps onto a PromQL template, Go
// text/template text filled from TemplateData: {{.Matchers}} selects the
// resource (instance="10.0.0.7:9100"), {{.Selector}} is the same in braces,
// {{.Range}} is the rate window, {{.ID}} the ID and {{index .Labels
// "job"}} any of the resource's target labels, both escaped for the inside
// of a string (host="{{.ID}}"), so that a quote in a value cannot change
// the query. The defaults read prometheus-node-exporter:
//
//	cpu                  1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle",{{.Matchers}}}[{{.Range}}]))
//	memory               1 - node_memory_MemAvailable_bytes{ {{.Matchers}} } / node_memory_MemTotal_bytes{ {{.Matchers}} }
//	network_in           sum without (device) (rate(node_network_receive_bytes_total{device!="lo",{{.Matchers}}}[{{.Range}}]))
//	network_out          sum without (device) (rate(node_network_transmit_bytes_total{device!="lo",{{.Matchers}}}[{{.Range}}]))
//	network_utilization  max without (device) ((rate(receive) + rate(transmit)) / (node_network_speed_bytes > 0))
//	disk_utilization     max without (device) (rate(node_disk_io_time_seconds_total{ {{.Matchers}} }[{{.Range}}]))
//	disk_read            sum without (device) (rate(node_disk_read_bytes_total{ {{.Matchers}} }[{{.Range}}]))
//	disk_write           sum without (device) (rate(node_disk_written_bytes_total{ {{.Matchers}} }[{{.Range}}]))
//
//	api_calls (activity) sum(increase(http_requests_total{ {{.Matchers}} }[{{.Range}}]))
//	processes (activity) sum(increase(node_forks_total{ {{.Matchers}} }[{{.Range}}]))
//	targets (inventory)  last_over_time(up{ {{.Matchers}} }[{{.Range}}])
//
// DefaultMetricTemplates and DefaultActivityTemplates return them. Override
// or add templates in Config; an empty template removes a default:
//
//	cfg := prometheus.Config{
//		Address: "http://prometheus:9090",
//		Metrics: map[provider.Metric]string{
//			// CPU as a recorded gauge instead of node-exporter counters:
//			provider.MetricCPU: `instance:cpu_utilization:ratio{ {{.Matchers}} }`,
//			provider.MetricRequests: `sum(rate(nginx_http_requests_total{ {{.Matchers}} }[{{.Range}}]))`,
//			provider.CustomMetric("queue"): `max(queue_depth{ {{.Matchers}} })`,
//			provider.MetricDiskUtilization: "", // not wanted
//		},
//		Activity: map[provider.ActivityKind]string{
//			provider.ActivityDBQueries: `sum(increase(pg_stat_database_xact_commit{ {{.Matchers}} }[{{.Range}}]))`,
//		},
//	}
//
// New validates every template: it must parse, use only TemplateData's
// fields, select the resource (render differently for two IDs; the
// targets template for two {{.Matchers}}, its {{.ID}} being empty) and render
// to PromQL with balanced brackets and closed strings; the error names the
// template ("config.metrics[cpu]") and matches provider.ErrInvalid. The
// server checks the rest of the grammar: at the first query (ErrBadQuery)
// or earlier with Check. A template must return one series per resource;
// aggregate extra labels away (without (cpu, mode)), or QueryMetric returns
// ErrSeveralSeries. Write a space between a PromQL brace and an action
// ("up{ {{.Matchers}} }"): "{{{" does not parse.
//
// # The grid
//
// provider.MetricsSource asks for value k to reduce the raw samples in
// [Start+k·Step, Start+(k+1)·Step). The driver evaluates a range query at
// Start+Step−1ms, Start+2·Step−1ms, … with the same step, over
//
//	avg_over_time(SELECTOR[Step−1ms])                   a bare selector: its raw samples
//	avg_over_time((EXPR)[Step−1ms:Resolution])          anything else: a subquery
//
// (max_over_time, min_over_time, sum_over_time, count_over_time,
// last_over_time or quantile_over_time(NN/100) for the other statistics),
// so on Prometheus 2.x, whose ranges include both ends, step k sees exactly
// its own samples, and shifts the timestamps back by a step. On Prometheus
// 3.x, whose ranges exclude their start, the window is the whole Step; the
// driver asks the server's version once (Config.Ranges), and tells Mimir
// and Thanos, which answer with their own versions, from Prometheus. A last step cut
// short by End is read with one more instant query over the part before
// End, as provider.Resample does. A bare
// selector (a recorded or backfilled gauge) reduces exactly as
// provider.Resample would; a derived expression such as the node-exporter
// CPU is sampled every Config.Resolution (1m, at most the step) inside the
// step. Ranges of more than 11,000 steps (Prometheus's limit) are split.
// Missing points and points after a series went stale are gaps (NaN),
// never zeros; a non-finite result (a division by zero) is a gap too and
// is reported to the WithWarningFunc callback, one warning for each
// query's answer that counts them and names the first and last step.
//
// # Inventory
//
// The targets template (default: last_over_time(up[Lookback])) lists the
// fleet, one resource per value of Config.IDLabel (default "instance"):
// Kind is Config.Kind (default instance), State is running when up > 0 and
// stopped when the target is down (the closest lifecycle state to "not
// answering scrapes"; a volume is always running, attached, since scrapes
// cannot tell whether it is, see provider.State), Tags are the target labels, and Region,
// Environment, Role and Owner come from the labels "region",
// "environment", "role" and "owner" (configurable). A resource that the
// targets query does not list is unknown: Get, QueryMetric and Activity
// return provider.ErrNotFound for it. To read the history of targets gone
// for longer than Lookback (10m), raise Lookback.
//
// # Activity
//
// Activity evaluates each activity template once at End−1ms with
// {{.Range}} = End−Start−1ms, so increase() counts the window's events;
// a counter that does not exist for the resource leaves its kind out
// (unknown, not zero). A window older than the server keeps (its
// --storage.tsdb.retention.time, 15 days by default) or than the counter
// counts only the part that holds data, and the count says where that
// part begins in its Since (found by a second query, at steps of
// RateWindow or window/672, whichever is longer, each counting over the
// step and a RateWindow before it: a counter scraped less often than
// every RateWindow may read as covering none of the window). The
// detector reads a shorter cover as such: a reaper terminates (which
// needs detector.EvidenceConfig.TerminateWindow, 28 days, of activity
// data) only when the server keeps at least that long and a step more
// (an hour and a scrape interval), and a recheck whose
// count begins inside its window does not act.
//
// # Errors
//
// Invalid arguments match provider.ErrInvalid before any call. PromQL the
// server rejects (bad_data) matches ErrBadQuery, which also matches
// provider.ErrInvalid; an unreachable server (connection refused, 502, 503,
// 504) ErrUnavailable, as does a query that ran past the server's
// --query.timeout (503 too: the message says it timed out); HTTP 429 provider.ErrThrottled; HTTP 401 and 403
// (credentials refused, by the server's basic auth or a proxy in front of
// it) provider.ErrDenied; the caller's
// deadline context.DeadlineExceeded. The client_golang error (*v1.Error,
// *url.Error) stays in the chain of every *QueryError. Warnings and infos
// that Prometheus attaches to an answer are logged (WithLogger) and passed
// to WithWarningFunc. An answer with warnings (a failed remote store,
// Thanos' partial response, a limit that cut it) may lack data, and data
// missing from a CPU series reads as idle: it fails the call with
// ErrPartialResult, unless Config.AcceptWarnings says to read it as
// complete. Infos never fail a call.
//
// # Testing
//
// The package's tests start a real Prometheus (Debian package prometheus
// 2.42) with github.com/idlescale/idlescale/internal/promtest, scraping
// prometheus-node-exporter and an exporter in the test process, with a
// week of NAB CPU traces backfilled by promtool, both as a gauge (read back
// exactly as provider.Resample computes) and as node-exporter idle-CPU
// counters (read by the default template within 0.02 per hour).
package prometheus
