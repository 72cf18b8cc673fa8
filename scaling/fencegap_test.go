package scaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
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
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cli, lead, fencer, cloud, _ := fencedGroup(ctx, t, "scaling-gap")
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 10 * time.Millisecond}, scaling.Cloud{Scaler: cloud},
		deposingGate{cli: cli, lead: lead}, scaling.WithFencer(fencer), scaling.WithReserver(lim))
	require.NoError(t, err)
	p := planWebTo(ctx, t, e, cloud, 6)
	require.Len(t, p.Steps, 1)

	x, err := e.Execute(ctx, p)
	require.ErrorIs(t, err, coord.ErrFenced)
	var serr *scaling.StepError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, scaling.StageFence, serr.Stage)
	assert.Equal(t, scaling.PlanStopped, x.Status)
	assert.NotEqual(t, scaling.StepExecuted, x.Steps[0].Status)
	capa, err := cloud.Capacity(ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, 4, capa.Desired, "the deposed leader wrote nothing")
	st, err := lim.Stats(ctx)
	require.NoError(t, err)
	for _, b := range st.Buckets {
		assert.Zero(t, b.Kept, "the reservation was refunded: %+v", b)
	}
}
