package scaling_test

import (
	"context"
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

// TestGrantOfNoUnitIsNotActedOn: a reservation that is OK but grants no
// unit (Allowed with Granted 0, as a host's Reserver may answer) allows
// no change, as the reaper holds: the plan stops as rate limited with an
// error naming reservation.granted, nothing is written and every grant
// is refunded. The engine took an Allowed grant as the whole change, so
// a budget spent to its limit still scaled 4 → 6; and it never looked at
// the second (down) grant of a resize that spends both budgets.
func TestGrantOfNoUnitIsNotActedOn(t *testing.T) {
	t.Parallel()
	zero := func(res ratelimit.Reservation) ratelimit.Reservation {
		res.Granted = 0
		return res
	}
	for _, tc := range []struct {
		name   string
		resize bool
		grant  func(n int, res ratelimit.Reservation) ratelimit.Reservation // n counts from 1
		want   int                                                          // reservations made
	}{
		{"allowed none", false, func(_ int, r ratelimit.Reservation) ratelimit.Reservation { return zero(r) }, 1},
		{"allowed fewer than none", false, func(_ int, r ratelimit.Reservation) ratelimit.Reservation {
			r.Granted = -1
			return r
		}, 1},
		{"resize up none", true, func(n int, r ratelimit.Reservation) ratelimit.Reservation {
			if n == 1 {
				return zero(r)
			}
			return r
		}, 2},
		{"resize down none", true, func(n int, r ratelimit.Reservation) ratelimit.Reservation {
			if n == 2 {
				return zero(r)
			}
			return r
		}, 2},
		{"resize down clamped to none", true, func(n int, r ratelimit.Reservation) ratelimit.Reservation {
			if n == 2 {
				r.Outcome = ratelimit.Clamped
				return zero(r)
			}
			return r
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reserved int
				var cancelled []uint64
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						reserved++
						res := ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
						return tc.grant(reserved, res), nil
					},
					cancel: func(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
						cancelled = append(cancelled, res.ID)
						return nil
					},
				}
				var (
					x       scaling.Execution
					err     error
					written func() bool
				)
				if tc.resize {
					c, e, res, p := bothBudgetsResize(t, r)
					x, err = e.Execute(t.Context(), p)
					written = func() bool {
						after, gerr := c.Get(t.Context(), "i-1")
						require.NoError(t, gerr)
						return after.Size != res.Size
					}
				} else {
					c, err2 := memory.New(memory.Config{})
					require.NoError(t, err2)
					require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 4}))
					e, err2 := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
					require.NoError(t, err2)
					x, err = e.Execute(t.Context(), planFor(t, e, c, "web", 6))
					written = func() bool { return len(setCapacityOps(c)) > 0 }
				}
				require.ErrorIs(t, err, provider.ErrInvalid)
				var serr *scaling.StepError
				require.ErrorAs(t, err, &serr)
				assert.Equal(t, scaling.StageRateLimit, serr.Stage)
				var ierr *provider.InvalidError
				require.ErrorAs(t, err, &ierr)
				assert.Equal(t, "reservation.granted", ierr.Field)
				assert.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
				assert.Contains(t, x.Reason, "reservation.granted")
				assert.False(t, written(), "nothing written")
				assert.Equal(t, tc.want, reserved)
				want := []uint64{1, 2}[:tc.want]
				assert.ElementsMatch(t, want, cancelled, "every grant is refunded (%v)", cancelled)
			})
		})
	}
}

// TestAllowedGrantOfFewerUnitsIsFollowed: a reservation Allowed with
// fewer units than asked (a host's Reserver that contradicts itself) is
// followed as a clamp: the step moves the units granted, not the units
// asked, so the change never spends past what the Reserver recorded.
func TestAllowedGrantOfFewerUnitsIsFollowed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := web4(t)
		reserved := 0
		r := funcReserver{
			reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
				reserved++
				granted := req.Units
				if reserved == 1 {
					granted = 1
				}
				return ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: granted}, nil
			},
			cancel: func(context.Context, time.Time, ratelimit.Reservation) error { return nil },
		}
		e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), planFor(t, e, c, "web", 6))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		require.Len(t, x.Steps, 2)
		assert.Equal(t, 5, x.Steps[0].Step.To.Desired, "the first step moves the one unit granted")
		assert.Equal(t, 6, x.Steps[1].Step.To.Desired)
	})
}
