package hpa

import "errors"

// Errors with the meaning of the Kubernetes replica calculator's errors.
// The calculator wraps them with the metric's context ("unable to get
// metrics for resource cpu: ..."); test with errors.Is.
var (
	// ErrNoMetrics means the metrics API returned no sample at all for a
	// per-pod metric ("no metrics returned from resource metrics API"), or
	// no series for an external metric ("no metrics returned from external
	// metrics API").
	ErrNoMetrics = errors.New("hpa: no metrics returned")
	// ErrNoPods means the selector matched no pod ("no pods returned by
	// selector while calculating replica count").
	ErrNoPods = errors.New("hpa: no pods returned by selector while calculating replica count")
	// ErrNoReadyMetrics means no sample is left once the deleted, failed,
	// pending and unready pods are set aside ("did not receive metrics for
	// targeted pods (pods might be unready)").
	ErrNoReadyMetrics = errors.New("hpa: did not receive metrics for targeted pods (pods might be unready)")
	// ErrNoMatchingMetrics means the samples left match no listed pod with
	// a request, so utilization cannot be computed ("no metrics returned
	// matched known pods").
	ErrNoMatchingMetrics = errors.New("hpa: no metrics returned matched known pods")
	// ErrMissingRequest means a pod (or a container of it) does not
	// request the resource a utilization target is a percentage of
	// ("missing request for cpu in container c1 of Pod p").
	ErrMissingRequest = errors.New("hpa: missing request")
	// ErrContainerNotFound means a container resource metric names a
	// container the pod does not have.
	ErrContainerNotFound = errors.New("hpa: container not found")
	// ErrInvalidMetrics means some of a Spec's metrics could not be
	// computed. Calculator.Replicas returns it alone when it still
	// proposes a count from the valid ones (a scale up), and with the
	// proposal -1 when all are invalid or a valid one would scale down.
	ErrInvalidMetrics = errors.New("hpa: invalid metrics")
)
