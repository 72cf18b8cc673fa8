package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/idlescale/idlescale/provider"
)

// Sentinel errors of the driver, besides the provider sentinels it wraps.
var (
	// ErrForbidden means the API server refused the call for lack of
	// permission (HTTP 403). It is matched by every *ForbiddenError, which
	// names the verb and resource the driver needed. It matches
	// provider.ErrDenied.
	ErrForbidden error = &deniedError{"kubernetes: forbidden"}
	// ErrUnauthorized means the API server did not accept the credentials
	// (HTTP 401). It matches provider.ErrDenied.
	ErrUnauthorized error = &deniedError{"kubernetes: unauthorized"}
	// ErrUnavailable means the API server or the metrics API could not
	// answer: unreachable, timed out on its side (HTTP 504, 500 with a
	// timeout), unavailable (503) or failing internally (500), or, for
	// the metrics API, not served (no metrics-server: a 404 to a list of
	// pod metrics). The call may succeed later.
	ErrUnavailable = errors.New("kubernetes: unavailable")
	// ErrNoSelector means a workload has no label selector, so its pods
	// cannot be found (the HPA's "selector is required").
	ErrNoSelector = errors.New("kubernetes: workload has no selector")
	// ErrMissingRequest means a container has no request for the resource
	// a utilization is relative to (the HPA's "missing request for cpu"),
	// or that the requests of the pods with data total 0. The error names
	// the container and pod, or the step; it also matches
	// provider.ErrUnsupported.
	ErrMissingRequest = errors.New("kubernetes: missing resource request")
	// ErrNoMetricsSource means QueryMetric was called on a driver built
	// without a metrics client or usage source; it also matches
	// provider.ErrUnsupported.
	ErrNoMetricsSource = errors.New("kubernetes: no metrics source")
)

// deniedError is a sentinel of the driver that also matches
// provider.ErrDenied, with its own message.
type deniedError struct{ msg string }

func (e *deniedError) Error() string { return e.msg }

// Unwrap returns provider.ErrDenied.
func (e *deniedError) Unwrap() error { return provider.ErrDenied }

// ForbiddenError reports a call the API server refused for lack of
// permission. It matches ErrForbidden; the API server's error (a
// *errors.StatusError of k8s.io/apimachinery) stays in the chain.
type ForbiddenError struct {
	// Verb is the API verb the driver used: "get", "list", "update",
	// "patch".
	Verb string
	// Resource is the resource, with its subresource and API group, as
	// RBAC rules name them: "deployments/scale" in group "apps" is
	// "deployments.apps/scale".
	Resource string
	// Namespace and Name identify the object; Name is empty for a list.
	Namespace, Name string
	// Err is the API server's error.
	Err error
}

// Error implements error: "kubernetes: forbidden: update deployments.apps/scale
// shop/web: <the server's message>"; a list of every namespace says "in
// all namespaces" (it needs a ClusterRole).
func (e *ForbiddenError) Error() string {
	obj := e.Namespace
	if e.Name != "" {
		obj += "/" + e.Name
	}
	switch {
	case obj != "":
		obj = " " + obj
	case e.Verb == "list":
		obj = " in all namespaces"
	}
	return fmt.Sprintf("kubernetes: forbidden: %s %s%s: %v", e.Verb, e.Resource, obj, e.Err)
}

// Unwrap returns ErrForbidden and the server's error.
func (e *ForbiddenError) Unwrap() []error { return []error{ErrForbidden, e.Err} }

// call describes one API call for error messages: verb, resource (RBAC
// form) and object.
type call struct {
	verb, resource, namespace, name string
}

// wrap returns err with the sentinel its API status means, the client's
// error kept in the chain: `kubernetes: OP "ID": not found: ...`. A context
// error stays a context error. A 403 becomes a *ForbiddenError naming c.
func wrap(op, id string, c call, err error) error {
	if err == nil {
		return nil
	}
	prefix := "kubernetes: " + op
	if id != "" {
		prefix += fmt.Sprintf(" %q", id)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%s: %w", prefix, &ForbiddenError{Verb: c.verb, Resource: c.resource, Namespace: c.namespace, Name: c.name, Err: err})
	}
	if s := sentinel(err); s != nil {
		return fmt.Errorf("%s: %w: %w", prefix, s, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// sentinel returns the sentinel err's API status means, or nil.
func sentinel(err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return provider.ErrNotFound
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		return provider.ErrConflict
	case apierrors.IsTooManyRequests(err):
		return provider.ErrThrottled
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsRequestEntityTooLargeError(err):
		return provider.ErrInvalid
	case apierrors.IsMethodNotSupported(err), apierrors.IsNotAcceptable(err), apierrors.IsUnsupportedMediaType(err):
		return provider.ErrUnsupported
	case apierrors.IsUnauthorized(err):
		return ErrUnauthorized
	case apierrors.IsServiceUnavailable(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsInternalError(err), apierrors.IsUnexpectedServerError(err):
		return ErrUnavailable
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return nil // another status: keep it as it is
	}
	if strings.Contains(err.Error(), clientThrottled) {
		// The client's own limit, before any request was sent.
		return provider.ErrThrottled
	}
	// Anything else is the transport: refused connection, TLS, EOF.
	return ErrUnavailable
}

// clientThrottled starts the error of client-go's rest.Request when the
// client's rate limiter (rest.Config's QPS and Burst, 5 and 10 by
// default) refuses to wait, as golang.org/x/time/rate does for a wait
// that would pass the context's deadline: the request was never sent.
// client-go gives that error no type of its own, only this message.
const clientThrottled = "client rate limiter Wait returned an error"

// ctxErr returns ctx's error wrapped with op, or nil while ctx is live.
func ctxErr(ctx context.Context, op, id string) error {
	if err := ctx.Err(); err != nil {
		return wrap(op, id, call{}, err)
	}
	return nil
}
