// Package detector finds idle resources from utilization, activity,
// schedules and a trained model, combined into one explainable confidence,
// and recommends an action only on the evidence that action needs.
//
// A Detector turns an Input (now, the resource, its metric series and
// activity counts) into a Verdict: Idle, NotIdle or Unknown, a confidence in
// [0, 1], each signal's contribution, structured Reasons, the window
// examined and a recommended Action with its estimated monthly savings.
// Detection is a pure function of its input: nothing reads the clock.
//
// The strategies, each usable alone:
//
//   - Utilization: every metric below its threshold (CPU and memory 10 %,
//     network and disk 5 %) by a statistic (mean, max, pNN) over a
//     look-back window, and held over the last hour.
//   - Activity: logins, API calls, DB queries, file and process activity;
//     each kind scores 1 − exp(−count/10); idle after 30 minutes quiet.
//   - Schedule: learns the idle hours of the week from history, votes on
//     whether now is one and proposes an off-hours schedule (OffHours).
//     It learns from the resource's launch on (Resource.LaunchTime): a
//     resource deleted and created again under the same ID (a Kubernetes
//     name, a Lambda function's) is not judged on its predecessor's week.
//   - Model: logistic regression fitted with gonum/optimize (Train,
//     Evaluate, CrossValidate, Save, LoadModel) over CPU, network traffic
//     and activity; without measured traffic (network_in and network_out)
//     it has no opinion, unless ModelConfig.IgnoreNetwork says the host's
//     source reports none. It reads CPU whatever the kind: a function, a
//     load balancer or a volume has none, so the model has no opinion on
//     them, and that unknown vote forbids a stop or a terminate (see
//     Evidence): with a model, the kinds judged on counts (DefaultKinds)
//     may be reported idle but are never terminated. A host that wants
//     them terminated judges them with an ensemble without a model.
//
// An Ensemble weighs them (0.3, 0.3, 0.2, 0.2, renormalised over the
// signals that have data), takes a majority vote (measured load vetoes
// idleness) and considers an action only when its confidence exceeds 0.8.
//
// What a resource's load is measured on depends on its kind
// (EnsembleConfig.Kinds): a function has no CPU, and is idle when nothing
// invokes it; a load balancer when no request reaches it; a volume when
// nothing reads or writes a byte of it. By default (DefaultKinds) these
// are judged on their counts (invocations, requests, bytes read and
// written), required, idle below half an event a day (IdleEventRate) so
// that any use reads as use, for the utilization and the learned week;
// every other kind on the utilization thresholds above. A Scan and a
// Tracker read each resource's kind's metrics (NeedsOf). A source must
// read a count with no events as zeros, not as gaps, or the count is
// missing and the verdict Unknown: the AWS driver reads Lambda's counts,
// an Application Load Balancer's requests and a detached EBS volume's
// bytes so.
// The kinds the ensemble terminates rather than stops (Terminable) are
// never put on an off-hours schedule: they cannot be stopped.
// Presets reproduce AWS Trusted Advisor, Google Cloud's idle-VM recommender
// and Azure Advisor as their providers document them, for comparison.
//
// # Evidence
//
// An idle-reaper that stops a machine doing real work once is switched off
// for good, so the evidence a recommendation needs grows with the harm the
// action can do (EvidenceConfig holds the numbers; these are the defaults):
//
//	report idle  the verdict: the last 24 h below the thresholds, held for
//	             the last hour, a weighted score of 0.5 or more, a strict
//	             majority of the signals voting idle and no "not idle"
//	             vote from the utilization; every action below also needs
//	             a confidence above 0.8 (ActThreshold)
//	schedule     a learned week (7 days of history at least) with hours
//	             busy every week, 90 % of its hours regularly idle or busy,
//	             off windows saving at least 25 % of the week and holding
//	             no peak (a step at the max bound of the schedule's metric
//	             or of another bounded one: a nightly backup's traffic)
//	             and no hour seen only in part (Profile.KnownIdle), read
//	             at steps of 5 minutes or less
//	downsize     7 days of data in the last 14; that window's p99 and max,
//	             projected onto the smaller size, below 70 % and 90 %
//	stop         95 % of the last 14 days covered by data, read at steps
//	             of 5 minutes or less (an hour's mean hides a shorter
//	             peak; EvidenceConfig.MaxPeakStep); their p99 below
//	             the idle threshold and their max below twice it (CPU 10 %
//	             and 20 %), network traffic in and out (where the provider
//	             reports it, as AWS does) p99 below 100 kB/s and max below
//	             1 MB/s, disk reads and writes (where reported) p99 below
//	             100 kB/s and max below 10 MB/s; every hour of the week
//	             idle, none with a peak, none missing more than 10 % of
//	             its steps every week, none without any data in two weeks
//	             or more (Profile.KnownIdle: a job whose metrics go
//	             missing while it runs, nightly or every other week);
//	             no activity (a login, a query, ...) in the last 30
//	             minutes, the activity's quiet period; no vote of not
//	             idle from the model or a signal of the host's own
//	             (WithSignal), however outvoted, nor one that could not
//	             tell (unknown: its data missing)
//	terminate    the same over 28 days, and activity data over all of
//	             them showing no use at all (a verified backup is the
//	             safety gate's job)
//
// No action at all is recommended when a read failed (a metric's, the
// activity's): the data it hid could show the resource at work.
//
// A verdict is about its now; a host acts on it later (the reaper after
// a run of minutes, coord/shardsweep after its period's Delay). Recheck
// (Ensemble.Recheck) reads the activity again just before a stop or a
// terminate, from the verdict's now to the time of acting and at least
// the quiet period before it, and a host acts only when it finds no use
// and its read did not fail.
//
// An idle instance or database may be stopped, an idle group scaled in
// (downsize), an idle function, detached volume or load balancer
// terminated (an attached volume serves its instance, which is judged on
// its own: ReasonAttached); a busy
// one may get a schedule (not a function, volume or load balancer: they
// cannot be stopped) or a downsize. Hours of the week that are busy or
// held a peak make an idle machine a schedule or nothing, never a stop.
// When the evidence falls short the action is none and the reasons say
// what is missing: how many more days of data, which statistic reached
// which bound, which hours of the week are busy. Explain shows what a
// person checks before acting: the window's mean, p95, p99 and max, its
// coverage, the busy hours, the week's idle share.
//
// Every statistic a decision reads is a count, a sum or a maximum over the
// window's steps: steps with data, steps at or above a bound, the largest
// value, the idle, observed and peak hours of each hour of the week. The
// p99 rules are decided by counting: a nearest-rank p99 is below a bound
// exactly when at most n − ⌈0.99·n⌉ of the n values reach it. A compact
// per-resource state that keeps these counts per hour (dropping the hours
// that leave the window) therefore decides exactly as a full read of the
// series does: that is Tracker.
//
// # Large fleets
//
// Scan reads every resource's whole history at every run. A Tracker keeps
// per resource, in a StateStore (MemoryStateStore, FileStateStore), the
// counts of each metric and clock hour (and the few sums and maxima the
// rules can still need) and reads only the steps that arrived
// since the last evaluation, at evaluations on the hour: 4 metrics × 12
// steps an hour instead of 4 × 8,064. It reads in full a new resource, a
// state that is missing, corrupt (checksummed), from other settings or
// older than the history, a resource whose launch time changed, and the
// few cases a digest cannot answer exactly (a suspect run of zeros in the
// history, a time zone off the hour), so its verdicts equal Scan's
// (TestTrackerEqualsFullRead checks it on the NAB traces at random cut
// points); only the mean and percentiles shown in evidence reasons are not
// known from the state: they are NaN, which Reason.String leaves out and
// JSON encodes as null (see Reason). A state is about 1.5 KB a resource
// (see Tracker). Like a default Scan, a Tracker reads the activity over
// the quiet period (30 minutes), not the 28 days a terminate needs, so it
// recommends no terminate (TestTrackerNeverTerminates): it fails safe,
// and a host that terminates scans the Terminable kinds over the
// terminate window (ScanConfig.ActivityWindow), as the reaper does.
//
// # Bad and missing data
//
// Missing data is never idleness: a missing, gappy or stale series, a hold
// period without data or a source error make a signal Unknown, and a
// resource younger than the grace period (24 h) is never idle. Exact zeros
// that follow busy values with nothing in between (a dead agent, a
// zero-filled outage) are missing data too, never fresh data: a signal is
// Unknown when they leave its window too gappy, its last real value stale
// or its hold period empty, and the reason says they are suspect. Every
// metric a signal reads counts, required or not: one whose read failed or
// whose data fails these rules makes it Unknown, except that the
// utilization is not idle when a metric it does not require shows load in
// the data it has, however little: measured load vetoes idleness. Bad
// input is an error naming the field: a resource kind that is empty or
// unknown (never a default action), a utilization value outside [0, 1] (a
// trace read in percent), a NaN cost (or one whose month overflows a
// float64), an infinite sample, a metric or an activity kind given twice.
//
// Scan runs a Detector over a provider's Inventory with bounded
// concurrency. The subpackage detector/stream keeps constant-size
// per-resource state (streaming summaries, a percentile sketch) and
// reduces columnar windows, the groundwork for evaluating large fleets
// incrementally.
//
// Usage:
//
//	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
//	if err != nil { ... }
//	report, err := detector.Scan(ctx, detector.Fleet{Inventory: cloud, Metrics: cloud}, ens,
//		detector.ScanConfig{Now: now})
//	for _, v := range report.Verdicts {
//		if v.State == detector.Idle {
//			fmt.Println(v.ResourceID, v.Confidence, v.Action, v.MonthlySavings, v.Explain())
//		}
//	}
package detector
