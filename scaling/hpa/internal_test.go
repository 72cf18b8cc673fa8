package hpa

// Restatements of the upstream tests of unexported functions
// (replica_calculator_test.go and horizontal_test.go of Kubernetes
// v1.37.2), which test the unexported counterparts here.

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	tnow      = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tinternal = Config{Tolerance: 0.1, CPUInitializationPeriod: 2 * time.Minute, InitialReadinessDelay: 10 * time.Second}.WithDefaults()
)

// TestGroupPods restates every case of upstream TestGroupPods: which pods
// count as ready, unready, missing or ignored.
func TestGroupPods(t *testing.T) {
	t.Parallel()
	ago := func(d time.Duration) time.Time { return tnow.Add(-d) }
	tests := []struct {
		upstream                              string
		pods                                  []Pod
		samples                               []Sample
		resource                              ResourceName
		wantReady                             int
		wantUnready, wantMissing, wantIgnored []string
	}{
		{upstream: "void", resource: ResourceCPU},
		{upstream: "count in a ready pod - memory", resource: ResourceMemory,
			pods:      []Pod{{Name: "bentham", Phase: PhaseSucceeded}},
			samples:   []Sample{{Pod: "bentham", Value: 1, Timestamp: tnow, Window: time.Minute}},
			wantReady: 1},
		{upstream: "unready a pod without ready condition - CPU", resource: ResourceCPU,
			pods:        []Pod{{Name: "lucretius", Phase: PhaseSucceeded, StartTime: tnow}},
			samples:     []Sample{{Pod: "lucretius", Value: 1}},
			wantUnready: []string{"lucretius"}},
		{upstream: "count in a ready pod with fresh metrics during initialization period - CPU", resource: ResourceCPU,
			pods:      []Pod{{Name: "bentham", Phase: PhaseSucceeded, StartTime: ago(time.Minute), Ready: ConditionTrue, ReadyTransition: ago(30 * time.Second)}},
			samples:   []Sample{{Pod: "bentham", Value: 1, Timestamp: tnow, Window: 30 * time.Second}},
			wantReady: 1},
		{upstream: "unready a ready pod without fresh metrics during initialization period - CPU", resource: ResourceCPU,
			pods:        []Pod{{Name: "bentham", Phase: PhaseSucceeded, StartTime: ago(time.Minute), Ready: ConditionTrue, ReadyTransition: ago(30 * time.Second)}},
			samples:     []Sample{{Pod: "bentham", Value: 1, Timestamp: tnow, Window: 60 * time.Second}},
			wantUnready: []string{"bentham"}},
		{upstream: "unready an unready pod during initialization period - CPU", resource: ResourceCPU,
			pods:        []Pod{{Name: "lucretius", Phase: PhaseSucceeded, StartTime: ago(10 * time.Minute), Ready: ConditionFalse, ReadyTransition: ago(9*time.Minute + 54*time.Second)}},
			samples:     []Sample{{Pod: "lucretius", Value: 1}},
			wantUnready: []string{"lucretius"}},
		{upstream: "count in a ready pod without fresh metrics after initialization period - CPU", resource: ResourceCPU,
			pods:      []Pod{{Name: "bentham", Phase: PhaseSucceeded, StartTime: ago(3 * time.Minute), Ready: ConditionTrue, ReadyTransition: ago(3 * time.Minute)}},
			samples:   []Sample{{Pod: "bentham", Value: 1, Timestamp: ago(2 * time.Minute), Window: time.Minute}},
			wantReady: 1},
		{upstream: "count in an unready pod that was ready after initialization period - CPU", resource: ResourceCPU,
			pods:      []Pod{{Name: "lucretius", Phase: PhaseSucceeded, StartTime: ago(10 * time.Minute), Ready: ConditionFalse, ReadyTransition: ago(9 * time.Minute)}},
			samples:   []Sample{{Pod: "lucretius", Value: 1}},
			wantReady: 1},
		{upstream: "unready pod that has never been ready after initialization period - CPU", resource: ResourceCPU,
			pods:      []Pod{{Name: "lucretius", Phase: PhaseSucceeded, StartTime: ago(10 * time.Minute), Ready: ConditionFalse, ReadyTransition: ago(9*time.Minute + 50*time.Second)}},
			samples:   []Sample{{Pod: "lucretius", Value: 1}},
			wantReady: 1},
		{upstream: "a missing pod", resource: ResourceCPU,
			pods:        []Pod{{Name: "epicurus", Phase: PhaseSucceeded, StartTime: ago(3 * time.Minute)}},
			wantMissing: []string{"epicurus"}},
		{upstream: "several pods", resource: ResourceCPU,
			pods: []Pod{
				{Name: "lucretius", Phase: PhaseSucceeded, StartTime: tnow},
				{Name: "niccolo", Phase: PhaseSucceeded, StartTime: ago(3 * time.Minute), Ready: ConditionTrue, ReadyTransition: ago(3 * time.Minute)},
				{Name: "epicurus", Phase: PhaseSucceeded, StartTime: ago(3 * time.Minute)},
			},
			samples:   []Sample{{Pod: "lucretius", Value: 1}, {Pod: "niccolo", Value: 1}},
			wantReady: 1, wantUnready: []string{"lucretius"}, wantMissing: []string{"epicurus"}},
		{upstream: "pending pods are unreadied", resource: ResourceCPU,
			pods:        []Pod{{Name: "unscheduled", Phase: PhasePending}},
			wantUnready: []string{"unscheduled"}},
		{upstream: "ignore pods with deletion timestamps", resource: ResourceCPU,
			pods:        []Pod{{Name: "deleted", Phase: PhasePending, Deleting: true}},
			samples:     []Sample{{Pod: "deleted", Value: 1}},
			wantIgnored: []string{"deleted"}},
		{upstream: "ignore pods in a failed state", resource: ResourceCPU,
			pods:        []Pod{{Name: "failed", Phase: PhaseFailed}},
			samples:     []Sample{{Pod: "failed", Value: 1}},
			wantIgnored: []string{"failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			c := &Calculator{cfg: tinternal}
			match, err := c.m.match(tt.pods, tt.samples, nil)
			require.NoError(t, err)
			ready, unready, missing := c.group(&MetricInput{Now: tnow, Pods: tt.pods, Values: MetricValues{Samples: tt.samples}}, match, tt.resource)
			var gotUnready, gotMissing, gotIgnored []string
			for i, p := range c.pods {
				switch p.class {
				case podUnready:
					gotUnready = append(gotUnready, tt.pods[i].Name)
				case podMissing:
					gotMissing = append(gotMissing, tt.pods[i].Name)
				case podIgnored:
					gotIgnored = append(gotIgnored, tt.pods[i].Name)
				}
			}
			sort.Strings(gotUnready)
			assert.Equal(t, tt.wantReady, ready, "ready")
			assert.Equal(t, tt.wantUnready, gotUnready, "unready")
			assert.Equal(t, tt.wantMissing, gotMissing, "missing")
			assert.Equal(t, tt.wantIgnored, gotIgnored, "ignored")
			assert.Len(t, tt.wantUnready, unready)
			assert.Len(t, tt.wantMissing, missing)
		})
	}
}

// TestCalculateRequests restates every case of upstream
// TestCalculateRequests and TestCalculatePodRequestsFromContainers_NonExistentContainer.
func TestCalculateRequests(t *testing.T) {
	t.Parallel()
	cpu := func(m int64) ResourceList { return ResourceList{ResourceCPU: m} }
	twoContainers := []Container{{Name: "container1", Requests: cpu(100)}, {Name: "container2", Requests: cpu(50)}}
	tests := []struct {
		upstream  string
		pod       *Pod
		container string
		podLevel  bool
		want      int64
		wantErr   error
	}{
		{upstream: "void"},
		{upstream: "Sum container requests if pod-level feature is disabled",
			pod: &Pod{Name: "test-pod", Containers: twoContainers}, want: 150},
		{upstream: "Pod-level resources are enabled, but not set: fallback to sum container requests", podLevel: true,
			pod: &Pod{Name: "test-pod", Containers: twoContainers}, want: 150},
		{upstream: "Pod-level resources override container requests when feature enabled and pod resources specified", podLevel: true,
			pod: &Pod{Name: "test-pod", Requests: cpu(800), Containers: twoContainers}, want: 800},
		{upstream: "Fail if at least one of the containers is missing requests and pod-level feature/requests are not set",
			pod: &Pod{Name: "test-pod", Containers: []Container{{Name: "container1"}, {Name: "container2", Requests: cpu(50)}}}, wantErr: ErrMissingRequest},
		{upstream: "Pod-level resources override missing container requests when feature enabled and pod resources specified", podLevel: true,
			pod: &Pod{Name: "test-pod", Requests: cpu(800), Containers: []Container{{Name: "container1"}, {Name: "container2", Requests: cpu(50)}}}, want: 800},
		{upstream: "Container: if a container name is specified, calculate requests only for that container",
			pod: &Pod{Name: "test-pod", Containers: twoContainers}, container: "container1", want: 100},
		{upstream: "Container: if a container name is specified, calculate requests only for that container and ignore pod-level requests", podLevel: true,
			pod: &Pod{Name: "test-pod", Requests: cpu(800), Containers: twoContainers}, container: "container1", want: 100},
		{upstream: "pod with restartable init containers",
			pod: &Pod{Name: "test-pod", Containers: []Container{{Name: "container1", Requests: cpu(100)}},
				InitContainers: []Container{{Name: "init-container1", Requests: cpu(20)}, {Name: "restartable-container1", RestartAlways: true, Requests: cpu(50)}}},
			want: 150},
		{upstream: "NonExistentContainer: container non-existent-container not found in Pod test-pod",
			pod: &Pod{Name: "test-pod", Containers: []Container{{Name: "container1", Requests: cpu(100)}}}, container: "non-existent-container", wantErr: ErrContainerNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			if tt.pod == nil {
				return // no pods, no requests
			}
			c := &Calculator{cfg: Config{DisablePodLevelResources: !tt.podLevel}}
			got, err := c.request(tt.pod, tt.container, ResourceCPU)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestPodLevelRequests pins component-helpers' aggregation where a pod
// sets a pod-level request of another resource: init containers take the
// maximum, sidecars add, the overhead adds.
func TestPodLevelRequests(t *testing.T) {
	t.Parallel()
	p := &Pod{
		Name:           "p",
		Requests:       ResourceList{ResourceMemory: 1 << 30},
		Containers:     []Container{{Name: "app", Requests: ResourceList{ResourceCPU: 200}}},
		InitContainers: []Container{{Name: "migrate", Requests: ResourceList{ResourceCPU: 500}}, {Name: "proxy", RestartAlways: true, Requests: ResourceList{ResourceCPU: 100}}},
		Overhead:       ResourceList{ResourceCPU: 10},
	}
	c := &Calculator{}
	got, err := c.request(p, "", ResourceCPU)
	require.NoError(t, err)
	assert.Equal(t, int64(510), got, "max(200+100, 500) + 10 overhead")
	_, err = c.request(&Pod{Name: "q", Requests: ResourceList{ResourceMemory: 1}}, "", ResourceCPU)
	require.ErrorIs(t, err, ErrMissingRequest)
}

// TestScaleLimits restates upstream TestCalculateScaleUpLimitWithScalingRules
// and TestCalculateScaleDownLimitWithBehaviors: the min select policy.
func TestScaleLimits(t *testing.T) {
	t.Parallel()
	r := &ScalingRules{StabilizationWindow: durp(300 * time.Second), SelectPolicy: SelectMin, Policies: []ScalingPolicy{
		{Type: PolicyPods, Value: 2, Period: time.Minute},
		{Type: PolicyPercent, Value: 50, Period: time.Minute},
	}}
	assert.Equal(t, int32(2), scaleUpLimit(tnow, 1, nil, nil, r), "scale up from 1")
	assert.Equal(t, int32(3), scaleDownLimit(tnow, 5, nil, nil, r), "scale down from 5")
	r.SelectPolicy = SelectDisabled
	assert.Equal(t, int32(1), scaleUpLimit(tnow, 1, nil, nil, r))
	assert.Equal(t, int32(5), scaleDownLimit(tnow, 5, nil, nil, r))
}

func durp(d time.Duration) *time.Duration { return &d }

// TestStabilizeLegacy restates every case of upstream
// TestNormalizeDesiredReplicas: the 5-minute scale-down stabilization and
// the recommendation log after it.
func TestStabilizeLegacy(t *testing.T) {
	t.Parallel()
	ago := func(d time.Duration) time.Time { return tnow.Add(-d) }
	tests := []struct {
		upstream   string
		log        []TimedReplicas
		desired    int32
		want       int32
		wantLogLen int
	}{
		{"empty log", []TimedReplicas{}, 5, 5, 1},
		{"stabilize", []TimedReplicas{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}}, 3, 5, 3},
		{"no stabilize", []TimedReplicas{{1, ago(2 * time.Minute)}, {2, ago(time.Minute)}}, 3, 3, 3},
		{"no stabilize - old recommendations", []TimedReplicas{{10, ago(10 * time.Minute)}, {9, ago(9 * time.Minute)}}, 3, 3, 2},
		{"stabilize - old recommendations", []TimedReplicas{{10, ago(10 * time.Minute)}, {4, ago(time.Minute)}, {5, ago(2 * time.Minute)}, {9, ago(9 * time.Minute)}}, 3, 5, 4},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			got, replace := stabilize(tt.log, tnow, tt.desired, 5*time.Minute)
			assert.Equal(t, tt.want, got)
			h := History{Recommendations: append([]TimedReplicas{}, tt.log...)}
			h.Record(Decision{rec: record{now: tnow, logged: true, replicas: tt.desired, replace: replace}})
			assert.Len(t, h.Recommendations, tt.wantLogLen)
		})
	}
}

// TestStabilizeWithBehavior restates every case of upstream
// TestNormalizeDesiredReplicasWithBehavior: the stabilization windows of
// both directions and the recommendation log after them.
func TestStabilizeWithBehavior(t *testing.T) {
	t.Parallel()
	ago := func(d time.Duration) time.Time { return tnow.Add(-d) }
	tests := []struct {
		upstream         string
		log              []TimedReplicas
		current, desired int32
		want             int32
		wantLog          []int32 // nil: not checked upstream
		upWindow         time.Duration
		downWindow       time.Duration
	}{
		{upstream: "empty recommendations for scaling down", log: []TimedReplicas{}, current: 100, desired: 5, want: 5, wantLog: []int32{5}},
		{upstream: "simple scale down stabilization", log: []TimedReplicas{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}},
			current: 100, desired: 3, want: 5, wantLog: []int32{4, 5, 3}, downWindow: 3 * time.Minute},
		{upstream: "simple scale up stabilization", log: []TimedReplicas{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}},
			current: 1, desired: 7, want: 4, wantLog: []int32{4, 5, 7}, upWindow: 5 * time.Minute},
		{upstream: "no scale down stabilization", log: []TimedReplicas{{1, ago(2 * time.Minute)}, {2, ago(time.Minute)}},
			current: 100, desired: 3, want: 3, wantLog: []int32{1, 2, 3}, upWindow: 5 * time.Minute},
		{upstream: "no scale up stabilization", log: []TimedReplicas{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}},
			current: 1, desired: 3, want: 3, wantLog: []int32{4, 5, 3}, downWindow: 5 * time.Minute},
		{upstream: "no scale down stabilization, reuse recommendation element", log: []TimedReplicas{{10, ago(10 * time.Minute)}, {9, ago(9 * time.Minute)}},
			current: 100, desired: 3, want: 3, wantLog: []int32{10, 3}},
		{upstream: "no scale up stabilization, reuse recommendation element", log: []TimedReplicas{{10, ago(10 * time.Minute)}, {9, ago(9 * time.Minute)}},
			current: 1, desired: 100, want: 100, wantLog: []int32{10, 100}},
		{upstream: "scale down stabilization, reuse one of obsolete recommendation element",
			log:     []TimedReplicas{{10, ago(10 * time.Minute)}, {4, ago(time.Minute)}, {5, ago(2 * time.Minute)}, {9, ago(9 * time.Minute)}},
			current: 100, desired: 3, want: 5, wantLog: []int32{10, 4, 5, 3}, downWindow: 3 * time.Minute},
		{upstream: "scale up stabilization, reuse one of obsolete recommendation element",
			log:     []TimedReplicas{{10, ago(100 * time.Minute)}, {6, ago(time.Minute)}, {5, ago(2 * time.Minute)}, {9, ago(3 * time.Minute)}},
			current: 1, desired: 100, want: 5, wantLog: []int32{100, 6, 5, 9}, upWindow: 300 * time.Second},
		{upstream: "scale up and down stabilization, do not scale up when prenormalized rec goes down",
			log:     []TimedReplicas{{2, ago(100 * time.Minute)}, {3, ago(3 * time.Minute)}},
			current: 2, desired: 1, want: 2, upWindow: 300 * time.Second, downWindow: 300 * time.Second},
		{upstream: "scale up and down stabilization, do not scale down when prenormalized rec goes up",
			log:     []TimedReplicas{{2, ago(100 * time.Minute)}, {1, ago(3 * time.Minute)}},
			current: 2, desired: 3, want: 2, upWindow: 300 * time.Second, downWindow: 300 * time.Second},
		// A recommendation exactly at a cutoff is not older than it: it is
		// neither counted nor replaced.
		{upstream: "idlescale: a recommendation exactly at the scale-up cutoff is kept", log: []TimedReplicas{{2, ago(5 * time.Minute)}},
			current: 1, desired: 3, want: 3, wantLog: []int32{2, 3}, upWindow: 5 * time.Minute, downWindow: 4 * time.Minute}, // 2 if it counted
		{upstream: "idlescale: a recommendation exactly at the scale-down cutoff is kept", log: []TimedReplicas{{9, ago(5 * time.Minute)}},
			current: 10, desired: 3, want: 3, wantLog: []int32{9, 3}, upWindow: 4 * time.Minute, downWindow: 5 * time.Minute}, // 9 if it counted
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			got, _, replace := stabilizeWithBehavior(tt.log, tnow, tt.current, tt.desired, tt.upWindow, tt.downWindow)
			assert.Equal(t, tt.want, got)
			if tt.wantLog == nil {
				return
			}
			h := History{Recommendations: append([]TimedReplicas{}, tt.log...)}
			h.Record(Decision{rec: record{now: tnow, logged: true, replicas: tt.desired, replace: replace}})
			var gotLog []int32
			for _, r := range h.Recommendations {
				gotLog = append(gotLog, r.Replicas)
			}
			assert.Equal(t, tt.wantLog, gotLog)
		})
	}
}

// TestStoreScaleEvents restates every case of upstream
// TestStoreScaleEvents: the events counted in a 60-second period before a
// new one, and the events kept after it (an outdated slot reused), in both
// directions.
func TestStoreScaleEvents(t *testing.T) {
	t.Parallel()
	ago := func(s int) time.Time { return tnow.Add(-time.Duration(s) * time.Second) }
	type ev struct {
		change   int32
		outdated bool
	}
	tests := []struct {
		upstream   string
		prev       []ScaleEvent
		rules      *ScalingRules // nil: no behavior, nothing stored
		wantChange int32
		want       []ev
	}{
		{upstream: "empty entries with default behavior", prev: []ScaleEvent{}, want: []ev{}},
		{upstream: "empty entries with two-policy-behavior", prev: []ScaleEvent{}, rules: rulesOf(10, 60, 100, 60), want: []ev{{5, false}}},
		{upstream: "one outdated entry to be kept untouched without behavior", prev: []ScaleEvent{{7, ago(61), false}}, want: []ev{{7, false}}},
		{upstream: "one outdated entry to be replaced with behavior", prev: []ScaleEvent{{7, ago(61), false}}, rules: rulesOf(10, 60, 100, 60),
			want: []ev{{5, false}}},
		{upstream: "one actual entry to be not touched with behavior", prev: []ScaleEvent{{7, ago(58), false}}, rules: rulesOf(10, 60, 100, 60),
			wantChange: 7, want: []ev{{7, false}, {5, false}}},
		{upstream: "two entries, one of them to be replaced", prev: []ScaleEvent{{7, ago(61), false}, {6, ago(59), false}}, rules: rulesOf(10, 60, 0, 0),
			wantChange: 6, want: []ev{{5, false}, {6, false}}},
		{upstream: "replace one entry, use policies with different periods",
			prev:  []ScaleEvent{{8, ago(29), false}, {6, ago(59), false}, {7, ago(61), false}, {9, ago(61), false}},
			rules: rulesOf(10, 60, 100, 30), wantChange: 14, want: []ev{{8, false}, {6, false}, {7, true}, {5, false}}},
		{upstream: "two entries, both actual", prev: []ScaleEvent{{7, ago(58), false}, {6, ago(59), false}}, rules: rulesOf(10, 120, 100, 30),
			wantChange: 13, want: []ev{{7, false}, {6, false}, {5, false}}},
	}
	for _, tt := range tests {
		for _, up := range []bool{true, false} {
			t.Run(tt.upstream, func(t *testing.T) {
				t.Parallel()
				var b *Behavior
				if tt.rules != nil {
					b = &Behavior{ScaleUp: tt.rules, ScaleDown: tt.rules}
				}
				var h History
				next := int32(15)
				if up {
					h.ScaleUpEvents = append([]ScaleEvent{}, tt.prev...)
				} else {
					h.ScaleDownEvents = append([]ScaleEvent{}, tt.prev...)
					next = 5
				}
				assert.Equal(t, tt.wantChange, changeInPeriod(time.Minute, tt.prev, tnow))
				h.RecordScale(Decision{Replicas: next, Rescale: true, rec: record{current: 10, behavior: b}}, tnow)
				got := h.ScaleDownEvents
				if up {
					got = h.ScaleUpEvents
				}
				gotEv := []ev{}
				for _, e := range got {
					gotEv = append(gotEv, ev{e.Change, e.Outdated})
				}
				assert.Equal(t, tt.want, gotEv)
			})
		}
	}
}

// rulesOf is a max-select behavior with a pods and a percent policy
// (seconds), each left out when its value is 0.
func rulesOf(pods, podsPeriod, percent, percentPeriod int32) *ScalingRules {
	r := &ScalingRules{SelectPolicy: SelectMax, StabilizationWindow: durp(0)}
	if pods != 0 {
		r.Policies = append(r.Policies, ScalingPolicy{Type: PolicyPods, Value: pods, Period: time.Duration(podsPeriod) * time.Second})
	}
	if percent != 0 {
		r.Policies = append(r.Policies, ScalingPolicy{Type: PolicyPercent, Value: percent, Period: time.Duration(percentPeriod) * time.Second})
	}
	return r
}
