package kubernetes_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestClientRateLimitIsThrottled calls a driver whose client-go rate
// limit (rest.Config's QPS and Burst) has no request left before the
// caller's deadline: client-go refuses to wait and sends nothing, which
// is provider.ErrThrottled (the call changed nothing and may succeed
// later), not ErrUnavailable, which says the API server could not answer
// and, after a write, that it may have changed something. A host that
// alerted on ErrUnavailable paged on its own rate limit.
func TestClientRateLimitIsThrottled(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"app": "web"}
	dep := appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", ResourceVersion: "1", Labels: labels},
		Spec:       appsv1.DeploymentSpec{Replicas: new(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(dep)
	}))
	t.Cleanup(srv.Close)
	// One request, then one every 1000 s.
	d, err := kubernetes.NewForConfig(kubernetes.Config{IgnoreHPAs: true}, &rest.Config{Host: srv.URL, QPS: 0.001, Burst: 1})
	require.NoError(t, err)
	id := kubernetes.Ref{Namespace: "shop", Kind: kubernetes.ObjectDeployment, Name: "web"}.String()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	_, err = d.Capacity(ctx, id)
	require.NoError(t, err, "the burst's request")
	_, err = d.Capacity(ctx, id)
	require.ErrorIs(t, err, provider.ErrThrottled, "client-go's rate limit: %v", err)
	require.NotErrorIs(t, err, kubernetes.ErrUnavailable, "the API server was not asked")
	err = d.Workloads().Stop(ctx, id)
	require.ErrorIs(t, err, provider.ErrThrottled)
	require.True(t, provider.ChangedNothing(err), "a write that was never sent changed nothing: %v", err)
}
