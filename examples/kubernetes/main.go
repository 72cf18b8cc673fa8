// Command kubernetes scales an idle Deployment to zero outside business
// hours and back to the replicas it had when demand returns, on a real
// Kubernetes API server, with the idlescale Kubernetes driver, the idle
// reaper, the safety gate and the scaling engine:
//
//  1. Friday 14:00 (Europe/Berlin): the reaper finds the staging Deployment
//     "web" idle (two weeks of a real idle CPU trace, NAB
//     ec2_cpu_utilization_c6585a, MIT licence, replayed to end that
//     evening), but the business-hours rule of the safety gate blocks the
//     stop.
//  2. Friday 20:00: the gate lets it pass; Workloads.Stop scales "web" to
//     zero, remembering its 3 replicas in an annotation, and the reaper
//     verifies that it stopped.
//  3. Saturday 10:00: no requests; the scaling engine's "wake" strategy
//     keeps it at zero.
//  4. Monday 08:30: requests arrive; "wake" recommends the remembered 3
//     replicas, and the engine plans, gates, writes them through the scale
//     subresource step by step and verifies each step.
//
// The decisions take the simulated times above, in the first week that
// ends at least 15 days after the Deployment was created (the detector
// counts evidence only from a resource's creation); waiting (verification)
// is real. Without flags it starts a throwaway API server (the kube-apiserver
// that `make kube-apiserver` builds into .bin/) on an embedded etcd, and
// plays the Deployment controller there, since no controller manager runs:
//
//	make kube-apiserver
//	go run ./examples/kubernetes
//
// With -kubeconfig it does the same in a namespace of a real cluster
// (default idlescale-demo, created if missing, left behind: delete it with
// kubectl delete namespace idlescale-demo), whose controllers run the
// pods (registry.k8s.io/pause, 10m CPU and 16Mi each):
//
//	go run ./examples/kubernetes -kubeconfig ~/.kube/config
//
// The CPU history and the request rate come from a small in-memory source
// here; in production they come from Prometheus (kubernetes.NewPrometheusUsage
// for cAdvisor's CPU, a prometheus.Source over the ingress's request rate).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/trace"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "a cluster's kubeconfig (default: start a throwaway API server from .bin/)")
	namespace := flag.String("namespace", "idlescale-demo", "the namespace of the demo Deployment")
	flag.Parse()
	if err := run(context.Background(), *kubeconfig, *namespace, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kubernetes:", err)
		os.Exit(1)
	}
}

// times are the demo's simulated times, in the workload's time zone.
type times struct {
	friday14, friday20, saturday, monday time.Time
	// demandFrom is when requests start arriving, on Monday morning.
	demandFrom time.Time
}

// demoTimes places the demo's week after the two weeks of history the
// detector needs, which count only from the workload's creation (created
// is the API server's creation timestamp): Friday 20:00 of the first week
// that ends at least 15 days after it.
func demoTimes(created time.Time) (times, error) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return times{}, err
	}
	d := created.In(berlin).AddDate(0, 0, 15)
	for d.Weekday() != time.Friday {
		d = d.AddDate(0, 0, 1)
	}
	at := func(days, hour, minute int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day()+days, hour, minute, 0, 0, berlin)
	}
	return times{friday14: at(0, 14, 0), friday20: at(0, 20, 0), saturday: at(1, 10, 0), monday: at(3, 8, 30), demandFrom: at(3, 8, 20)}, nil
}

func run(ctx context.Context, kubeconfig, namespace string, w io.Writer) error {
	rc, throwaway, stop, err := cluster(kubeconfig)
	if err != nil {
		return err
	}
	defer stop()
	client, err := clientset.NewForConfig(rc)
	if err != nil {
		return err
	}
	created, err := seed(ctx, client, namespace)
	if err != nil {
		return err
	}
	if throwaway {
		// No controller manager runs beside the throwaway API server: play
		// the Deployment controller's part that the demo needs.
		cctx, cancel := context.WithCancel(ctx)
		done := controllers(cctx, client, namespace)
		defer func() { cancel(); <-done }()
	}
	d, err := kubernetes.NewForConfig(kubernetes.Config{Namespaces: []string{namespace}}, rc)
	if err != nil {
		return err
	}
	web := kubernetes.Ref{Namespace: namespace, Kind: kubernetes.ObjectDeployment, Name: "web"}.String()
	if err := waitReady(ctx, d, web); err != nil {
		return err
	}
	at, err := demoTimes(created)
	if err != nil {
		return err
	}
	hist, err := newHistory(web, at)
	if err != nil {
		return err
	}
	gate, err := newGate()
	if err != nil {
		return err
	}

	// The reaper: idle detection and stop, gated.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{GracePeriod: -1}) // the demo workload is minutes old
	if err != nil {
		return err
	}
	r, err := reaper.New(reaper.Config{
		Execute: true, Filter: provider.Filter{Kinds: []provider.Kind{provider.KindGroup}},
		VerifyTimeout: 5 * time.Minute, VerifyInterval: 200 * time.Millisecond,
	}, reaper.Fleet{Inventory: d, Metrics: hist, Actuator: d.Workloads()}, stopIdleWorkloads{ens}, gate)
	if err != nil {
		return err
	}
	for _, now := range []time.Time{at.friday14, at.friday20} {
		rep, err := r.RunOnce(ctx, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s reaper:\n", now.Format("Mon 15:04"))
		for _, rec := range rep.Records {
			fmt.Fprintf(w, "  %s\n", rec)
		}
		if err := printCapacity(ctx, w, d, web); err != nil {
			return err
		}
	}

	// The scaling engine: wake the workload when demand returns.
	engine, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 200 * time.Millisecond, VerifyTimeout: 2 * time.Minute, VerifyWindow: 500 * time.Millisecond},
		scaling.Cloud{Scaler: d, Inventory: d, Metrics: hist}, gate)
	if err != nil {
		return err
	}
	zero := 0
	as, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{
		ID: "web", Resource: web, Min: &zero, Max: 6, Strategy: "wake",
		Strategies: []scaling.StrategySpec{{Name: "wake", Type: scaling.StrategyCustom}},
	}}}, engine, scaling.Fleet{Inventory: d, Metrics: hist}, scaling.WithStrategy("wake", wake{}))
	if err != nil {
		return err
	}
	for _, now := range []time.Time{at.saturday, at.monday} {
		rep := as.RunOnce(ctx, now)
		if err := rep.Err(); err != nil {
			return err
		}
		t := rep.Targets[0]
		fmt.Fprintf(w, "%s scaling engine: %s\n", now.Format("Mon 15:04"), t.Decision.Chosen.Reason)
		if t.Execution != nil {
			for _, s := range t.Execution.Steps {
				fmt.Fprintf(w, "  step %d %s %d -> %d: %s\n", s.Step.Index, s.Step.Action, s.Step.From.Desired, s.Step.To.Desired, s.Status)
			}
			fmt.Fprintf(w, "  plan %s\n", t.Execution.Status)
		}
		if err := printCapacity(ctx, w, d, web); err != nil {
			return err
		}
	}
	return nil
}

// cluster returns the rest config of the kubeconfig's cluster, or of a
// throwaway API server it starts (throwaway = true), and a function that
// stops it.
func cluster(kubeconfig string) (rc *rest.Config, throwaway bool, stop func(), err error) {
	if kubeconfig != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, false, nil, err
		}
		return rc, false, func() {}, nil
	}
	srv, err := kubetest.Start(kubetest.Options{})
	if err != nil {
		return nil, false, nil, err
	}
	return srv.Config(kubetest.Admin), true, srv.Stop, nil
}

// seed creates the namespace and the staging Deployment "web": 3 replicas,
// with the idlescale.io annotations the driver maps. It returns the
// Deployment's creation time.
func seed(ctx context.Context, client clientset.Interface, namespace string) (time.Time, error) {
	if err := kubetest.CreateNamespace(ctx, client, namespace); err != nil {
		return time.Time{}, err
	}
	replicas := int32(3)
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels, Annotations: map[string]string{
			kubernetes.AnnotationEnvironment: "staging",
			kubernetes.AnnotationOwner:       "team-shop",
			kubernetes.AnnotationCriticality: "low",
			kubernetes.AnnotationTimeZone:    "Europe/Berlin",
			kubernetes.AnnotationMinReplicas: "1",
			kubernetes.AnnotationMaxReplicas: "6",
		}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.k8s.io/pause:3.10",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
					}},
				}}},
			},
		},
	}
	out, err := client.AppsV1().Deployments(namespace).Create(ctx, dep, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return time.Time{}, fmt.Errorf("deployment %s/web exists already: delete it, or give another -namespace: %w", namespace, err)
	}
	if err != nil {
		return time.Time{}, err
	}
	return out.CreationTimestamp.Time, nil
}

// waitReady polls the workload every 200 ms until all its replicas are
// ready (the controllers have created and started its pods), for at most
// five minutes.
func waitReady(ctx context.Context, d *kubernetes.Driver, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := d.Capacity(ctx, id)
		if err == nil && c.Settled() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (last capacity %+v): %w", id, c, errors.Join(ctx.Err(), err))
		case <-tick.C:
		}
	}
}

// controllers mirrors spec.replicas into the status of the namespace's
// Deployments every 100 ms until ctx ends (kubetest.MirrorReplicas); done
// is closed when it has stopped.
func controllers(ctx context.Context, client clientset.Interface, namespace string) (done <-chan struct{}) {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			_, _ = kubetest.MirrorReplicas(ctx, client, namespace)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return ch
}

// newGate is the safety gate: critical workloads need approval, and
// stops wait for the end of the business day (Mon-Fri 09:00-18:00 in the
// resource's time zone).
func newGate() (*safety.Engine, error) {
	critical, err := safety.NewCriticalRule(safety.CriticalConfig{})
	if err != nil {
		return nil, err
	}
	hours, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{Hours: "Mon-Fri 09:00-18:00", TimeZone: "Europe/Berlin"})
	if err != nil {
		return nil, err
	}
	return safety.New(safety.Config{}, []safety.Rule{critical, hours})
}

// stopIdleWorkloads is the ensemble with one change: its recommendation
// for an idle group, a downsize, becomes a stop, since for a Kubernetes
// workload stopping is scaling to zero, which Workloads.Start (or the wake
// strategy) undoes. Embedding keeps the ensemble's Needs, so the reaper
// reads the history its evidence rules need, and its TerminateWindow and
// Recheck (detector.TerminateReporter, detector.Rechecker), so the reaper
// reads the terminate window's activity and, before acting, the kinds the
// ensemble counts over its quiet period, as with the ensemble itself.
type stopIdleWorkloads struct{ *detector.Ensemble }

// Detect implements detector.Detector.
func (s stopIdleWorkloads) Detect(ctx context.Context, in detector.Input) (detector.Verdict, error) {
	v, err := s.Ensemble.Detect(ctx, in)
	if err == nil && v.State == detector.Idle && in.Resource.Kind == provider.KindGroup && v.Action == detector.ActionDownsize {
		v.Action = detector.ActionStop
	}
	return v, err
}

// wake is a scaling strategy that brings a workload stopped by the reaper
// back to the replicas it had, once requests arrive: it reads the
// remembered count from the idlescale.io/stopped-replicas annotation,
// which the driver puts in the resource's Tags. It never scales down.
type wake struct{}

var (
	_ scaling.Strategy     = wake{}
	_ scaling.MetricNeeder = wake{}
)

// wakeNeed is what wake reads: the last ten minutes of the request rate.
var wakeNeed = scaling.Need{Metric: provider.MetricRequests, Lookback: 10 * time.Minute, Step: time.Minute}

// Needs asks for the last ten minutes of the request rate.
func (wake) Needs() []scaling.Need { return []scaling.Need{wakeNeed} }

// Recommend implements scaling.Strategy.
func (wake) Recommend(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
	c := s.Target.Capacity.CapacitySpec
	keep := scaling.Recommendation{Capacity: c, Proposal: c.Desired, Fitness: 1}
	if c.Desired > 0 {
		keep.Reason = "running: nothing to wake"
		return keep, nil
	}
	var rate float64
	// The series read for wake's own need, not another strategy's of
	// the same metric at another statistic or step.
	ser, ok, err := s.SeriesFor(wakeNeed)
	if err != nil {
		return scaling.Recommendation{}, err
	}
	if ok {
		_, rate, _ = ser.Last()
	}
	if rate <= 0 {
		keep.Reason = "stopped, and no requests: stay at zero"
		return keep, nil
	}
	n, err := strconv.Atoi(s.Target.Resource.Tags[kubernetes.AnnotationStoppedReplicas])
	if err != nil || n < 1 {
		n = 1
	}
	n = min(max(n, s.Target.Min), s.Target.Max)
	want := c
	want.Desired = n
	return scaling.Recommendation{
		Capacity: want, Proposal: n, Fitness: 1,
		Reason: fmt.Sprintf("%.0f requests/s while stopped: restore the %d replicas it had", rate, n),
		Inputs: []scaling.Input{{Name: "requests", Value: rate, Unit: "1/s"}, {Name: "remembered replicas", Value: float64(n), Unit: "instances"}},
	}, nil
}

func printCapacity(ctx context.Context, w io.Writer, d *kubernetes.Driver, id string) error {
	c, err := d.Capacity(ctx, id)
	if err != nil {
		return err
	}
	r, err := d.Get(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s: %s, %d replicas (%d ready)\n", id, r.State, c.Desired, c.Ready)
	return nil
}

// history is the demo's metric source for the workload: its CPU (a real
// idle trace) and its request rate.
type history struct {
	id      string
	samples map[provider.Metric][]provider.Sample
}

// newHistory replays the NAB idle CPU trace to end at Friday 20:00 and
// makes the request rate 0 until Monday 08:20 and 40/s from then on, one
// sample a minute.
func newHistory(id string, at times) (*history, error) {
	cpu, err := trace.ReadCSVFile(filepath.Join(testdataDir(), "nab", "ec2_cpu_utilization_c6585a.csv"), trace.CSVOptions{})
	if err != nil {
		return nil, err
	}
	if len(cpu) == 0 {
		return nil, errors.New("empty CPU trace")
	}
	shift := at.friday20.Sub(cpu[len(cpu)-1].Time)
	h := &history{id: id, samples: map[provider.Metric][]provider.Sample{}}
	for _, s := range cpu {
		// CloudWatch reports percent; the library's utilizations are fractions.
		h.samples[provider.MetricCPU] = append(h.samples[provider.MetricCPU], provider.Sample{Time: s.Time.Add(shift), Value: s.Value / 100})
	}
	for t := at.friday14; t.Before(at.monday.Add(time.Hour)); t = t.Add(time.Minute) {
		v := 0.0
		if !t.Before(at.demandFrom) {
			v = 40
		}
		h.samples[provider.MetricRequests] = append(h.samples[provider.MetricRequests], provider.Sample{Time: t, Value: v})
	}
	return h, nil
}

// QueryMetric implements provider.MetricsSource.
func (h *history) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	if err := q.Validate(); err != nil {
		return provider.Series{}, err
	}
	if q.ResourceID != h.id {
		return provider.Series{}, fmt.Errorf("history of %q: %w", q.ResourceID, provider.ErrNotFound)
	}
	return provider.Resample(q, h.samples[q.Metric])
}

// testdataDir finds the repository's testdata from this source file.
func testdataDir() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
	}
	return "testdata"
}
