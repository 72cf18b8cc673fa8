package reaper_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety/approval"
)

// stoppingInventory is the memory cloud whose re-read of i-1 is cut short
// by the host stopping: the run's context ends during the call, which
// answers with the context's error, as a driver's request does.
type stoppingInventory struct {
	provider.Inventory
	cancel context.CancelFunc
}

func (s stoppingInventory) Get(ctx context.Context, id string) (provider.Resource, error) {
	if id == "i-1" {
		s.cancel()
		return provider.Resource{}, fmt.Errorf("inventory: get %s: %w", id, ctx.Err())
	}
	return s.Inventory.Get(ctx, id)
}

// stoppingApprovals is the approval service whose lookup of i-1's
// requests is cut short by the host stopping.
type stoppingApprovals struct {
	reaper.Approvals
	cancel context.CancelFunc
}

func (s stoppingApprovals) List(ctx context.Context, f approval.Filter) ([]approval.Request, error) {
	if f.ResourceID == "i-1" {
		s.cancel()
		return nil, fmt.Errorf("approvals: list: %w", ctx.Err())
	}
	return s.Approvals.List(ctx, f)
}

// TestRunEndedDuringARereadIsNoFailedRead: a run whose context ends while
// it re-reads a candidate (its resource, or its activity since the
// verdict, or its approval requests) recorded that candidate as failed ('re-reading the resource
// failed: context canceled'), a read that never failed: the report
// counted it in Totals.Failed and Errors, and monitor.ReaperObserver
// wrote an inventory failure event (the pipeline_failure alert) at every
// deploy that stopped a run there, as coord/shardsweep stopped doing in
// 0e32fa2. It is deferred as the candidates after it are; the run's error
// is the context's, and nothing is acted on.
func TestRunEndedDuringARereadIsNoFailedRead(t *testing.T) {
	t.Parallel()
	for _, stage := range []string{"resource", "activity", "approvals"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			fleet := e.fleet()
			var approvals reaper.Approvals = e.approvals
			switch stage {
			case "resource":
				fleet.Inventory = stoppingInventory{e.cloud, cancel}
			case "approvals":
				approvals = stoppingApprovals{e.approvals, cancel}
			default:
				var mu sync.Mutex
				reads := 0
				fleet.Activity = provider.ActivitySourceFunc(func(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
					mu.Lock()
					defer mu.Unlock()
					if q.ResourceID == "i-1" {
						if reads++; reads == 2 { // the first is the detector's
							cancel()
							return nil, fmt.Errorf("activity %s: %w", q.ResourceID, ctx.Err())
						}
					}
					return e.cloud.Activity(ctx, q)
				})
			}
			r, err := reaper.New(reaper.Config{Execute: true}, fleet, e.ensemble, e.engine,
				reaper.WithClock(e.waitClock()), reaper.WithApprovals(approvals), reaper.WithHistory(e.history))
			require.NoError(t, err)
			rep, err := e.run(ctx, t, r, t0)
			require.ErrorIs(t, err, context.Canceled)
			assert.Empty(t, e.actions(), "nothing acted on once the run ended")
			for _, id := range []string{"i-1", "i-2"} {
				rec := record(t, rep, id)
				assert.Equal(t, reaper.OutcomeDeferred, rec.Outcome, rec.String())
				assert.Contains(t, rec.Reason, "the run ended")
				require.NoError(t, rec.Err())
				assert.Nil(t, rec.Decision, "the gate was not asked")
			}
			assert.Equal(t, 0, rep.Totals.Failed)
			assert.Equal(t, 0, rep.Totals.Errors)
			assert.Equal(t, 2, rep.Totals.Deferred)
		})
	}
}
