package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/provider/prometheus"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// exampleCluster returns the test API server's client configuration (a
// host would use clientcmd.BuildConfigFromFlags or rest.InClusterConfig)
// and a fresh namespace holding a Deployment "web" of 2 replicas with two
// running pods, each requesting 500m CPU.
func exampleCluster(ctx context.Context) (*rest.Config, string) {
	admin, err := apiServer.Client(kubetest.Admin)
	if err != nil {
		log.Fatal(err)
	}
	ns, err := apiServer.Namespace(ctx, admin, "example")
	if err != nil {
		log.Fatal(err)
	}
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.k8s.io/pause:3.10",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}}
	_, err = admin.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: map[string]string{
			kubernetes.AnnotationEnvironment: "staging", kubernetes.AnnotationMaxReplicas: "6"}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}},
	}, metav1.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	started := metav1.NewTime(time.Now().Add(-time.Hour))
	for _, name := range []string{"web-a", "web-b"} {
		if _, err := admin.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: spec}, metav1.CreateOptions{}); err != nil {
			log.Fatal(err)
		}
		if err := kubetest.UpdatePodStatus(ctx, admin, ns, name, func(s *corev1.PodStatus) {
			s.Phase, s.StartTime = corev1.PodRunning, &started
			s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: started}}
		}); err != nil {
			log.Fatal(err)
		}
	}
	return restConfig(), ns
}

func ExampleNewForConfig() {
	ctx := context.Background()
	rc, ns := exampleCluster(ctx)
	d, err := kubernetes.NewForConfig(kubernetes.Config{Namespaces: []string{ns}}, rc)
	if err != nil {
		log.Fatal(err)
	}
	all, err := d.List(ctx, provider.Filter{})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range all {
		fmt.Println(strings.TrimPrefix(r.ID, ns+"/"), r.Kind, r.State, r.Environment)
	}
	web := ns + "/deployment/web"
	c, err := d.Capacity(ctx, web)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("capacity: min %d, max %d, desired %d\n", c.Min, c.Max, c.Desired)
	if err := d.SetCapacity(ctx, web, provider.CapacitySpec{Min: c.Min, Max: c.Max, Desired: 4}); err != nil {
		log.Fatal(err)
	}
	if err := d.Workloads().Stop(ctx, web); err != nil {
		log.Fatal(err)
	}
	r, err := d.Get(ctx, web)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stopped, remembering", r.Tags[kubernetes.AnnotationStoppedReplicas], "replicas")
	if err := d.Workloads().Start(ctx, web); err != nil {
		log.Fatal(err)
	}
	c, err = d.Capacity(ctx, web)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("started with", c.Desired, "replicas")
	// Output:
	// deployment/web group pending staging
	// pod/web-a instance running staging
	// pod/web-b instance running staging
	// capacity: min 1, max 6, desired 2
	// stopped, remembering 4 replicas
	// started with 4 replicas
}

func ExampleDriver_HPAInput() {
	ctx := context.Background()
	rc, ns := exampleCluster(ctx)
	// The resource metrics API (metrics-server): web-a uses 900m, web-b 700m.
	at := time.Now().Add(-10 * time.Second)
	for pod, cpu := range map[string]string{"web-a": "900m", "web-b": "700m"} {
		metricsServer.Set(podMetricsOf(ns, pod, at, cpu))
	}
	d, err := kubernetes.NewForConfig(kubernetes.Config{Namespaces: []string{ns}}, rc,
		kubernetes.WithMetricsClient(metricsClient()))
	if err != nil {
		log.Fatal(err)
	}
	// What an HPA with a 50 % CPU target and at most 10 replicas decides.
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{{
		Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
			Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 50}}}}})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	in, err := d.HPAInput(ctx, ns+"/deployment/web", calc.Spec().Metrics, now)
	if err != nil {
		log.Fatal(err)
	}
	dec, err := calc.Decide(in, hpa.History{})
	if err != nil {
		log.Fatal(err)
	}
	// 1600m of 1000m requested is 160 %: ceil(2 × 160 / 50) = 7 proposed,
	// limited by the legacy scale-up rule to max(2 × 2, 4) = 4.
	fmt.Printf("%d pods, %d samples: proposal %d, %d -> %d replicas\n",
		len(in.Pods), len(in.Metrics[0].Samples), dec.Proposal, in.SpecReplicas, dec.Replicas)
	// Output:
	// 2 pods, 2 samples: proposal 7, 2 -> 4 replicas
}

func ExampleUsageSourceFunc() {
	ctx := context.Background()
	rc, ns := exampleCluster(ctx)
	// A usage history of its own: every pod used 250m CPU in every step.
	src := kubernetes.UsageSourceFunc(func(_ context.Context, _, _ string, q provider.Query) (provider.Series, error) {
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			s.Values[i] = 0.25
		}
		return s, nil
	})
	d, err := kubernetes.NewForConfig(kubernetes.Config{Namespaces: []string{ns}}, rc, kubernetes.WithUsageSource(src))
	if err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	cpu, err := d.QueryMetric(ctx, provider.Query{ResourceID: ns + "/deployment/web", Metric: provider.MetricCPU,
		Start: start, End: start.Add(3 * time.Hour), Step: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cpu.Values, "of the requests")
	// Output:
	// [0.5 0.5 0.5] of the requests
}

func ExamplePrometheusConfig() {
	cfg := kubernetes.PrometheusConfig("http://prometheus.monitoring:9090", "shop")
	fmt.Println(cfg.IDLabel)
	fmt.Println(cfg.Metrics[kubernetes.MetricCPUUsage])
	// Output:
	// pod
	// sum(rate(container_cpu_usage_seconds_total{namespace="shop",container!="",container!="POD",{{.Matchers}}}[{{.Range}}]))
}

func ExampleNew() {
	// New takes a clientset the host already has (kubernetes.NewForConfig
	// of client-go, or a wrapper of it); without a metrics client,
	// QueryMetric has no source.
	client, err := apiServer.Client(kubetest.Admin)
	if err != nil {
		log.Fatal(err)
	}
	d, err := kubernetes.New(kubernetes.Config{Name: "prod-eu", LabelSelector: "idlescale.io/managed=true"}, client)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name(), d.Config().Bounds)
	_, err = kubernetes.New(kubernetes.Config{LabelSelector: "app in (web"}, client)
	fmt.Println(err)
	// Output:
	// prod-eu {1 10}
	// kubernetes: new: invalid config.label_selector "app in (web": must be a label selector: unable to parse requirement: found '', expected: ',' or ')'
}

func ExampleNewPrometheusUsage() {
	// Pods' CPU and memory history from cAdvisor's metrics in Prometheus,
	// with a 2-minute rate window; one prometheus.Source per namespace.
	usage, err := kubernetes.NewPrometheusUsage(prometheus.Config{Address: "http://prometheus.monitoring:9090", RateWindow: 2 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	d, err := kubernetes.NewForConfig(kubernetes.Config{}, restConfig(), kubernetes.WithUsageSource(usage))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name(), "reads usage history from Prometheus")
	_, err = kubernetes.NewPrometheusUsage(prometheus.Config{})
	fmt.Println(errors.Is(err, provider.ErrInvalid))
	// Output:
	// kubernetes reads usage history from Prometheus
	// true
}

// A workload that a HorizontalPodAutoscaler scales is left to it: the
// driver refuses a replica change the HPA would undo, and names the HPA;
// it stops the workload and starts it again, because at zero replicas the
// HPA is off.
func ExampleHPAConflictError() {
	ctx := context.Background()
	rc, ns := exampleCluster(ctx)
	admin, err := apiServer.Client(kubetest.Admin)
	if err != nil {
		log.Fatal(err)
	}
	minReplicas, utilization := int32(2), int32(60)
	_, err = admin.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    &minReplicas, MaxReplicas: 8,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &utilization},
			}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	d, err := kubernetes.NewForConfig(kubernetes.Config{Namespaces: []string{ns}}, rc)
	if err != nil {
		log.Fatal(err)
	}
	web := ns + "/deployment/web"
	err = d.SetCapacity(ctx, web, provider.CapacitySpec{Min: 1, Max: 6, Desired: 4})
	var he *kubernetes.HPAConflictError
	if errors.As(err, &he) {
		fmt.Printf("refused: HPA %s scales it from %d to %d replicas (nothing changed: %v)\n",
			he.Name, he.MinReplicas, he.MaxReplicas, errors.Is(err, provider.ErrConflict))
	}
	fmt.Println("stop:", d.Workloads().Stop(ctx, web))
	fmt.Println("start:", d.Workloads().Start(ctx, web))
	// Output:
	// refused: HPA web scales it from 2 to 8 replicas (nothing changed: true)
	// stop: <nil>
	// start: <nil>
}

func ExamplePersistentVolumeConfig() {
	ctx := context.Background()
	admin, err := apiServer.Client(kubetest.Admin)
	if err != nil {
		log.Fatal(err)
	}
	// A 200 GiB gp3 disk whose claim was deleted 45 days ago, kept by the
	// Retain reclaim policy (the API server's status, as the volume
	// controller would write it). Its name is unique to this run.
	ns, err := apiServer.Namespace(ctx, admin, "example-pv")
	if err != nil {
		log.Fatal(err)
	}
	pvs := admin.CoreV1().PersistentVolumes()
	pv, err := pvs.Create(ctx, &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-data", Labels: map[string]string{"example": ns}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("200Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-0abc"}},
			StorageClassName:              "gp3",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: "data-db-0"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = pvs.Delete(ctx, pv.Name, metav1.DeleteOptions{}) }()
	released := time.Now().Add(-45 * 24 * time.Hour).Truncate(time.Second)
	pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, LastPhaseTransitionTime: &metav1.Time{Time: released}}
	if _, err := pvs.UpdateStatus(ctx, pv, metav1.UpdateOptions{}); err != nil {
		log.Fatal(err)
	}

	// The driver lists the PersistentVolumes its selector selects, priced
	// by storage class.
	d, err := kubernetes.New(kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{
		List:          true,
		LabelSelector: "example=" + ns,
		MonthlyPrices: map[string]float64{"gp3": 0.08},
	}}, admin)
	if err != nil {
		log.Fatal(err)
	}
	vols, err := d.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range vols {
		fmt.Printf("%s %s $%.2f a month\n", v.Kind, v.State, v.HourlyCost*730.5)
	}
	// No claim can have written it since its release: its writes are 0.
	day := time.Now().Truncate(24 * time.Hour).Add(-7 * 24 * time.Hour)
	s, err := d.QueryMetric(ctx, provider.Query{ResourceID: vols[0].ID, Metric: provider.MetricDiskWrite, Start: day, End: day.Add(24 * time.Hour), Step: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Values[0], len(s.Values)-s.Gaps(), "hours without a write")
	// Output:
	// volume stopped $16.00 a month
	// 0 24 hours without a write
}
