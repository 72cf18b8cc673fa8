package kubetest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// MetricsServer serves the resource metrics API (metrics.k8s.io/v1beta1
// PodMetrics, what metrics-server serves) over HTTPS on loopback, from pod
// metrics the test sets: no kubelet runs, so no real metrics-server could.
// It answers, in the real API's JSON shape,
//
//	GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods[?labelSelector=...]
//	GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods/NAME
//	GET /apis/metrics.k8s.io/v1beta1/pods[?labelSelector=...]
//
// matching labelSelector against the labels of the PodMetrics objects (as
// metrics-server matches the pods' labels), and 404 with a NotFound
// Status for an unknown pod. It is safe for concurrent use.
type MetricsServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	pods     map[string]metricsv1beta1.PodMetrics // "ns/name" → metrics
	fail     int
	requests int
}

// StartMetricsServer starts a metrics server with no pods. Close it when
// done.
func StartMetricsServer() (*MetricsServer, error) {
	m := &MetricsServer{pods: map[string]metricsv1beta1.PodMetrics{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(m.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kubetest: metrics server: %w", err)
	}
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.StartTLS()
	m.srv = srv
	return m, nil
}

// Close stops the server.
func (m *MetricsServer) Close() { m.srv.Close() }

// Config returns a client configuration for the metrics clientset
// (k8s.io/metrics/pkg/client/clientset/versioned) that trusts the server's
// certificate.
func (m *MetricsServer) Config() *rest.Config {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.srv.Certificate().Raw})
	return &rest.Config{
		Host:            m.srv.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             1000,
		Burst:           2000,
		Timeout:         time.Minute,
	}
}

// Set stores (or replaces) the metrics of pods, keyed by namespace and
// name. Kind and APIVersion are filled in.
func (m *MetricsServer) Set(pods ...metricsv1beta1.PodMetrics) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range pods {
		p.Kind, p.APIVersion = "PodMetrics", metricsv1beta1.SchemeGroupVersion.String()
		m.pods[p.Namespace+"/"+p.Name] = *p.DeepCopy()
	}
}

// Delete removes the metrics of the pod namespace/name.
func (m *MetricsServer) Delete(namespace, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pods, namespace+"/"+name)
}

// Fail makes every request answer HTTP status code with a Status body of
// that code's reason, as a real server's (Forbidden for 403); 0 turns
// failures off.
func (m *MetricsServer) Fail(code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = code
}

// Requests returns how many requests the server has answered.
func (m *MetricsServer) Requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

const metricsPrefix = "/apis/metrics.k8s.io/v1beta1/"

func (m *MetricsServer) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests++
	fail := m.fail
	m.mu.Unlock()
	if fail != 0 {
		writeStatus(w, fail, reasonFor(fail), "kubetest: injected failure")
		return
	}
	if r.Method != http.MethodGet {
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "only GET")
		return
	}
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "labelSelector: "+err.Error())
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, metricsPrefix)
	if !ok {
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "no such path "+r.URL.Path)
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "pods":
		m.writeList(w, "", sel)
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "pods":
		m.writeList(w, parts[1], sel)
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods":
		m.mu.Lock()
		p, ok := m.pods[parts[1]+"/"+parts[3]]
		m.mu.Unlock()
		if !ok {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, fmt.Sprintf("podmetrics.metrics.k8s.io %q not found", parts[3]))
			return
		}
		writeJSON(w, http.StatusOK, p)
	default:
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "no such path "+r.URL.Path)
	}
}

func (m *MetricsServer) writeList(w http.ResponseWriter, namespace string, sel labels.Selector) {
	m.mu.Lock()
	keys := make([]string, 0, len(m.pods))
	for k := range m.pods {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	list := metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: metricsv1beta1.SchemeGroupVersion.String()}}
	for _, k := range keys {
		p := m.pods[k]
		if (namespace == "" || p.Namespace == namespace) && sel.Matches(labels.Set(p.Labels)) {
			list.Items = append(list.Items, p)
		}
	}
	m.mu.Unlock()
	if list.Items == nil {
		list.Items = []metricsv1beta1.PodMetrics{}
	}
	writeJSON(w, http.StatusOK, list)
}

// reasonFor returns the reason a real API server gives a Status of HTTP
// status code, as client-go's apierrors reads one (StatusReasonUnknown
// for a code it has none for).
func reasonFor(code int) metav1.StatusReason {
	return apierrors.NewGenericServerResponse(code, http.MethodGet, schema.GroupResource{}, "", "", 0, false).ErrStatus.Reason
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	writeJSON(w, code, metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
