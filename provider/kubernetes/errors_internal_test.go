package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/idlescale/idlescale/provider"
)

func TestWrapMapsStatusesOntoSentinels(t *testing.T) {
	t.Parallel()
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	tests := []struct {
		name string
		give error
		want error
	}{
		{"not found", apierrors.NewNotFound(gr, "web"), provider.ErrNotFound},
		{"conflict", apierrors.NewConflict(gr, "web", errors.New("changed")), provider.ErrConflict},
		{"already exists", apierrors.NewAlreadyExists(gr, "web"), provider.ErrConflict},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), provider.ErrThrottled},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", nil), provider.ErrInvalid},
		{"bad request", apierrors.NewBadRequest("no"), provider.ErrInvalid},
		{"method not supported", apierrors.NewMethodNotSupported(gr, "patch"), provider.ErrUnsupported},
		{"unauthorized", apierrors.NewUnauthorized("who"), ErrUnauthorized},
		{"unavailable", apierrors.NewServiceUnavailable("down"), ErrUnavailable},
		{"server timeout", apierrors.NewServerTimeout(gr, "get", 1), ErrUnavailable},
		{"timeout", apierrors.NewTimeoutError("slow", 1), ErrUnavailable},
		{"internal", apierrors.NewInternalError(errors.New("boom")), ErrUnavailable},
		{"connection refused", &url.Error{Op: "Get", URL: "https://127.0.0.1:1", Err: syscall.ECONNREFUSED}, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := wrap("get", "ns/deployment/web", call{verb: "get", resource: "deployments.apps"}, tt.give)
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, err, tt.give, "the client's error stays in the chain")
			// Only a refused credential or permission is denied.
			assert.Equal(t, errors.Is(tt.want, ErrUnauthorized), errors.Is(err, provider.ErrDenied), "%v", err)
			assert.Contains(t, err.Error(), `kubernetes: get "ns/deployment/web"`)
		})
	}
	// Other sentinels do not leak in.
	err := wrap("get", "x", call{}, apierrors.NewNotFound(gr, "web"))
	require.NotErrorIs(t, err, provider.ErrConflict)
	// A status the driver has no sentinel for stays as it is.
	teapot := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 418, Reason: "Teapot"}}
	err = wrap("get", "x", call{}, teapot)
	for _, s := range []error{provider.ErrNotFound, provider.ErrConflict, provider.ErrInvalid, ErrUnavailable, ErrForbidden, provider.ErrDenied} {
		require.NotErrorIs(t, err, s)
	}
	require.ErrorIs(t, err, teapot)
	// Context errors stay context errors.
	err = wrap("get", "x", call{}, fmt.Errorf("Get: %w", context.DeadlineExceeded))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ErrUnavailable)
	require.NoError(t, wrap("get", "x", call{}, nil))
}

func TestForbiddenError(t *testing.T) {
	t.Parallel()
	cause := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments/scale"}, "web", errors.New(`User "v" cannot update resource`))
	err := wrap("set capacity", "shop/deployment/web", call{verb: "update", resource: "deployments.apps/scale", namespace: "shop", name: "web"}, cause)
	require.ErrorIs(t, err, ErrForbidden)
	require.ErrorIs(t, err, provider.ErrDenied)
	require.ErrorIs(t, err, cause)
	assert.Equal(t, "kubernetes: forbidden", ErrForbidden.Error(), "the sentinels keep their messages")
	assert.Equal(t, "kubernetes: unauthorized", ErrUnauthorized.Error())
	var fe *ForbiddenError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "update", fe.Verb)
	assert.Equal(t, "deployments.apps/scale", fe.Resource)
	assert.Contains(t, err.Error(), "forbidden: update deployments.apps/scale shop/web")
	list := &ForbiddenError{Verb: "list", Resource: "pods", Namespace: "shop", Err: cause}
	assert.Contains(t, list.Error(), "list pods shop:")
	// A list of every namespace (Config.Namespaces empty) needs a
	// ClusterRole: say so, rather than "list pods : ...".
	all := &ForbiddenError{Verb: "list", Resource: "pods", Err: cause}
	assert.Contains(t, all.Error(), "kubernetes: forbidden: list pods in all namespaces: ")
	disc := &ForbiddenError{Verb: "get", Resource: "discovery /api/v1", Err: cause}
	assert.Contains(t, disc.Error(), "kubernetes: forbidden: get discovery /api/v1: ")
}

func TestNoSelector(t *testing.T) {
	t.Parallel()
	// The API refuses Deployments and StatefulSets without a selector, but
	// the driver does not rely on it.
	for _, sel := range []*metav1.LabelSelector{nil, {}, {MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}} {
		w := workload{ref: Ref{Namespace: "ns", Kind: ObjectDeployment, Name: "web"}, selector: sel}
		_, err := w.podSelector()
		require.ErrorIs(t, err, ErrNoSelector)
	}
	w := workload{selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
	sel, err := w.podSelector()
	require.NoError(t, err)
	assert.Equal(t, "app=web", sel.String())
}
