package scaling_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling"
)

// TestFailedRefundIsReported: a refund the Reserver fails (the budget
// stays spent for a change never made) is reported to the engine's
// Observer as an error event naming the plan, the step and the rate
// limiter's stage, with the Reserver's error, as the reaper keeps it on
// its record; the engine only logged it, where a host's audit trail and
// the monitor never saw it. The plan's outcome is what it was: a failed
// refund fails nothing.
func TestFailedRefundIsReported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		auditFails bool // the Reserver grants with an error: given back at once
		wantStatus scaling.PlanStatus
	}{
		{"grant with an error", true, scaling.PlanRateLimited},
		{"write that changed nothing", false, scaling.PlanStopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := web4(t)
				refused := errors.New("refused by the provider")
				_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Err: refused})
				require.NoError(t, err)
				audit := errors.New("audit of the grant failed")
				unreachable := errors.New("limiter store unreachable")
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						res := ratelimit.Reservation{ID: 1, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
						if tc.auditFails {
							return res, audit
						}
						return res, nil
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error { return unreachable },
				}
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{},
					scaling.WithReserver(r), scaling.WithObserver(rec))
				require.NoError(t, err)
				p := planFor(t, e, c, "web", 6)
				x, _ := e.Execute(t.Context(), p)
				assert.Equal(t, tc.wantStatus, x.Status, x.Reason)
				require.NotErrorIs(t, x.Err, unreachable, "a failed refund does not change the plan's outcome")
				found := rec.matching(unreachable)
				require.Len(t, found, 1, "the failed refund is reported once: %v", rec.kinds())
				ev := found[0]
				assert.Equal(t, scaling.EventError, ev.Kind)
				assert.Equal(t, "web", ev.Target)
				assert.Equal(t, p.ID, ev.PlanID)
				assert.Equal(t, 1, ev.Step)
				var serr *scaling.StepError
				require.ErrorAs(t, ev.Err, &serr)
				assert.Equal(t, scaling.StageRateLimit, serr.Stage)
				assert.Contains(t, ev.Reason, "refund")
			})
		})
	}
}

// TestRefundAfterTheContextEndedOfAStoppedPlan: a step's reservation
// that is refunded as the plan stops (a grant of no unit the engine
// refuses) is refunded even when the caller's context ended meanwhile,
// through a context that has not, as a grant returned with an error is
// (TestReservationRefundedAfterTheContextEnded): the plan ends, so no
// resume would ever refund it. The engine passed the ended context, a
// Reserver whose store honours it failed, and the budget stayed spent
// for a change never made.
func TestRefundAfterTheContextEndedOfAStoppedPlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := web4(t)
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		var refunded, failed int
		r := funcReserver{
			reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
				stop() // the host shuts down while the grant comes back
				return ratelimit.Reservation{ID: 1, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: 0}, nil
			},
			cancel: func(ctx context.Context, _ time.Time, _ ratelimit.Reservation) error {
				if err := ctx.Err(); err != nil {
					failed++
					return err
				}
				refunded++
				return nil
			},
		}
		e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
		require.NoError(t, err)
		x, err := e.Execute(ctx, planFor(t, e, c, "web", 6))
		require.ErrorIs(t, err, provider.ErrInvalid)
		assert.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
		assert.Equal(t, 1, refunded, "the grant is refunded though ctx ended")
		assert.Zero(t, failed)
		assert.Empty(t, setCapacityOps(c), "nothing written")
	})
}
