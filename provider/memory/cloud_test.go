package memory_test

import (
	"context"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/providertest"
)

var epoch = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func newMock() *bclock.Mock {
	m := bclock.NewMock()
	m.Set(epoch)
	return m
}

func newCloud(t *testing.T) (*memory.Cloud, *bclock.Mock) {
	t.Helper()
	return newCloudConfig(t, memory.Config{})
}

// newCloudConfig returns a Cloud configured by cfg on a mock clock set to
// epoch.
func newCloudConfig(t *testing.T, cfg memory.Config) (*memory.Cloud, *bclock.Mock) {
	t.Helper()
	m := newMock()
	c, err := memory.New(cfg, memory.WithClock(m))
	require.NoError(t, err)
	return c, m
}

// seed builds the conformance fixture: two instances, a group, a function,
// an attached and a detached volume, a day of CPU samples, backups and
// activity.
func seed(t *testing.T) (*memory.Cloud, *bclock.Mock) {
	t.Helper()
	c, m := newCloud(t)
	require.NoError(t, c.Add(
		provider.Resource{ID: "i-a", Kind: provider.KindInstance, Tags: map[string]string{"team": "search"}, Size: provider.Size{InstanceType: "m5.large"}},
		provider.Resource{ID: "i-b", Kind: provider.KindInstance, Environment: "production"},
		provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second}},
		provider.Resource{ID: "vol-in-use", Kind: provider.KindVolume},
		provider.Resource{ID: "vol-available", Kind: provider.KindVolume, State: provider.StateStopped},
	))
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 5, Desired: 2}))
	start := epoch.Add(-24 * time.Hour)
	var cpu []provider.Sample
	for i := range 288 {
		cpu = append(cpu, provider.Sample{Time: start.Add(time.Duration(i) * 5 * time.Minute), Value: 0.05 + 0.001*float64(i%10)})
	}
	require.NoError(t, c.AddSamples("i-a", provider.MetricCPU, cpu...))
	require.NoError(t, c.AddBackup(
		provider.Backup{ID: "snap-1", ResourceID: "i-a", Time: epoch.Add(-30 * time.Hour), Complete: true},
		provider.Backup{ID: "snap-2", ResourceID: "i-a", Time: epoch.Add(-2 * time.Hour), Complete: true, Verified: true, VerifiedBy: "restore-test"},
	))
	require.NoError(t, c.RecordActivity("i-a", provider.ActivityLogins, epoch.Add(-3*time.Hour), 2))
	require.NoError(t, c.RecordActivity("i-a", provider.ActivityAPICalls, epoch.Add(-time.Hour), 40))
	return c, m
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Subject {
		c, m := seed(t)
		return providertest.Subject{
			Provider:       c,
			Instances:      []string{"i-a", "i-b"},
			Tag:            [2]string{"team", "search"},
			Group:          "web",
			ResizeID:       "fn",
			ValidSize:      provider.Size{MemoryMiB: 1024, Timeout: time.Minute},
			InvalidSize:    provider.Size{MemoryMiB: 64, Timeout: time.Minute},
			MetricQuery:    provider.Query{ResourceID: "i-a", Metric: provider.MetricCPU, Start: epoch.Add(-6 * time.Hour), End: epoch, Step: 15 * time.Minute},
			FirstSample:    epoch.Add(-24 * time.Hour), // seed's first CPU sample
			BackupID:       "i-a",
			AttachedVolume: "vol-in-use",
			DetachedVolume: "vol-available",
			ActivityQuery:  provider.ActivityQuery{ResourceID: "i-a", Start: epoch.Add(-24 * time.Hour), End: epoch},
			Settle: func(context.Context) error {
				m.Add(time.Hour)
				return nil
			},
		}
	})
}

func TestNewInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give memory.Config
	}{
		{"negative stop delay", memory.Config{StopDelay: -time.Second}},
		{"function memory max below min", memory.Config{FunctionMemoryMiB: [2]int{512, 256}}},
		{"zero function timeout min", memory.Config{FunctionTimeout: [2]time.Duration{0, time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := memory.New(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
		})
	}
	c, err := memory.New(memory.Config{})
	require.NoError(t, err, "the zero Config means the defaults")
	assert.Equal(t, "memory", c.Name(), "default name")
	c, err = memory.New(memory.Config{Name: "dry-run"})
	require.NoError(t, err)
	assert.Equal(t, "dry-run", c.Name())
}

func TestAddValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  provider.Resource
		field string
	}{
		{"empty id", provider.Resource{Kind: provider.KindInstance}, "resources[0].id"},
		{"bad kind", provider.Resource{ID: "x", Kind: "rocket"}, "resources[0].kind"},
		{"NaN cost", provider.Resource{ID: "x", Kind: provider.KindInstance, HourlyCost: nanF()}, "resources[0].hourly_cost"},
		{"negative vcpu", provider.Resource{ID: "x", Kind: provider.KindInstance, Size: provider.Size{VCPU: -1}}, "resources[0].size.vcpu"},
		{"bad zone", provider.Resource{ID: "x", Kind: provider.KindInstance, TimeZone: "Mars/Olympus"}, "resources[0].time_zone"},
		{"function without timeout", provider.Resource{ID: "x", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 128}}, "resources[0].size.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newCloud(t)
			err := c.Add(tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			require.ErrorIs(t, err, provider.ErrInvalid)
			got, err := c.List(t.Context(), provider.Filter{})
			require.NoError(t, err)
			assert.Empty(t, got, "a rejected Add must add nothing")
		})
	}
}

func TestAddDuplicateIsConflictAndAtomic(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "a", Kind: provider.KindInstance}))
	err := c.Add(provider.Resource{ID: "b", Kind: provider.KindInstance}, provider.Resource{ID: "a", Kind: provider.KindInstance})
	require.ErrorIs(t, err, provider.ErrConflict)
	_, err = c.Get(t.Context(), "b")
	require.ErrorIs(t, err, provider.ErrNotFound, "nothing of a failed Add may be added")
}

func TestLifecycleFollowsClock(t *testing.T) {
	t.Parallel()
	c, m := newCloudConfig(t, memory.Config{StopDelay: 40 * time.Second, StartDelay: 20 * time.Second})
	ctx := t.Context()
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	require.NoError(t, c.Stop(ctx, "i"))
	assertState(t, c, "i", provider.StateStopping)
	m.Add(39 * time.Second)
	assertState(t, c, "i", provider.StateStopping)
	m.Add(time.Second)
	assertState(t, c, "i", provider.StateStopped)
	require.NoError(t, c.Start(ctx, "i"))
	assertState(t, c, "i", provider.StatePending)
	require.ErrorIs(t, c.Stop(ctx, "i"), provider.ErrConflict, "a pending instance cannot be stopped")
	m.Add(20 * time.Second)
	assertState(t, c, "i", provider.StateRunning)
	r, err := c.Get(ctx, "i")
	require.NoError(t, err)
	assert.Equal(t, epoch.Add(40*time.Second), r.LaunchTime, "a start is a new launch")

	require.NoError(t, c.Stop(ctx, "i"))
	require.ErrorIs(t, c.Start(ctx, "i"), provider.ErrConflict, "a stopping instance cannot be started")

	var ops []string
	for _, mu := range c.Mutations() {
		ops = append(ops, string(mu.Op)+":"+mu.From+">"+mu.To)
	}
	assert.Equal(t, []string{"add:>running", "stop:running>stopping", "start:stopped>pending", "stop:running>stopping"}, ops)
}

func TestUnsupportedKinds(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.Add(
		provider.Resource{ID: "lb", Kind: provider.KindLoadBalancer},
		provider.Resource{ID: "vol", Kind: provider.KindVolume},
	))
	require.ErrorIs(t, c.Stop(ctx, "lb"), provider.ErrUnsupported)
	require.ErrorIs(t, c.Resize(ctx, "vol", provider.Size{MemoryMiB: 1}), provider.ErrUnsupported)
	_, err := c.Capacity(ctx, "lb")
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.NoError(t, c.Terminate(ctx, "lb"), "a load balancer can be terminated")
	// A volume added without a state is running: attached to an
	// instance, which the clouds refuse to delete a volume in.
	before := len(c.Mutations())
	err = c.Terminate(ctx, "vol")
	require.ErrorIs(t, err, provider.ErrConflict)
	require.EqualError(t, err, `memory: terminate "vol": conflict: the volume is running, not detached (stopped): it may be attached to an instance`)
	got, err := c.Get(ctx, "vol")
	require.NoError(t, err)
	assert.Equal(t, provider.StateRunning, got.State, "left as it was")
	assert.Len(t, c.Mutations(), before, "no change recorded")
	// Detached, it is terminated; one on its way to or from an
	// instance (pending, stopping) is not, as EBS deletes only an
	// available volume.
	got.State = provider.StateStopped
	require.NoError(t, c.Update(got))
	require.NoError(t, c.Terminate(ctx, "vol"))
	got, err = c.Get(ctx, "vol")
	require.NoError(t, err)
	assert.Equal(t, provider.StateTerminated, got.State)
	require.NoError(t, c.Terminate(ctx, "vol"), "terminating a terminated volume changes nothing")
	for _, s := range []provider.State{provider.StatePending, provider.StateStopping} {
		id := "vol-" + string(s)
		require.NoError(t, c.Add(provider.Resource{ID: id, Kind: provider.KindVolume, State: s}))
		require.ErrorIs(t, c.Terminate(ctx, id), provider.ErrConflict, s)
		assertState(t, c, id, s)
	}
}

func TestCapacityMovesOverTime(t *testing.T) {
	t.Parallel()
	c, m := newCloudConfig(t, memory.Config{LaunchDelay: time.Minute, DrainDelay: 30 * time.Second})
	ctx := t.Context()
	require.NoError(t, c.AddGroup(provider.Resource{ID: "g"}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
	require.NoError(t, c.SetCapacity(ctx, "g", provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}))
	assertCapacity(t, c, "g", 5, 5, 2)
	m.Add(time.Minute)
	assertCapacity(t, c, "g", 5, 5, 5)

	require.NoError(t, c.SetCapacity(ctx, "g", provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}))
	assertCapacity(t, c, "g", 3, 5, 3) // two draining
	m.Add(30 * time.Second)
	assertCapacity(t, c, "g", 3, 3, 3)

	// Scale out then in before the launches finish: launches are cancelled.
	require.NoError(t, c.SetCapacity(ctx, "g", provider.CapacitySpec{Min: 1, Max: 10, Desired: 6}))
	require.NoError(t, c.SetCapacity(ctx, "g", provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}))
	assertCapacity(t, c, "g", 4, 4, 3)
	m.Add(time.Minute)
	got := assertCapacity(t, c, "g", 4, 4, 4)
	assert.True(t, got.Settled())
}

func TestTerminatedGroupRefusesCapacity(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.AddGroup(provider.Resource{ID: "g"}, provider.CapacitySpec{Min: 0, Max: 3, Desired: 1}))
	require.NoError(t, c.Terminate(ctx, "g"))
	require.ErrorIs(t, c.SetCapacity(ctx, "g", provider.CapacitySpec{Min: 0, Max: 3, Desired: 2}), provider.ErrConflict)
}

func TestResizeInstanceUsesCatalogue(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.xlarge"}}))
	r, err := c.Get(ctx, "i")
	require.NoError(t, err)
	assert.InDelta(t, 0.192, r.HourlyCost, 1e-9)
	assert.Equal(t, 16384, r.Size.MemoryMiB)

	require.NoError(t, c.Resize(ctx, "i", provider.Size{InstanceType: "m5.large"}))
	r, err = c.Get(ctx, "i")
	require.NoError(t, err)
	assert.Equal(t, provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}, r.Size)
	assert.InDelta(t, 0.096, r.HourlyCost, 1e-9)

	require.ErrorIs(t, c.Resize(ctx, "i", provider.Size{InstanceType: "x9.mystery"}), provider.ErrInvalid)
	require.NoError(t, c.Resize(ctx, "i", provider.Size{InstanceType: "custom.8", VCPU: 8, MemoryMiB: 1000}))
	require.ErrorIs(t, c.Resize(ctx, "i", provider.Size{Timeout: time.Second}), provider.ErrInvalid, "instances have no timeout")
}

// TestResizeInstanceRefusesTimeout checks that a size with a timeout, which
// only functions have, is refused for an instance even with a catalogue
// type (which once filled in the rest and dropped the timeout), and
// changes nothing.
func TestResizeInstanceRefusesTimeout(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	before, err := c.Get(t.Context(), "i-a")
	require.NoError(t, err)
	err = c.Resize(t.Context(), "i-a", provider.Size{InstanceType: "m5.large", Timeout: time.Minute})
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.ErrorContains(t, err, "timeout")
	after, err := c.Get(t.Context(), "i-a")
	require.NoError(t, err)
	assert.Equal(t, before.Size, after.Size)
}

func TestResizeFunctionLimits(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.Add(provider.Resource{ID: "f", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 128, Timeout: 3 * time.Second}}))
	tests := []struct {
		name  string
		give  provider.Size
		field string
	}{
		{"memory below 128", provider.Size{MemoryMiB: 127, Timeout: time.Second}, "size.memory_mib"},
		{"memory above 10240", provider.Size{MemoryMiB: 10241, Timeout: time.Second}, "size.memory_mib"},
		{"timeout above 900s", provider.Size{MemoryMiB: 256, Timeout: 901 * time.Second}, "size.timeout"},
		{"timeout below 1s", provider.Size{MemoryMiB: 256, Timeout: 500 * time.Millisecond}, "size.timeout"},
		{"instance type on a function", provider.Size{InstanceType: "m5.large", MemoryMiB: 256, Timeout: time.Second}, "size.instance_type"},
	}
	for _, tt := range tests {
		err := c.Resize(ctx, "f", tt.give)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
	}
	require.NoError(t, c.Resize(ctx, "f", provider.Size{MemoryMiB: 10240, Timeout: 900 * time.Second}))
	muts := c.Mutations()
	require.Len(t, muts, 2)
	assert.Equal(t, memory.OpResize, muts[1].Op)
	assert.Equal(t, "memory=10240MiB timeout=15m0s", muts[1].To)
}

func TestUpdateKeepsState(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	require.NoError(t, c.Stop(ctx, "i"))
	require.NoError(t, c.Update(provider.Resource{ID: "i", Kind: provider.KindDatabase, Owner: "dba", State: provider.StateRunning}))
	r, err := c.Get(ctx, "i")
	require.NoError(t, err)
	assert.Equal(t, "dba", r.Owner)
	assert.Equal(t, provider.KindInstance, r.Kind, "Update keeps the kind")
	assert.Equal(t, provider.StateStopping, r.State, "Update keeps the state")
	require.ErrorIs(t, c.Update(provider.Resource{ID: "nope", Kind: provider.KindInstance}), provider.ErrNotFound)
}

// TestUpdateAttachesAndDetachesAVolume: the one state an Update changes is
// a volume's attachment, running (attached) to stopped (detached) and
// back, recorded as a mutation from one to the other; any other state a
// volume is asked to take is ignored, as every state of another kind.
func TestUpdateAttachesAndDetachesAVolume(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "vol", Kind: provider.KindVolume}, provider.Resource{ID: "new", Kind: provider.KindVolume, State: provider.StatePending},
		provider.Resource{ID: "i", Kind: provider.KindInstance}))
	update := func(id string, s provider.State) {
		t.Helper()
		require.NoError(t, c.Update(provider.Resource{ID: id, Kind: provider.KindVolume, State: s}))
	}
	before := len(c.Mutations())
	update("vol", provider.StateStopped)
	assertState(t, c, "vol", provider.StateStopped)
	update("vol", provider.StateStopped) // no change
	update("vol", provider.StateTerminated)
	assertState(t, c, "vol", provider.StateStopped)
	update("vol", provider.StateRunning)
	assertState(t, c, "vol", provider.StateRunning)
	update("vol", provider.StatePending)
	assertState(t, c, "vol", provider.StateRunning)
	update("new", provider.StateStopped)
	assertState(t, c, "new", provider.StatePending)
	update("i", provider.StateStopped)
	assertState(t, c, "i", provider.StateRunning)
	var got []string
	for _, mu := range c.Mutations()[before:] {
		got = append(got, mu.ResourceID+":"+mu.From+">"+mu.To)
	}
	assert.Equal(t, []string{"vol:running>stopped", "vol:>", "vol:>", "vol:stopped>running", "vol:>", "new:>", "i:>"}, got)
}

func assertState(t *testing.T, c *memory.Cloud, id string, want provider.State) {
	t.Helper()
	r, err := c.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, want, r.State)
}

func assertCapacity(t *testing.T, c *memory.Cloud, id string, desired, current, ready int) provider.Capacity {
	t.Helper()
	got, err := c.Capacity(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, desired, got.Desired, "desired")
	assert.Equal(t, current, got.Current, "current")
	assert.Equal(t, ready, got.Ready, "ready")
	require.NoError(t, got.Validate())
	return got
}

func TestListByInstanceType(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(
		provider.Resource{ID: "a", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "t3.micro"}},
		provider.Resource{ID: "b", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.large"}},
		provider.Resource{ID: "f", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 128, Timeout: time.Second}},
	))
	got, err := c.List(t.Context(), provider.Filter{InstanceTypes: []string{"m5.large", "r5.large"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, idsOf(got))
	_, err = c.List(t.Context(), provider.Filter{InstanceTypes: []string{""}})
	require.ErrorIs(t, err, provider.ErrInvalid)
}
