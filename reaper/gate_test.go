package reaper_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// callLog is the order in which a host's collaborators were called.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
}

func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// hostGate is a host's own gate: it allows every proposal except those of
// i-blocked, which it does not allow without giving an error.
type hostGate struct {
	log *callLog
}

var _ reaper.Gate = hostGate{}

func (g hostGate) decide(p safety.Proposal) (safety.Decision, error) {
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Allowed: p.Resource.ID != "i-blocked"}
	return d, nil
}

func (g hostGate) Check(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	g.log.add("check " + p.Resource.ID)
	return g.decide(p)
}

func (g hostGate) Evaluate(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	g.log.add("evaluate " + p.Resource.ID)
	return g.decide(p)
}

// hostReserver is a host's own rate limit: it grants every request except
// those of i-denied, numbering its reservations, and logs the time it was
// asked at and the reservations refunded.
type hostReserver struct {
	log *callLog
	mu  sync.Mutex
	ids uint64
}

var _ reaper.Reserver = (*hostReserver)(nil)

func (r *hostReserver) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.add("reserve " + req.Target + " " + string(req.Direction) + " " + strconv.Itoa(req.Units) + " at " + now.Format(time.TimeOnly))
	if req.Target == "i-denied" {
		return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Denied, Reason: ratelimit.ReasonWindow}, nil
	}
	r.ids++
	return ratelimit.Reservation{ID: r.ids, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
}

func (r *hostReserver) CancelAt(_ context.Context, now time.Time, resv ratelimit.Reservation) error {
	r.log.add("cancel " + resv.Request.Target + " #" + strconv.FormatUint(resv.ID, 10) + " at " + now.Format(time.TimeOnly))
	return nil
}

// loggedActuator logs the provider calls before making them.
type loggedActuator struct {
	provider.Actuator
	log *callLog
}

func (a loggedActuator) Stop(ctx context.Context, id string) error {
	a.log.add("stop " + id)
	return a.Actuator.Stop(ctx, id)
}

// A host's own gate and reserver, plain types that are not the built-ins,
// are called as documented: a dry run only evaluates; a run that executes
// checks, reserves before acting, refunds when the provider says nothing
// changed, and treats a decision that is not allowed as a block even
// without an error.
func TestHostGateAndReserver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-blocked", cpu: 0.02}, vm{id: "i-denied", cpu: 0.02}, vm{id: "i-err", cpu: 0.02},
		vm{id: "i-ok", cpu: 0.02}, vm{id: "i-throttled", cpu: 0.02})
	for _, f := range []memory.Fault{
		{Op: memory.OpStop, ResourceID: "i-err", Err: errors.New("api exploded")},
		{Op: memory.OpStop, ResourceID: "i-throttled", Throttle: true},
	} {
		_, err := e.cloud.InjectFault(f)
		require.NoError(t, err)
	}
	log := &callLog{}
	fleet := e.fleet()
	fleet.Actuator = loggedActuator{Actuator: e.cloud, log: log}
	newReaper := func(cfg reaper.Config) *reaper.Reaper {
		r, err := reaper.New(cfg, fleet, e.ensemble, hostGate{log: log},
			reaper.WithClock(e.waitClock()), reaper.WithReserver(&hostReserver{log: log}),
			reaper.WithApprovals(nil), reaper.WithObserver(nil)) // nil means none
		require.NoError(t, err)
		return r
	}

	t.Run("dry run evaluates", func(t *testing.T) {
		rep, err := newReaper(reaper.Config{}).RunOnce(t.Context(), t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"evaluate i-blocked", "evaluate i-denied", "evaluate i-err", "evaluate i-ok", "evaluate i-throttled"},
			log.take(), "a dry run never checks, reserves or acts")
		assert.Equal(t, 4, rep.Totals.WouldAct)
		assert.Equal(t, reaper.OutcomeBlocked, record(t, rep, "i-blocked").Outcome)
	})

	t.Run("execution checks, reserves, acts, refunds", func(t *testing.T) {
		// The clock moves by the run's waits alone: the reservations'
		// time is the run's now (it took under a minute on the clock).
		// With a second per spin, a loaded machine made it 03:03.
		rep, err := e.run(t.Context(), t, newReaper(reaper.Config{Execute: true}), t0)
		require.NoError(t, err)
		assert.Equal(t, []string{
			"check i-blocked",
			"check i-denied", "reserve i-denied down 1 at 03:00:00",
			"check i-err", "reserve i-err down 1 at 03:00:00", "stop i-err",
			"check i-ok", "reserve i-ok down 1 at 03:00:00", "stop i-ok",
			"check i-throttled", "reserve i-throttled down 1 at 03:00:00", "stop i-throttled", "cancel i-throttled #3 at 03:00:00",
		}, log.take())

		blocked := record(t, rep, "i-blocked")
		assert.Equal(t, reaper.OutcomeBlocked, blocked.Outcome, "not allowed without an error still blocks")
		assert.Contains(t, blocked.Reason, "not allowed by the gate")
		assert.Nil(t, blocked.RateLimit)
		denied := record(t, rep, "i-denied")
		assert.Equal(t, reaper.OutcomeRateLimited, denied.Outcome)
		require.NotNil(t, denied.RateLimit)
		assert.Equal(t, ratelimit.Denied, denied.RateLimit.Outcome)
		assert.Equal(t, reaper.OutcomeUnverified, record(t, rep, "i-err").Outcome, "an unknown provider error keeps the budget spent, and is verified")
		ok := record(t, rep, "i-ok")
		assert.Equal(t, reaper.OutcomeActed, ok.Outcome)
		require.NotNil(t, ok.RateLimit)
		assert.Equal(t, uint64(2), ok.RateLimit.ID)
		throttled := record(t, rep, "i-throttled")
		assert.Equal(t, reaper.OutcomeFailed, throttled.Outcome)
		require.ErrorIs(t, throttled.Err(), provider.ErrThrottled)
	})
}

// A nil *ratelimit.Limiter or *approval.Manager handed to the options is
// no collaborator at all, as a nil one was before they took interfaces:
// the reaper acts without a rate limit and without approvals.
func TestNilPointerCollaboratorsMeanNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	var (
		lim       *ratelimit.Limiter
		approvals *approval.Manager
	)
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, e.engine, reaper.WithClock(e.waitClock()),
		reaper.WithReserver(lim), reaper.WithApprovals(approvals))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.String())
	assert.Nil(t, rec.RateLimit)
	require.NoError(t, rep.Err())
}
