// Package metrics exports what the monitor sees as Prometheus metrics, on
// a registry the host owns (never the global one):
//
//	col, _ := metrics.New(metrics.Config{}, metrics.WithBudgets(limiter), metrics.WithAlerts(alerts))
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(col)
//	log, _ := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("metrics", col))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The Collector is a monitor.Sink: it counts the events the log passes it
// (decisions by outcome, actions, blocks by rule, events by kind), keeps
// the latest verdict of every resource (idle count; a resource it saw
// terminated, an executed terminate not in a dry run, is no longer
// counted until a later verdict of its ID; the last 750 to 1000
// resources terminated are remembered, so that a verdict older than the
// terminate that arrives after it does not count one again; a resource
// that vanished otherwise, whose latest verdict is older than
// Config.VerdictTTL, 3h by default, behind the newest run that ended of
// the reaper that judged it (a KindRun event done of the same Actor,
// monitor.WithObserverActor; the newest verdict while none came), leaves it
// at the next scrape, with its decisions' de-duplication keys, or, for a
// Collector not scraped, when an event is written VerdictTTL after the last
// such drop) and the latest
// forecast error of every predictive strategy of every target (its
// name is a forecast event's Strategy; left out while it is unknown: −1 in the
// event, or a value that is not a number or infinite, which the Log
// refuses but a host may Write; never exported as NaN or ±Inf; a target
// the scaling engine forgets, Engine.Forget or Autoscaler.Close, is told
// recovered with −1 and so leaves it), the scaling targets without data
// (a KindScalingData event no_data, until one recovered: a target the
// engine forgets is told recovered too; an error or a no_data older than
// the latest such event of its strategy or target arrives late and
// changes neither gauge, while one that ends a series ends it whatever
// its time), and the
// executed changes in a
// report.Ledger, from which it measures the realised savings when scraped
// (in memory that grows with the resources changed, not with time). The rate-limit budget left
// and the alerts firing are read from their sources when scraped.
//
// Metric names, with the default namespace "idlescale":
//
//	idlescale_events_total{kind,source}                 counter
//	idlescale_decisions_total{outcome}                  counter  (pass, require_approval, block)
//	idlescale_actions_total{action,outcome,dry_run}     counter
//	idlescale_blocks_total{rule}                        counter  (UnnamedRule, "unnamed", for a block naming none)
//	idlescale_idle_resources                            gauge
//	idlescale_forecast_error{target,strategy}           gauge    (strategy: the event's Strategy)
//	idlescale_scaling_no_data{target}                   gauge    (1 while the target's strategies lack data)
//	idlescale_realised_savings                          gauge    (currency of the resources' hourly cost)
//	idlescale_ratelimit_remaining_events{bucket}        gauge    (WithBudgets)
//	idlescale_alerts_firing{severity}                   gauge    (WithAlerts)
//
// A label value that is not valid UTF-8 (an event's source, outcome or
// rule, a target's ID), which Prometheus refuses, is exported Go-quoted
// (strconv.Quote: "caf\xe9"), so that two values that differ only in
// their bad bytes stay two labels.
package metrics
