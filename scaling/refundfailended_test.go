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
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling"
)

// TestFailedRefundOfAStoppedPlanAfterTheContextEndedIsReported: a refund
// the Reserver fails as a plan stops (here a grant of no unit, which the
// engine refuses) is reported as an EventError even when the caller's
// context ended meanwhile: the plan is final, no resume will refund it,
// and the budget stays spent for a change never made. The engine only
// logged it as "kept for the resume", kept the reservation in a record
// nothing resumes, and the host's audit trail and monitor never saw it.
func TestFailedRefundOfAStoppedPlanAfterTheContextEndedIsReported(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := web4(t)
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		unreachable := errors.New("limiter store unreachable")
		r := funcReserver{
			reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
				stop() // the host shuts down while the grant comes back
				return ratelimit.Reservation{ID: 1, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: 0}, nil
			},
			cancel: func(context.Context, time.Time, ratelimit.Reservation) error { return unreachable },
		}
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{},
			scaling.WithReserver(r), scaling.WithObserver(rec))
		require.NoError(t, err)
		p := planFor(t, e, c, "web", 6)
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, provider.ErrInvalid)
		require.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
		found := rec.matching(unreachable)
		require.Len(t, found, 1, "the failed refund is reported once: %v", rec.kinds())
		assert.Equal(t, scaling.EventError, found[0].Kind)
		assert.Equal(t, p.ID, found[0].PlanID)
		var serr *scaling.StepError
		require.ErrorAs(t, found[0].Err, &serr)
		assert.Equal(t, scaling.StageRateLimit, serr.Stage)
	})
}
