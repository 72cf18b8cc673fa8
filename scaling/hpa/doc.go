// Package hpa computes replica counts exactly as Kubernetes'
// HorizontalPodAutoscaler (autoscaling/v2) does, as pure functions over
// what a controller observed: the pods and their metric samples, and the
// history of recent recommendations and rescales.
//
// For the same inputs it gives the same replica count as the HPA
// controller. It is a transcription of the upstream code, not an
// approximation, read from Kubernetes v1.37.2 (the k8s.io/kubernetes
// module at tag v1.37.2, published 2026-10-27; file SHA-256 prefixes in
// brackets):
//
//   - pkg/controller/podautoscaler/replica_calculator.go [082174c324328c4b]:
//     the per-metric calculations, groupPods (deleted, failed, pending,
//     unready, missing pods; the CPU initialization period and initial
//     readiness delay) and calculateRequests (container, pod-level and
//     restartable init container requests);
//   - pkg/controller/podautoscaler/metrics/utilization.go [b29237f05eafc185]:
//     the integer utilization and usage ratios;
//   - pkg/controller/podautoscaler/horizontal.go [99ff78f6d9ea4216]:
//     computeReplicasForMetrics (the largest proposal of the valid
//     metrics; no scale down while a metric is invalid), the bounds and
//     scale-to-zero rules of reconcileAutoscaler, and the normalization
//     (stabilizeRecommendation, convertDesiredReplicasWithRules,
//     stabilizeRecommendationWithBehaviors,
//     convertDesiredReplicasWithBehaviorRate, storeScaleEvent);
//   - pkg/apis/autoscaling/v2/defaults.go [287edfaaa2794b0e]: the behavior
//     defaults (scale up +4 pods or +100 % per 15 s, no stabilization;
//     scale down −100 % per 15 s with the controller's 5-minute window);
//   - pkg/controller/podautoscaler/config/v1alpha1/defaults.go: the
//     controller defaults (tolerance 0.1, CPU initialization period 5 min,
//     initial readiness delay 30 s, downscale stabilization 5 min).
//
// Every case of the upstream replica_calculator_test.go
// [d609f2acb4801684] and the normalization cases of horizontal_test.go
// [4c102ce41f761639] are restated as table rows in this package's tests,
// with the upstream test and case named on each row.
//
// # Use
//
// A Calculator is made for one Spec (the HPA's min/max replicas, metrics
// and behavior) and a Config (the controller's flags). Each decision takes
// an Input, with the time of the decision, the target's replicas, its
// pods (phase, deletion, the Ready condition and its last transition,
// start time, requests) and the values read for each metric:
//
//	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{
//		MaxReplicas: 10,
//		Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
//			Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60},
//		}}},
//	})
//	var h hpa.History // kept between decisions
//	d, err := calc.Decide(hpa.Input{Now: now, SpecReplicas: 3, StatusReplicas: 3,
//		Pods: pods, Metrics: []hpa.MetricValues{{Samples: cpuSamples}}}, h)
//	h.Record(d)
//	if d.Rescale {
//		// set the scale to d.Replicas, then:
//		h.RecordScale(d, now)
//	}
//
// Calculator.Metric computes one metric (the replica calculator's
// functions), Calculator.Replicas combines several, and Config.Normalize
// is the normalization alone.
//
// Identical pods can be one entry: a Pod with a Count of n, whose sample
// is each pod's sample, is decided exactly as n pods that differ only in
// their names, in as few steps as one. The scaling package describes a
// group without pods (an Auto Scaling group's instances, the memory
// cloud's groups) as two such entries, its launching and its ready
// instances.
//
// # Units and differences
//
// Quantities are Kubernetes milli-values (int64): CPU in millicores,
// memory in milli-bytes, custom and external metrics in thousandths of
// their unit; targets in a Spec are written in the metric's unit (float64)
// and converted with Milli, which rounds up like Quantity.MilliValue.
// Durations are time.Duration where the API has seconds. Where Kubernetes
// converts an out-of-range float to int32 or divides by zero
// replicas (a platform-defined result in Go), the calculator saturates at
// math.MaxInt32 or reports the undivided usage; Kubernetes' own tests pin
// the saturating cases, which agree. Timestamps of object and external
// value metrics are reported, where the controller reports a zero time.
// Duplicate pod names in the pods or in one metric's samples are refused
// as invalid input rather than collapsed. A negative sample of a resource
// or container resource metric (a usage, which the metrics server never
// reports below 0) makes that metric invalid, with an error matching
// provider.ErrInvalid naming the pod, where Kubernetes sums it into the
// utilization. The HPAScaleToZero behavior
// (on by default since 1.37) is always on: History.ScaledToZero carries
// the condition.
package hpa
