// Package detector finds idle resources from utilization, activity,
// schedules and a trained model, combined into one explainable confidence.
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
//   - Model: logistic regression fitted with gonum/optimize (Train,
//     Evaluate, CrossValidate, Save, LoadModel).
//
// An Ensemble weighs them (0.3, 0.3, 0.2, 0.2, renormalised over the
// signals that have data), takes a majority vote (measured load vetoes
// idleness) and recommends an action (stop, terminate, downsize, or an
// off-hours schedule for resources with a weekly rhythm) only when its
// confidence exceeds 0.8. Presets reproduce AWS Trusted Advisor, Google
// Cloud's idle-VM recommender and Azure Advisor for comparison.
//
// Missing data is never idleness: a missing, gappy or stale series, a
// source error, or exact zeros that follow busy values with nothing in
// between (a dead agent, a zero-filled outage) make a signal Unknown, and a
// resource younger than the grace period (24 h) is never idle.
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
