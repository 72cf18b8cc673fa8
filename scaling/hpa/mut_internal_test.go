package hpa

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestPodRequestsAggregation pins component-helpers' PodRequests where it
// decides: the containers' sum with the sidecars' added wins over a
// smaller init container, and an init container after a sidecar runs
// beside it (its request plus the sidecars' so far).
func TestPodRequestsAggregation(t *testing.T) {
	t.Parallel()
	cpu := func(m int64) ResourceList { return ResourceList{ResourceCPU: m} }
	memOnly := ResourceList{ResourceMemory: 1 << 30} // a pod-level request of another resource: the CPU is aggregated
	for _, tc := range []struct {
		name string
		pod  Pod
		want int64
	}{
		{"the containers and sidecars win", Pod{Name: "a", Requests: memOnly,
			Containers:     []Container{{Name: "app", Requests: cpu(200)}, {Name: "worker", Requests: cpu(300)}},
			InitContainers: []Container{{Name: "migrate", Requests: cpu(100)}, {Name: "proxy", RestartAlways: true, Requests: cpu(50)}}}, 550},
		{"an init container after a sidecar wins", Pod{Name: "b", Requests: memOnly,
			Containers:     []Container{{Name: "app", Requests: cpu(100)}},
			InitContainers: []Container{{Name: "proxy", RestartAlways: true, Requests: cpu(50)}, {Name: "migrate", Requests: cpu(600)}}}, 650},
	} {
		got, err := (&Calculator{}).request(&tc.pod, "", ResourceCPU)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// TestZeroRequestIsARequest: a container requesting 0 of a resource
// requests it (no error; the utilization over such pods has no
// denominator and is refused later, as upstream).
func TestZeroRequestIsARequest(t *testing.T) {
	t.Parallel()
	p := &Pod{Name: "p", Phase: PhaseRunning, Containers: []Container{{Name: "app", Requests: ResourceList{ResourceCPU: 0}}}}
	got, err := (&Calculator{}).request(p, "", ResourceCPU)
	require.NoError(t, err)
	assert.Zero(t, got)
	require.NoError(t, p.validateRequests())
	p.Containers[0].Requests[ResourceCPU] = -1
	require.ErrorIs(t, p.validateRequests(), provider.ErrInvalid)
}

// TestPodLevelResources pins which resources a pod may request at pod
// level, as component-helpers' IsSupportedPodLevelResource: cpu, memory
// and any name with the huge-pages prefix.
func TestPodLevelResources(t *testing.T) {
	t.Parallel()
	for r, want := range map[ResourceName]bool{
		ResourceCPU: true, ResourceMemory: true, "hugepages-2Mi": true,
		"hugepages-": true, "hugepage-2Mi": false, "ephemeral-storage": false, "nvidia.com/gpu": false,
	} {
		assert.Equal(t, want, r.podLevel(), "%s", r)
	}
}

// TestPodReadyStatusValidated: a pod's Ready status must be a known one.
func TestPodReadyStatusValidated(t *testing.T) {
	t.Parallel()
	p := Pod{Name: "p", Phase: PhaseRunning, Ready: "Maybe"}
	var inv *provider.InvalidError
	require.ErrorAs(t, p.validate(), &inv)
	assert.Equal(t, "ready", inv.Field)
	p.Ready = ConditionTrue
	require.NoError(t, p.validate())
}

// TestPodNamesUnique checks the duplicate-name check against a map, on
// random pod lists of up to 20 names (both sides of the 16 where the
// check stops comparing in place) drawn from a small alphabet, so that
// names often end with the same byte at the same or another length, and
// duplicates fall anywhere: the same first duplicate, by index, or none.
func TestPodNamesUnique(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 19))
	var m matcher
	for range 20_000 {
		pods := make([]Pod, 1+rng.IntN(20))
		for i := range pods {
			name := []byte("p")
			for range rng.IntN(3) {
				name = append(name, "ab\xff"[rng.IntN(3)])
			}
			pods[i] = Pod{Name: string(name), Phase: PhaseRunning}
		}
		want := -1
		seen := map[string]bool{}
		for i, p := range pods {
			if seen[p.Name] {
				want = i
				break
			}
			seen[p.Name] = true
		}
		err := m.pods(pods)
		if want < 0 {
			require.NoError(t, err, "%q", pods)
			continue
		}
		require.ErrorIs(t, err, provider.ErrInvalid)
		require.Contains(t, err.Error(), fmt.Sprintf("pods[%d].name", want), "%q", pods)
	}
}

// TestPodValidateReadyAndRunning: the fast path of a pod that is running
// and ready does not let anything else through: a ready pod still needs a
// known phase and a name (and a count ≥ 0), and a running and ready pod
// with all of them, count 0 included, is valid.
func TestPodValidateReadyAndRunning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pod   Pod
		field string
	}{
		{Pod{Name: "p", Phase: "crashing", Ready: ConditionTrue}, "phase"},
		{Pod{Name: "p", Ready: ConditionTrue}, "phase"},
		{Pod{Phase: PhaseRunning, Ready: ConditionTrue}, "name"},
		{Pod{Name: "p", Phase: PhaseRunning, Ready: ConditionTrue, Count: -1}, "count"},
		{Pod{Name: "p", Phase: PhaseRunning, Ready: ConditionTrue}, ""},
		{Pod{Name: "p", Phase: PhaseRunning, Ready: ConditionTrue, Count: 3}, ""},
		{Pod{Name: "p", Phase: PhasePending, Ready: ConditionTrue}, ""},
	} {
		err := tc.pod.validate()
		if tc.field == "" {
			require.NoError(t, err, "%+v", tc.pod)
			continue
		}
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "%+v", tc.pod)
		assert.Equal(t, tc.field, inv.Field, "%+v", tc.pod)
	}
}

// TestRecordIntoAShorterHistory: a decision whose recommendation takes a
// slot the history it is recorded into does not have (a History other
// than the one decided on, since shortened) is appended, not written past
// the end; one whose slot exists replaces it.
func TestRecordIntoAShorterHistory(t *testing.T) {
	t.Parallel()
	old := TimedReplicas{Replicas: 7, At: tnow.Add(-time.Hour)}
	d := Decision{rec: record{now: tnow, logged: true, replicas: 3, replace: 1}}
	h := History{Recommendations: []TimedReplicas{old}}
	require.NotPanics(t, func() { h.Record(d) })
	assert.Equal(t, []TimedReplicas{old, {Replicas: 3, At: tnow}}, h.Recommendations, "appended")
	h.Recommendations[1] = old
	h.Record(d)
	assert.Equal(t, []TimedReplicas{old, {Replicas: 3, At: tnow}}, h.Recommendations, "the slot replaced")
}
