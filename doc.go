// Package idlescale is an embeddable Go SDK for automated cloud resource
// management: it finds idle resources, decides safely what to do with them,
// and scales workloads reactively and predictively, against any cloud
// through pluggable providers.
//
// idlescale is a library, not a daemon: a host service composes pipelines
// from its parts, writes its own providers, and unit-tests its scaling logic
// with fake clocks. Every decision is a pure function of its input and a
// time "now", and returns its reasons, so the host owns its audit trail.
//
// # Map of the SDK
//
// Imports only go downward in this list: a package imports only packages
// listed above it.
//
//	clock                the small Clock interface (Now, After) that waiting
//	                     components take; *clock.Mock from benbjohnson/clock fits it
//	provider             the shared vocabulary: Resource, Series (with explicit gaps),
//	                     Query, Capacity, Size, Backup, ActivityCount, and the small
//	                     capability interfaces Inventory, MetricsSource, Actuator,
//	                     Scaler, Resizer, BackupCatalog, ActivitySource
//	trace                real metric traces read from CSV into provider samples, to
//	                     replay a host's own history
//	provider/quota       a per-account-region budget of metric reads (calls and
//	                     data points per second, CloudWatch's by default), batching
//	                     into GetMetricData-sized calls, back-off when throttled
//	provider/memory      an in-memory cloud for tests, dry runs and examples: fleet
//	                     files, replay of real traces, lifecycle on a clock, fault
//	                     injection, a log of every mutation; a CloudWatch quota
//	                     emulator on its clock
//	provider/memory/synth a read-only fleet of up to 10⁹ resources computed from a
//	                     seed and real trace shapes, for runs at full size
//	provider/providertest the conformance suite every driver runs
//	provider/aws         EC2 instances and EBS volumes, Auto Scaling, CloudWatch,
//	                     Lambda, Application Load Balancers and EBS snapshots
//	provider/prometheus  metrics, activity and targets from a Prometheus server
//	detector             idle detection: utilization, activity, schedule and model
//	                     signals combined into one explainable confidence; Tracker
//	                     evaluates a fleet incrementally from per-resource states
//	detector/etcdstore   the Tracker's per-resource states on etcd, shared by replicas
//	detector/stream      constant-size state per resource and columnar window scans,
//	                     for evaluating large fleets incrementally
//	forecast             forecasting models with prediction intervals and automatic
//	                     selection by backtest
//	safety               the gate every mutation passes: rules, risk levels,
//	                     audited decisions, failing closed
//	safety/approval      human approvals for what safety will not allow alone:
//	                     bound to the proposal, expiring, executed once, audited
//	safety/approval/etcdstore  approval requests on etcd, shared by replicas
//	safety/etcdaudit     the audit trail on etcd, shared by replicas
//	safety/etcdhistory   the actions the fleet-share limit counts, on etcd:
//	                     shared by replicas, kept across restarts
//	ratelimit            budgets on scaling events per window, target and fleet
//	ratelimit/etcdstore  the limiter's history on etcd: replicas share one budget
//	coord                several replicas on etcd: leader election per scope and
//	                     fencing of the leader's writes; shards over replicas
//	coord/shardsweep     each shard's leader sweeps its resources hourly with a
//	                     Tracker on etcd and acts at most once per resource and hour
//	reaper               the idle-reaping pipeline: detect, select, gate (with
//	                     approvals), reserve, act, verify, record, through small
//	                     interfaces a host can replace; dry run by default
//	scaling/hpa          Kubernetes' HPA replica calculation and normalization,
//	                     exactly, as pure functions on their own input types
//	scaling              scaling strategies (threshold, target-value, HPA, step,
//	                     vertical, scheduled, predictive, the host's) and the engine that plans,
//	                     gates, rate-limits, executes, verifies and rolls back their
//	                     decisions; observer events; the Autoscaler runner and its
//	                     YAML/JSON policies
//	scaling/sim          replays demand traces through strategies beside an oracle
//	                     and reactive baselines: cost, SLO violations, changes
//	monitor              the typed event log of everything the pipelines do, with
//	                     sinks (memory, rotating JSON lines) and queries
//	monitor/alert        alerts over events and metrics, deduplicated and resolved,
//	                     to webhook and log notifiers
//	monitor/report       idle resources, actions, estimated and realised savings,
//	                     scaling; text, JSON, HTML; chart data and SVG charts
//	monitor/dashboard    the web dashboard, an http.Handler, read-only by default
//	monitor/metrics      Prometheus collectors for the host's registry
//	provider/kubernetes  Deployments, StatefulSets and their pods through client-go:
//	                     inventory, the scale subresource, stop to zero and back,
//	                     metrics.k8s.io or Prometheus metrics, in-place pod resize,
//	                     the HPA calculator's inputs (a scaling.PodSource), and
//	                     unused PersistentVolumes reported (never deleted)
//
// Time is read only through the small Clock interface of package clock,
// which *clock.Mock from github.com/benbjohnson/clock satisfies, and only by
// components that wait; decisions take now in their input. The bounds on
// I/O are real time whatever the clock (package clock lists them).
package idlescale
