// Package scaling recommends and carries out horizontal and vertical
// scaling: strategies that recommend a capacity or size, an Engine that
// plans each change, passes every step through the safety gate and the
// rate limiter, executes it through a provider, verifies it and rolls it
// back on its own when it fails, and an Autoscaler that does so for every
// target of a policy on an interval.
//
// # Strategies
//
// A Strategy is a pure function of a State: the time, the target (a
// provider.Resource with its capacity or size, and the policy's bounds),
// the metric series the strategy needs (MetricNeeder), the pods of a
// Kubernetes target, and the target's History of recommendations and
// changes. It returns a Recommendation: the capacity or size, the
// reason in words, the inputs it used, and a fitness in [0, 1] saying how
// well it fits the situation. The built-in strategies:
//
//   - Threshold: the classic policy: above 0.8 double, below 0.3 halve.
//   - TargetValue: HashiCorp nomad-autoscaler's target-value strategy,
//     for the same inputs (latest sample, factor = value/target, target 0
//     keeps a queue empty, a closed 1 % band, ⌈count × factor⌉, scaling
//     from zero, max scale up and down).
//   - HPA: Kubernetes' HorizontalPodAutoscaler, exactly (package hpa), on
//     a Kubernetes target's pods (PodSource) or on any group's metrics (its
//     instances as pods: the ready ones report the group's metric, the
//     launching ones are pending).
//   - Step: EC2 Auto Scaling step scaling (step adjustments by breach
//     size; change, exact and percent adjustments).
//   - Vertical: percentile sizing with a half-life (an instance type from
//     a catalogue; a function's memory and timeout within Lambda's limits).
//   - Scheduled: cron schedules in IANA time zones, DST-correct, setting
//     min, max and desired capacity.
//   - Predictive: a forecast of the demand (package forecast; model and
//     seasons chosen from the history) at a high quantile plus a margin
//     over the provisioning lead time, scaling in too (held for the
//     horizon), never below the reactive need, falling back to it with
//     short history or a rolling forecast error above its bound; a
//     forecast-only mode; Status names the patterns found. Package
//     scaling/sim replays it (or any strategy, or a target's strategies
//     weighed as the engine weighs them: TargetConfig.Candidates) on a
//     host's history.
//
// A host adds its own with StrategyFunc. Strategies never read the clock.
//
// Each strategy reads the series of its own Needs: State.SeriesFor finds
// a Need's series by its metric, statistic and step, so that two
// strategies of a target that read one metric with other statistics or
// steps (a mean and a peak, an HPA's minutes and a forecast's weeks) do
// not read each other's. The Autoscaler records the need of every
// series it reads in State.MetricNeeds; in a State built by hand with
// only Metrics, a Need's series is that of its metric at its step, or
// the only one of its metric, and two it cannot tell apart are an error
// rather than a guess.
//
// # Engine
//
// Engine.Decide asks a target's strategies and picks the pinned one or
// the fittest; Engine.Plan turns the choice into a Plan; Engine.Execute
// carries it out; Engine.Preview asks the gate what it would allow,
// changing nothing. A plan has ordered steps (no step changes more than
// half of the current capacity, the safety gate's gradual rule), the
// rollback plan, a monitoring plan (settle within a timeout, then, after
// a scale in or a resize, signals such as CPU ≤ 0.9 healthy over a
// window; a scale out watches only the signals configured for it, never
// the load it answers; a window without data yet, or with data not yet
// up to its end (a sample of the source's that would be stamped in it
// still missing at its end), is read again until the timeout has passed since it ended, as
// metrics are published late (then one without data fails, one with
// data is checked on what it has); a step to a desired capacity of 0 passes a signal without data, which no
// instance is left to report; a signal published only when something
// happens, such as an error count (Signal.MissingIsZero, CloudWatch
// alarms' TreatMissingData), is read until its PublishDelay, 5 minutes
// by default, has passed since the window ended, and no data is 0,
// healthy when 0 is in its range), the expected duration and the cost
// impact per hour. Each step goes
//
//	fence ─► safety gate ─► rate limit ─► provider write ─► settle ─► signals ─► verified
//	  │           │              │               │                │          │
//	stopped    blocked      rate_limited         │                └── failed ┴─► rollback
//	                        (clamp: shorter step) └── failed ─────────────────────┘
//
// (the fence again right before each provider write attempt: a leader
// deposed since writes nothing, and its reservation is refunded) and is
// recorded: an event for the Observer (the monitor consumes them),
// a Change in the target's History, a StepRecord in the Journal.
//
// A strategy without data (a metric missing, its read failed, only gaps,
// or stale) keeps the capacity and says so (Recommendation.NoData); a
// target whose every strategy that reads metrics lacks them is not scaled
// on its load, pass after pass, which no error reports: the engine tells
// its Observer once when that starts (EventNoData, Reason saying what
// each lacked) and once when it ends (EventDataRecovered), and the
// monitor's default scaling_no_data alert follows them.
//
// A plan that stops is not an error. The Execution's Status says how the
// plan ended (PlanStatus: completed, blocked, rate_limited, stopped,
// rolled_back, failed, interrupted); Engine.Execute's error (and
// TargetReport.Err) is nil when the safety gate refused a step or the
// rate limiter denied one — Execution.Gate and Execution.RateLimit hold
// that decision — and non-nil only for a failure: a gate or limiter that
// failed (which stops the plan too: fail closed), a fence that refused, a
// drift, a provider error, a step not verified, a rollback that failed.
// A host or simulator that applies decisions itself records its changes
// with Engine.RecordChange, so that the strategies' rate limits count
// them.
// The plan carries an ID that the safety proposals (Proposal.Source and
// ID), the events and the provider calls' context (PlanFromContext) see.
// Executing a plan twice changes the target once; a plan interrupted
// (its context ended) is resumed from the real capacity, neither losing
// nor repeating a step (a write cut off that changed nothing gets its
// rate-limit reservation back), and a rollback interrupted is finished
// by the resume; a capacity changed by someone else stops the plan
// (ErrDrift). A group is where a step put it when its spec is the step's,
// or, for a step whose Min is 0 in a plan that starts or ends with the
// group stopped (a desired capacity of 0), when only its Min differs and
// lies between 1 and its desired capacity (in any other plan that is a
// floor raised outside it: drift): a driver that reports a stopped
// group's bounds with a Min of 0 and keeps its own floor when that 0 is
// passed back (the Kubernetes driver) is woken, verified and rolled back
// like any other (a step that starts exactly at the group's spec is still
// written). With several replicas, WithFencer makes every write depend
// on the leader's coord fence, so a deposed leader cannot act.
//
// A step reserves one event of its direction: Up for a scale out, Down
// for a scale in, stop or terminate, and for a resize the way its vCPUs
// and memory move. A resize whose sizes do not tell (a driver that
// reports the instance type alone, as the AWS driver does, or vCPUs and
// memory moving opposite ways) must fit both directions' budgets: with a
// BothReserver (a *ratelimit.Limiter) it is one event of ratelimit.Both,
// recorded in both of the target's budgets and once in a global one;
// with a host's Reserver that does not take Both, two events, Up and
// Down, granted both or neither (a global budget then counts the resize
// twice, and one with a MinInterval denies it every time).
//
// The engine depends on small interfaces it declares: Gate (a
// *safety.Engine), Reserver (a *ratelimit.Limiter, also a BothReserver),
// Fencer, Observer, Journal, ActionRecorder (the *safety.MemoryHistory the gate's limits
// rule reads, WithActionHistory, so that its fleet share counts the
// engine's scale-ins) and the provider capabilities in Cloud.
//
// # Autoscaler
//
// An Autoscaler reads its policy (Config: targets, strategies, bounds,
// verification; YAML or JSON with ParseConfig or LoadConfigFile,
// validated at load, naming the bad field) and evaluates every target on
// an interval (default 15 s, Kubernetes' HPA sync period) with bounded
// concurrency, never twice at once for one target. It reads the targets
// a batch at a time (up to 256: their resources, the groups' capacities,
// the strategies' metrics, the HPA targets' pods), in one call per kind of
// read when the provider has the batch capabilities
// (provider.ResourceBatcher, CapacityBatcher, MetricsBatcher, and
// PodBatcher for the pods; the memory cloud has the first three, the
// Kubernetes driver all four, its metric batch read one workload at a
// time for the Autoscaler: provider.WithBatchConcurrency) and with one
// call per read
// otherwise; Config.BatchSize sets the batches' size for a provider whose
// requests are rate-limited. It is a dry run
// unless Config.Execute is set. Run returns nil when ctx ends; it waits
// for the evaluations in flight, whose plans stop as interrupted and are
// resumed by the next Run.
//
// Evaluate returns a Report holding every target's decision and plan,
// executing nothing (RunOnce executes, or previews in a dry run);
// EvaluateEach reads and decides as Run's pass does, without acting,
// handing each target's report to a function as its batch is decided,
// with the decisions, plans and the recommendations' inputs in buffers
// reused from batch to batch, and
// their reasons remembered by what they say (a pass over 10,000 groups
// that changes their capacity allocates about 0.5 MB instead of 17 to 19,
// a steady pass under 20 KB: BenchmarkEvaluateFleet).
// Targets
// with the same HPA strategy (name and configuration) share one *HPA and
// its working spaces; a strategy keeps nothing of a target between calls,
// so sharing changes no decision.
//
// An Autoscaler's policy is fixed: a host changes it (a file reloaded,
// a preview environment or a group created or deleted) by making a new
// Autoscaler of the new policy on the same Engine, then closing the old
// one (Autoscaler.Close) and running the new one once the old one's Run
// has returned. The targets both policies have keep their History; the
// engine forgets (Engine.Forget) those that left, once no Autoscaler of
// it has them and no plan of them is executing, so that a host whose
// targets come and go for months keeps only those it has, and a target
// that comes back starts afresh (an HPA strategy's first decision
// stabilized on the current count, as for a new HorizontalPodAutoscaler).
// Forget refuses a target an Autoscaler has (ErrTargetInUse: its
// History would be split) or one with a plan executing
// (ErrPlanRunning); forgetting never touches the Journal, so an
// interrupted plan keeps its record and its rollback for Engine.Resume,
// and ends the forecast standing of each of its predictive strategies
// that fell back, in fallback still or recovered since
// (EventForecastRecovered, Value −1), so that a fallback's alert does
// not fire for good and the forecast error the monitor exports for the
// target goes with it.
//
// A group that another autoscaler scales (provider.Resource.ScaledBy: the
// Kubernetes driver names the HorizontalPodAutoscaler that targets a
// workload) gets no plan that changes its desired capacity, in a dry run
// too, to and from zero included: the two would undo each other's changes
// for ever. Its decision is reported with ErrScaledByAnother in
// TargetReport.Err; new bounds alone are planned. (Stopping a Kubernetes
// workload outside its hours, which its HPA allows, is the reaper's.)
//
// The engine keeps of each target's History what its strategies read
// (HistoryWindower): an HPA strategy its stabilization windows and
// policy periods, the other built-in strategies nothing but the newest
// recommendation of each and the newest change. A target with a
// strategy that does not say (a host's StrategyFunc) keeps
// EngineConfig.HistoryRetention (default 2 h). Within its window, an HPA
// strategy's records are only read for their highest and lowest values
// (ExtremesReader), so the engine drops a record once later ones match it
// both ways: a steady HPA target keeps one record, not one per decision.
// A decision made without a proposal (an HPA target beyond its bounds,
// its scaling disabled, or all its metrics failed: Recommendation and
// RecommendationRecord.NoProposal) is recorded as such and, as in
// Kubernetes, neither stabilized over nor counted among those values.
//
//	cloud, _ := memory.New(memory.Config{})
//	gate, _ := safety.New(safety.Config{}, rules)
//	limiter, _ := ratelimit.New(ratelimit.Config{})
//	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud},
//		gate, scaling.WithReserver(limiter), scaling.WithObserver(observer))
//	policy, _ := scaling.LoadConfigFile("autoscaler.yaml")
//	a, _ := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud})
//	err := a.Run(ctx) // nil when ctx ends
//
// # Faults
//
// A provider error in the middle of a plan rolls back the steps done,
// after reading the target again: a write that failed but took effect
// (a reply lost after the backend applied it) is recorded in the History
// and the action history, and keeps its reservation, as one that
// succeeded (a rollback write found so is settled and the rollback goes
// on); throttling is retried with backoff within EngineConfig.RetryDeadline,
// the target read again before each retry (found moved by someone else,
// the write is not retried: ErrDrift, nothing written) (a cooldown is
// throttling too: a driver that honours one, the AWS
// driver with Config.HonorCooldown, refuses a plan's next step in the
// cooldown its previous step started, so a plan that must wait it out
// needs a RetryDeadline longer than the cooldown); a rollback's writes,
// also those of a rollback resumed after a restart, are made with a
// context marked by provider.WithRollback (PlanStepRef.Rollback tells
// the same to a host's driver), which such a driver lets through the
// cooldown: it is most often the one the step being undone started,
// which may outlast the retries (Auto Scaling's default cooldown is
// 300 s, RetryDeadline's 2 min) and left the change in place (ErrRollback);
// a provider write that hangs is cut off after EngineConfig.WriteTimeout
// (default 30m, real time whatever the engine's clock), and since its
// outcome is unknown (ErrWriteTimeout) it is never taken for a write
// that changed nothing: the target is read again, a change found in
// effect is recorded in the History, the step's reservation is kept and
// the plan rolled back (a rollback write that timed out and is not found
// in effect fails the rollback), and the target is released for the
// next decision; a provider read that hangs (the target's capacity or
// size, a verification signal's metric) is cut off after the monitoring
// plan's Timeout, in real time too, and fails as a read does; a
// metric that cannot be read makes a strategy keep the capacity (an HPA
// strategy scales up on the metrics it has and never down while one is
// missing), and one with an infinite value, or a utilization (cpu,
// memory) below zero, fails the strategies that read it (an error naming
// the metric and step) rather than scale the target on it; a safety rule that errors blocks (fail closed, and an error);
// a capacity that never settles fails verification and is rolled back;
// a throttled read of a verification signal is read again at the next
// poll, within the verification's timeout (never read by then, the step
// is not verified);
// a size a driver reports as unknown while it is being applied (the AWS
// driver's Lambda function during its update) is waited for, within the
// verification's timeout, before a plan resumes or rolls back from it.
// Every such error is a *StepError naming the plan, step and Stage,
// wrapping the cause (errors.Is reaches safety.ErrRuleFailed,
// provider.ErrThrottled, ErrNotVerified, ErrDrift, ErrRollback, ...).
//
// Everything here is safe for concurrent use. Constructors take their
// configuration first (a zero config means the defaults), validate it
// and start no goroutine; options wire collaborators.
package scaling
