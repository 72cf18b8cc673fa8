package kubernetes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// Credentials planted in the rest.Config and its host.
const (
	plantedToken    = "eyJhbGciOiJSUzI1NiJ9.Pl4ntedBearerTokenBody.sig"
	plantedPassword = "Pl4nted-basic-pw"
	plantedHostPW   = "Pl4nted-host-pw"
)

func assertNoKubeSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{plantedToken, "Pl4ntedBearerTokenBody", plantedPassword, plantedHostPW, url.QueryEscape(plantedHostPW)} {
		assert.NotContains(t, text, s, "%s leaks a planted credential", what)
	}
}

func TestNewForConfigErrorsHideCredentials(t *testing.T) {
	t.Parallel()
	for _, host := range []string{
		"https://admin:" + plantedHostPW + "@bad host:6443",
		"ht tp://admin:" + plantedHostPW + "@example.com",
		"https://admin:" + plantedHostPW + "@[::1",
	} {
		_, err := kubernetes.NewForConfig(kubernetes.Config{}, &rest.Config{Host: host, BearerToken: plantedToken})
		require.Error(t, err, host)
		assertNoKubeSecret(t, "NewForConfig("+host+")", err.Error())
	}
}

// echoAPIServer answers every call with a 401 Status whose message repeats
// the request's Authorization header and URL, as a misconfigured proxy or
// a chatty gateway in front of an API server might.
func echoAPIServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]any{
			"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Unauthorized", "code": 401,
			"message": "rejected Authorization: " + r.Header.Get("Authorization") + " for " + r.URL.String() + " token " +
				strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "),
		})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestErrorsAndLogsHideCredentials(t *testing.T) {
	t.Parallel()
	srv := echoAPIServer(t)
	hostURL, err := url.Parse(srv.URL)
	require.NoError(t, err)
	for name, rc := range map[string]*rest.Config{
		"bearer token": {Host: srv.URL, BearerToken: plantedToken},
		"basic auth":   {Host: srv.URL, Username: "admin", Password: plantedPassword},
		"host userinfo": {Host: "http://admin:" + plantedHostPW + "@" + hostURL.Host,
			BearerToken: plantedToken},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			d, err := kubernetes.NewForConfig(kubernetes.Config{}, rc, kubernetes.WithLogger(log))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			id := kubernetes.Ref{Namespace: "shop", Kind: kubernetes.ObjectDeployment, Name: "web"}.String()
			now := time.Now()
			var errs []error
			_, err = d.List(ctx, provider.Filter{})
			errs = append(errs, err)
			_, err = d.Get(ctx, id)
			errs = append(errs, err)
			_, err = d.Capacity(ctx, id)
			errs = append(errs, err)
			_, err = d.Bounds(ctx, id)
			errs = append(errs, err)
			errs = append(errs, d.SetCapacity(ctx, id, provider.CapacitySpec{Min: 1, Max: 4, Desired: 2}))
			_, err = d.QueryMetric(ctx, provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute})
			errs = append(errs, err)
			_, err = d.HPAInput(ctx, id, []hpa.MetricSpec{hpa.DefaultMetric()}, now)
			errs = append(errs, err)
			errs = append(errs, d.Resize(ctx, kubernetes.Ref{Namespace: "shop", Kind: kubernetes.ObjectPod, Name: "web-1"}.String(), provider.Size{VCPU: 1, MemoryMiB: 512}))
			errs = append(errs, d.Workloads().Stop(ctx, id), d.Workloads().Start(ctx, id))
			for i, err := range errs {
				require.Error(t, err, "call %d reached an API server that refuses everything", i)
				assertNoKubeSecret(t, "error", err.Error())
			}
			require.ErrorIs(t, errs[0], kubernetes.ErrUnauthorized, "the chain is kept: %v", errs[0])
			require.ErrorIs(t, errs[0], provider.ErrDenied)
			assertNoKubeSecret(t, "log", logs.String())
		})
	}
}

// metricsEchoServer answers as an API server with the Deployment shop/web
// (selecting app=web) and its pod web-1, and as a metrics API whose
// gateway refuses every call with a 401 echoing the request's
// Authorization header, as echoAPIServer does.
func metricsEchoServer(t *testing.T) *httptest.Server {
	t.Helper()
	labels := map[string]string{"app": "web"}
	dep := appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", ResourceVersion: "1", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "100m", "64Mi", false)}}},
		},
		Status: appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1},
	}
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", ResourceVersion: "1", Labels: labels},
		Spec:       dep.Spec.Template.Spec,
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	answers := map[string]any{
		"/apis/apps/v1/namespaces/shop/deployments/web": dep,
		"/apis/apps/v1/namespaces/shop/deployments": appsv1.DeploymentList{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DeploymentList"}, Items: []appsv1.Deployment{dep}},
		"/apis/apps/v1/namespaces/shop/statefulsets": appsv1.StatefulSetList{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSetList"}},
		"/api/v1/namespaces/shop/pods": corev1.PodList{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, Items: []corev1.Pod{pod}},
	}
	echo := echoAPIServer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, ok := answers[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			echo.Config.Handler.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHPAInputMetricErrorsHideCredentials reads a workload whose metrics
// API refuses the driver with its credentials in the message: the
// metric's Err, which HPAInput and ObservePodsBatch return for the
// decision, carries no credential either.
func TestHPAInputMetricErrorsHideCredentials(t *testing.T) {
	t.Parallel()
	srv := metricsEchoServer(t)
	d, err := kubernetes.NewForConfig(kubernetes.Config{}, &rest.Config{Host: srv.URL, BearerToken: plantedToken})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	id := kubernetes.Ref{Namespace: "shop", Kind: kubernetes.ObjectDeployment, Name: "web"}.String()
	now := time.Now()
	metrics := []hpa.MetricSpec{hpa.DefaultMetric()}

	in, err := d.HPAInput(ctx, id, metrics, now)
	require.NoError(t, err, "the workload and its pods are readable")
	require.Len(t, in.Metrics, 1)
	require.Error(t, in.Metrics[0].Err, "the metrics API refused the list")
	require.ErrorIs(t, in.Metrics[0].Err, kubernetes.ErrUnauthorized, "the chain is kept: %v", in.Metrics[0].Err)
	assertNoKubeSecret(t, "HPAInput's metric error", in.Metrics[0].Err.Error())

	reads := []scaling.PodRead{{Target: provider.Resource{ID: id}, Metrics: metrics, Now: now}}
	require.NoError(t, d.ObservePodsBatch(ctx, reads))
	require.NoError(t, reads[0].Err)
	require.Len(t, reads[0].Observation.Metrics, 1)
	require.Error(t, reads[0].Observation.Metrics[0].Err)
	assertNoKubeSecret(t, "ObservePodsBatch's metric error", reads[0].Observation.Metrics[0].Err.Error())
}
