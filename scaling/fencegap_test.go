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
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// deposingGate deposes the leader while it checks the first step (a slow
// safety gate on etcd, or a GC pause, outlasting the session's lease),
// then allows it.
type deposingGate struct {
	cli  *clientv3.Client
	lead *coord.Leadership
}

func (g deposingGate) Check(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	select {
	case <-g.lead.Done():
	default:
		if _, err := g.cli.Revoke(ctx, g.lead.Lease()); err != nil {
			return safety.Decision{}, err
		}
		<-g.lead.Done()
	}
	return allowAll{}.Check(ctx, p)
}

// Evaluate is the side-effect-free preview: it deposes no one.
func (g deposingGate) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return allowAll{}.Check(ctx, p)
}

// TestDeposedWhileGatedWritesNothing: the Fencer's contract is to be
// called right before every provider write, so that a deposed leader
// writes nothing. The engine fenced a step before its safety check, rate
// reservation and journal save: a leader deposed during them (its lease
// lost while the gate read etcd) still wrote the step, while the new
// leader could act on the same group: one change made twice. The step is
// now fenced again right before its write: refused, nothing is written,
// the reservation is refunded and the plan stops at StageFence.
func TestDeposedWhileGatedWritesNothing(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	cli := cluster.Client(t)
	prefix := etcdtest.KeyPrefix(t)
	el, err := coord.NewElector(coord.ElectorConfig{Scope: "scaling-gap", ID: "replica-a", Prefix: prefix + "election/", SessionTTL: 5 * time.Second}, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	lead, err := el.Campaign(ctx)
	require.NoError(t, err)
	fencer := scaling.FencerFunc(func(ctx context.Context, planID string, step int) error {
		_, err := lead.Fence().Do(ctx, cli, nil, clientv3.OpPut(prefix+"steps/"+planID+"/"+strconv.Itoa(step), "in flight"))
		return err
	})
	cloud, err := memory.New(memory.Config{LaunchDelay: time.Nanosecond, DrainDelay: time.Nanosecond})
	require.NoError(t, err)
	require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Max: 50, Desired: 4}))
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 10 * time.Millisecond}, scaling.Cloud{Scaler: cloud},
		deposingGate{cli: cli, lead: lead}, scaling.WithFencer(fencer), scaling.WithReserver(lim))
	require.NoError(t, err)
	capa, err := cloud.Capacity(ctx, "web")
	require.NoError(t, err)
	res, err := cloud.Get(ctx, "web")
	require.NoError(t, err)
	d, err := e.Decide(ctx, scaling.State{Now: cloud.Now(), Target: scaling.Target{ID: "web", Resource: res, Capacity: capa, Max: 50}},
		[]scaling.Candidate{{Name: "fixed", Strategy: scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			spec := s.Target.Capacity.CapacitySpec
			spec.Desired = 6
			return scaling.Recommendation{Capacity: spec, Fitness: 1}, nil
		})}}, "")
	require.NoError(t, err)
	p := e.Plan(d, scaling.PlanOptions{})
	require.Len(t, p.Steps, 1)

	x, err := e.Execute(ctx, p)
	require.ErrorIs(t, err, coord.ErrFenced)
	var serr *scaling.StepError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, scaling.StageFence, serr.Stage)
	assert.Equal(t, scaling.PlanStopped, x.Status)
	assert.NotEqual(t, scaling.StepExecuted, x.Steps[0].Status)
	capa, err = cloud.Capacity(ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, 4, capa.Desired, "the deposed leader wrote nothing")
	st, err := lim.Stats(ctx)
	require.NoError(t, err)
	for _, b := range st.Buckets {
		assert.Zero(t, b.Kept, "the reservation was refunded: %+v", b)
	}
}
