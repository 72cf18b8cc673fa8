// Package monitor records what happened: a typed event log of every
// verdict, safety decision, block, approval transition, action,
// verification, rollback, scaling plan and step and forecast fallback,
// with pluggable sinks and queries. Its subpackages build on it: alert
// (rules, deduplication, resolve, webhook and log notifiers), report
// (idle resources, actions, estimated and realised savings, scaling
// summary; text, JSON and HTML; chart data and SVG charts), dashboard (an
// http.Handler) and metrics (Prometheus collectors for a host's registry).
//
// # Events
//
// An Event has a time, a Kind, a Source, the resource concerned and why,
// plus the fields its kind uses (see the Kind constants): a verdict's
// confidence, a decision's risk and blocking rules, an approval's ID, a
// scaling step's capacity change, an action's hourly cost before and
// after. Events are plain values that encode to JSON and back as the
// same event, but for text that is not valid UTF-8 (encoding/json writes
// U+FFFD in place of its invalid bytes) and a time's zone, which JSON
// keeps as its offset (compare times with Equal).
//
// # The log and its sinks
//
// A Log numbers events (Seq), keeps the newest in memory for Query (by
// resource, kinds, source, time range), and passes every event to its
// sinks, in order:
//
//	file, _ := monitor.NewFileSink(monitor.FileConfig{Path: "events.jsonl"}) // rotates at 64 MiB
//	alerts, _ := alert.New(alert.Config{}, alert.WithNotifier("ops", webhook))
//	log, _ := monitor.NewLog(monitor.LogConfig{},
//		monitor.WithSink("file", file), monitor.WithSink("alerts", alerts))
//	r, _ := reaper.New(cfg, fleet, det, gate, reaper.WithObserver(monitor.NewReaperObserver(log)))
//	eng, _ := safety.New(safety.Config{}, rules, safety.WithAuditor(monitor.Auditor(log)))
//	...
//	blocked, _ := log.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindBlocked}, From: dayAgo})
//
// A sink that fails does not stop the others: its events wait in its
// backlog and are passed again on the next Record or Flush; Record reports
// the failure as a *SinkError. The backlog holds LogConfig.MaxBacklog
// events (10,000 by default): beyond it the oldest are dropped and the
// *SinkError also matches ErrDropped, saying how many. The
// sinks here are Ring (memory), FileSink (JSON lines with rotation; read
// back with ReadEvents; a failed rotation fails that Write only and the
// sink recovers once the cause is gone) and any Sink a host writes
// (SinkFunc).
//
// # Where events come from
//
//   - the reaper, through NewReaperObserver (a reaper.Observer; ReaperEvents
//     is the conversion as a pure function; WithObserverActor names the
//     reaper, so that the runs of several reapers in one log are apart);
//   - the safety engine and the approval manager, through Auditor (a
//     safety.Auditor); the etcd audit trail every replica shares
//     (safety/etcdaudit) is read back with ImportAuditAfter, whose
//     cursor is etcd's commit order (ImportAudit's, a time, misses an
//     event committed after an import but stamped before it); the first
//     import of a whole trail is history (WithBackfill), which an
//     alert.Alerter does not page for once it is over;
//   - the scaling engine and autoscaler (package scaling), through
//     NewScalingObserver (a scaling.Observer; ScalingEvents is the
//     conversion): a plan is KindScalingPlan (Ref the plan's ID, Capacity
//     the change), each executed step KindScalingStep, the check of its
//     effect KindVerification, an undo KindRollback; Cost carries the
//     group's hourly cost before and after (WithInstanceCost), for
//     realised savings. KindForecast is a predictive strategy that
//     falls back to reactive scaling or recovers (Strategy names it);
//     KindScalingData a target whose strategies have no data to scale on
//     (a metrics outage, a metric never published), and its end;
//   - the host, with Log.Record.
//
// Nothing here reads a clock except the observers, for records that carry
// no time of their own. Everything is safe for concurrent use.
package monitor
