package kubernetes_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  kubernetes.Config
		field string
	}{
		{"namespace", kubernetes.Config{Namespaces: []string{"ok", "Not OK"}}, "config.namespaces[1]"},
		{"selector", kubernetes.Config{LabelSelector: "app in (web"}, "config.label_selector"},
		{"bounds min > max", kubernetes.Config{Bounds: kubernetes.Bounds{Min: 5, Max: 2}}, "config.bounds.min"},
		{"bounds max 0", kubernetes.Config{Bounds: kubernetes.Bounds{Min: 0, Max: 0 /* zero: default */}}, ""},
		{"bounds negative", kubernetes.Config{Bounds: kubernetes.Bounds{Min: -1, Max: 2}}, "config.bounds.min"},
		{"workload ID", kubernetes.Config{Workloads: map[string]kubernetes.Bounds{"web": {Min: 1, Max: 2}}}, "config.workloads[web]"},
		{"workload is a pod", kubernetes.Config{Workloads: map[string]kubernetes.Bounds{"ns/pod/web-1": {Min: 1, Max: 2}}}, "config.workloads[ns/pod/web-1]"},
		{"workload bounds", kubernetes.Config{Workloads: map[string]kubernetes.Bounds{"ns/deployment/web": {Min: 1, Max: 0}}}, "config.workloads[ns/deployment/web].max"},
		// Replicas are an int32: Start restored a minimum of 2³² as 0
		// replicas (nothing started) and 2³²+1 as 1.
		{"bounds above int32", kubernetes.Config{Bounds: kubernetes.Bounds{Min: 1 << 32, Max: 1 << 32}}, "config.bounds.max"},
		{"bounds max above int32", kubernetes.Config{Bounds: kubernetes.Bounds{Min: 1, Max: math.MaxInt32 + 1}}, "config.bounds.max"},
		{"workload bounds above int32", kubernetes.Config{Workloads: map[string]kubernetes.Bounds{"ns/deployment/web": {Min: 1<<32 + 1, Max: 1<<32 + 1}}}, "config.workloads[ns/deployment/web].max"},
		{"bounds at int32", kubernetes.Config{Bounds: kubernetes.Bounds{Min: math.MaxInt32, Max: math.MaxInt32}}, ""},
		// An entry the driver never sees was ignored: a typo in the
		// namespace left the workload to its annotations' bounds.
		{"workload outside the namespaces", kubernetes.Config{Namespaces: []string{"shop"}, Workloads: map[string]kubernetes.Bounds{"shpo/deployment/web": {Min: 1, Max: 2}}}, "config.workloads[shpo/deployment/web]"},
		{"workload inside the namespaces", kubernetes.Config{Namespaces: []string{"shop"}, Workloads: map[string]kubernetes.Bounds{"shop/deployment/web": {Min: 1, Max: 2}}}, ""},
		{"conflict retries", kubernetes.Config{ConflictRetries: 11}, "config.conflict_retries"},
		{"concurrency", kubernetes.Config{Concurrency: -1}, "config.concurrency"},
		{"cpu price", kubernetes.Config{CPUHourlyPrice: math.NaN()}, "config.cpu_hourly_price"},
		{"memory price", kubernetes.Config{MemoryHourlyPrice: -0.1}, "config.memory_hourly_price"},
		{"workload is a volume", kubernetes.Config{Workloads: map[string]kubernetes.Bounds{"persistentvolume/pv-1": {Min: 1, Max: 2}}}, "config.workloads[persistentvolume/pv-1]"},
		{"volume selector", kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: "tier in (cold"}}, "config.persistent_volumes.label_selector"},
		{"volume price NaN", kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, MonthlyPrices: map[string]float64{"gp3": 0.08, "io2": math.NaN()}}}, "config.persistent_volumes.monthly_prices[io2]"},
		{"volume price negative", kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{MonthlyPrices: map[string]float64{"": -1}}}, "config.persistent_volumes.monthly_prices[]"},
		{"volume price infinite", kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{MonthlyPrices: map[string]float64{"gp3": math.Inf(1)}}}, "config.persistent_volumes.monthly_prices[gp3]"},
		{"volume prices", kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: "tier=cold", MonthlyPrices: map[string]float64{"gp3": 0.08, "": 0}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.give.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			_, err = kubernetes.New(tt.give, nil)
			require.ErrorIs(t, err, provider.ErrInvalid, "New validates")
		})
	}
	require.NoError(t, kubernetes.Config{}.Validate(), "the zero Config is valid")
	_, err := kubernetes.New(kubernetes.Config{}, nil)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "client", ie.Field)
	_, err = kubernetes.NewForConfig(kubernetes.Config{}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestConfigDefaultsAndJSON(t *testing.T) {
	t.Parallel()
	var cfg kubernetes.Config
	require.NoError(t, json.Unmarshal([]byte(`{
		"namespaces": ["shop", "batch", "shop"],
		"label_selector": "idlescale.io/managed=true",
		"bounds": {"min": 0, "max": 4},
		"workloads": {"shop/deployment/web": {"min": 2, "max": 20}},
		"cpu_hourly_price": 0.031,
		"ignore_hpas": true
	}`), &cfg))
	d, err := kubernetes.NewForConfig(cfg, restConfig())
	require.NoError(t, err)
	got := d.Config()
	assert.Equal(t, "kubernetes", got.Name)
	assert.Equal(t, []string{"batch", "shop"}, got.Namespaces, "sorted, without repeats")
	assert.Equal(t, kubernetes.Bounds{Min: 0, Max: 4}, got.Bounds, "a zero min is kept when max is set")
	assert.Equal(t, 3, got.ConflictRetries)
	assert.Equal(t, 4, got.Concurrency)
	assert.True(t, got.IgnoreHPAs)
	assert.Equal(t, "kubernetes", d.Name())

	d, err = kubernetes.NewForConfig(kubernetes.Config{Name: "prod-eu"}, restConfig())
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: kubernetes.DefaultMinReplicas, Max: kubernetes.DefaultMaxReplicas}, d.Config().Bounds)
	assert.Equal(t, "prod-eu", d.Name())
	assert.False(t, d.Config().IgnoreHPAs, "the HPA check is on by default")
}

// TestConfigIsTheDrivers pins that the driver keeps its own copy of
// Config.Workloads: the map given to New and the one Config returns were
// the driver's own, so a host that changed either (say, to build the next
// configuration) changed the bounds of the running driver, racing with
// its calls.
func TestConfigIsTheDrivers(t *testing.T) {
	t.Parallel()
	const web = "shop/deployment/web"
	cfg := kubernetes.Config{Workloads: map[string]kubernetes.Bounds{web: {Min: 1, Max: 4}}}
	d, err := kubernetes.NewForConfig(cfg, restConfig())
	require.NoError(t, err)
	cfg.Workloads[web] = kubernetes.Bounds{Min: 5, Max: 9}
	got := d.Config()
	assert.Equal(t, kubernetes.Bounds{Min: 1, Max: 4}, got.Workloads[web], "the caller's map after New")
	got.Workloads[web] = kubernetes.Bounds{Min: 7, Max: 8}
	assert.Equal(t, kubernetes.Bounds{Min: 1, Max: 4}, d.Config().Workloads[web], "the map Config returned")

	prices := map[string]float64{"gp3": 0.08}
	d, err = kubernetes.NewForConfig(kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, MonthlyPrices: prices}}, restConfig())
	require.NoError(t, err)
	prices["gp3"] = 1
	got = d.Config()
	assert.InDelta(t, 0.08, got.PersistentVolumes.MonthlyPrices["gp3"], 0, "the caller's prices after New")
	got.PersistentVolumes.MonthlyPrices["gp3"] = 2
	assert.InDelta(t, 0.08, d.Config().PersistentVolumes.MonthlyPrices["gp3"], 0, "the prices Config returned")
}

func TestObjectKindText(t *testing.T) {
	t.Parallel()
	for _, k := range []kubernetes.ObjectKind{kubernetes.ObjectDeployment, kubernetes.ObjectStatefulSet, kubernetes.ObjectPod, kubernetes.ObjectPersistentVolume} {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var back kubernetes.ObjectKind
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, k, back)
		assert.Equal(t, string(b), k.String())
	}
	var k kubernetes.ObjectKind
	require.NoError(t, k.UnmarshalText(nil), `"" is the zero value`)
	err := k.UnmarshalText([]byte("replicaset"))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "replicaset", ie.Value)
	require.Error(t, kubernetes.ObjectKind("").Validate())
}

func TestParseRef(t *testing.T) {
	t.Parallel()
	ref, ok, err := kubernetes.ParseRef("shop/deployment/web")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, kubernetes.Ref{Namespace: "shop", Kind: kubernetes.ObjectDeployment, Name: "web"}, ref)
	assert.Equal(t, "shop/deployment/web", ref.String())
	for _, id := range []string{"web", "shop/web", "shop/deployment/web/x", "shop/replicaset/web", "Shop/deployment/web", "shop/pod/", "/pod/x"} {
		_, ok, err := kubernetes.ParseRef(id)
		require.NoError(t, err, id)
		assert.False(t, ok, id)
	}
	_, _, err = kubernetes.ParseRef("has space")
	require.ErrorIs(t, err, provider.ErrInvalid)

	// A PersistentVolume has no namespace.
	ref, ok, err = kubernetes.ParseRef("persistentvolume/pvc-0f4c.b")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, kubernetes.Ref{Kind: kubernetes.ObjectPersistentVolume, Name: "pvc-0f4c.b"}, ref)
	assert.Equal(t, "persistentvolume/pvc-0f4c.b", ref.String())
	for _, id := range []string{"shop/persistentvolume/pv", "persistentvolume/", "persistentvolume/Pv", "persistentvolumes/pv", "deployment/web", "persistentvolume/a/b"} {
		_, ok, err := kubernetes.ParseRef(id)
		require.NoError(t, err, id)
		assert.False(t, ok, id)
	}
}
