package scaling_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestFencedByCoord runs a plan under a coord leadership on a real
// (embedded) etcd: the engine's fencer records each step with a fenced
// write. When the leader is deposed (its lease revoked) between two
// steps, the next step's fence refuses, and the deposed leader writes
// nothing more.
func TestFencedByCoord(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cli, lead, fencer, cloud, steps := fencedGroup(ctx, t, "scaling-fence")
	depose := scaling.ObserverFunc(func(ev scaling.Event) {
		if ev.Kind == scaling.EventStepVerified && ev.Step == 1 {
			_, err := cli.Revoke(ctx, lead.Lease())
			require.NoError(t, err)
			<-lead.Done()
		}
	})
	e, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 10 * time.Millisecond}, scaling.Cloud{Scaler: cloud}, allowAll{},
		scaling.WithFencer(fencer), scaling.WithObserver(depose))
	require.NoError(t, err)
	p := planWebTo(ctx, t, e, cloud, 9)
	require.Len(t, p.Steps, 2, "4→6→9")

	x, err := e.Execute(ctx, p)
	require.ErrorIs(t, err, coord.ErrFenced)
	var serr *scaling.StepError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, scaling.StageFence, serr.Stage)
	assert.Equal(t, 2, serr.Step)
	assert.Equal(t, scaling.PlanStopped, x.Status)
	capa, err := cloud.Capacity(ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, 6, capa.Desired, "the first step, made while leading, stays; the second was never written")
	got, err := cli.Get(ctx, steps, clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1, "only step 1 was recorded under the fence")
	assert.Equal(t, steps+p.ID+"/1", string(got.Kvs[0].Key))
}

// fencedGroup campaigns for scope's leadership on a new embedded etcd and
// returns its client, the leadership, a fencer that records each plan
// step under its fence (at steps + plan ID + "/" + step), a memory cloud
// whose group "web" has 4 of up to 50 instances, and steps.
func fencedGroup(ctx context.Context, t *testing.T, scope string) (cli *clientv3.Client, lead *coord.Leadership, fencer scaling.Fencer, cloud *memory.Cloud, steps string) {
	t.Helper()
	cluster := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	cli = cluster.Client(t)
	prefix := etcdtest.KeyPrefix(t)
	steps = prefix + "steps/"
	el, err := coord.NewElector(coord.ElectorConfig{Scope: scope, ID: "replica-a", Prefix: prefix + "election/", SessionTTL: 5 * time.Second}, cli)
	require.NoError(t, err)
	lead, err = el.Campaign(ctx)
	require.NoError(t, err)
	fencer = scaling.FencerFunc(func(ctx context.Context, planID string, step int) error {
		_, err := lead.Fence().Do(ctx, cli, nil, clientv3.OpPut(steps+planID+"/"+strconv.Itoa(step), "in flight"))
		return err
	})
	cloud, err = memory.New(memory.Config{LaunchDelay: time.Nanosecond, DrainDelay: time.Nanosecond})
	require.NoError(t, err)
	require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Max: 50, Desired: 4}))
	return cli, lead, fencer, cloud, steps
}

// planWebTo decides and plans with e to move cloud's group "web" to
// desired instances.
func planWebTo(ctx context.Context, t *testing.T, e *scaling.Engine, cloud *memory.Cloud, desired int) scaling.Plan {
	t.Helper()
	capa, err := cloud.Capacity(ctx, "web")
	require.NoError(t, err)
	res, err := cloud.Get(ctx, "web")
	require.NoError(t, err)
	d, err := e.Decide(ctx, scaling.State{Now: cloud.Now(), Target: scaling.Target{ID: "web", Resource: res, Capacity: capa, Max: 50}},
		[]scaling.Candidate{{Name: "fixed", Strategy: scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			spec := s.Target.Capacity.CapacitySpec
			spec.Desired = desired
			return scaling.Recommendation{Capacity: spec, Fitness: 1}, nil
		})}}, "")
	require.NoError(t, err)
	return e.Plan(d, scaling.PlanOptions{})
}
