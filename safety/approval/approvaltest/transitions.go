package approvaltest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/safety/approval"
)

// step is one state change as the approval.Manager stores it: the fields
// it sets on the request, at T0 + at.
type step struct {
	to approval.State
	at time.Duration
}

// apply sets what the Manager sets for a move to s.to.
func (s step) apply(r *approval.Request) {
	at := T0.Add(s.at)
	from := r.State
	r.State = s.to
	switch s.to {
	case approval.Approved:
		if from == approval.Executing { // released: the claim is cleared
			r.ClaimedBy, r.ClaimedAt = "", time.Time{}
			return
		}
		r.DecidedBy, r.DecidedAt, r.Comment = "alice", at, "ok for tonight"
	case approval.Executing:
		r.ClaimedBy, r.ClaimedAt = "reaper", at
	case approval.Denied, approval.Cancelled:
		r.DecidedBy, r.DecidedAt, r.Comment, r.ClosedAt = "bob", at, "not now", at
	case approval.Executed, approval.Expired:
		r.ClosedAt = at
	}
}

// transition is a path through the state machine from pending; the last
// step is the transition under test.
type transition struct {
	name  string
	steps []step
}

// transitions are the arrows of the state machine drawn on approval.State.
var transitions = []transition{
	{"pending_to_approved", []step{{approval.Approved, 5 * time.Minute}}},
	{"pending_to_denied", []step{{approval.Denied, 5 * time.Minute}}},
	{"pending_to_cancelled", []step{{approval.Cancelled, 5 * time.Minute}}},
	{"pending_to_expired", []step{{approval.Expired, time.Hour}}},
	{"approved_to_cancelled", []step{{approval.Approved, 5 * time.Minute}, {approval.Cancelled, 10 * time.Minute}}},
	{"approved_to_executed", []step{{approval.Approved, 5 * time.Minute}, {approval.Executed, 10 * time.Minute}}},
	{"approved_to_expired", []step{{approval.Approved, 5 * time.Minute}, {approval.Expired, time.Hour}}},
	{"approved_to_executing", []step{{approval.Approved, 5 * time.Minute}, {approval.Executing, 10 * time.Minute}}},
	{"executing_to_executed", []step{{approval.Approved, 5 * time.Minute}, {approval.Executing, 10 * time.Minute},
		{approval.Executed, 11 * time.Minute}}},
	{"executing_to_approved", []step{{approval.Approved, 5 * time.Minute}, {approval.Executing, 10 * time.Minute},
		{approval.Approved, 11 * time.Minute}}},
	{"executing_to_expired", []step{{approval.Approved, 5 * time.Minute}, {approval.Executing, 10 * time.Minute},
		{approval.Expired, time.Hour}}},
	// The outcome of a claim reported after Expire swept it (Complete).
	{"expired_to_executed", []step{{approval.Approved, 5 * time.Minute}, {approval.Executing, 10 * time.Minute},
		{approval.Expired, time.Hour}, {approval.Executed, time.Hour + time.Second}}},
}

// testTransition stores each step of tr with Update and checks that the
// store returns, keeps and lists the request in its new state, with the
// times and names the Manager set, and no longer lists it in the old one.
func testTransition(t *testing.T, s approval.Store, tr transition) {
	ctx := t.Context()
	want := Request("a1", "i-1", 0)
	require.NoError(t, s.Create(ctx, want))
	require.NoError(t, s.Create(ctx, Request("other", "i-2", 0)), "a bystander the transitions must not touch")
	for _, st := range tr.steps {
		from := want.State
		st.apply(&want)
		got, err := s.Update(ctx, "a1", func(r *approval.Request) error {
			require.Equal(t, from, r.State, "Update passes the stored value to fn")
			st.apply(r)
			return nil
		})
		require.NoError(t, err, "%s → %s", from, st.to)
		assert.Equal(t, want, got, "Update returns the stored value")
		stored, err := s.Get(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, want, stored, "%s → %s round-trips", from, st.to)
		assert.Equal(t, st.to.Final(), !stored.ClosedAt.IsZero(), "final states record when they closed")

		now, err := s.List(ctx, approval.Filter{State: st.to})
		require.NoError(t, err)
		assert.Equal(t, []string{"a1"}, ids(now), "listed as %s", st.to)
		before, err := s.List(ctx, approval.Filter{State: from})
		require.NoError(t, err)
		assert.NotContains(t, ids(before), "a1", "no longer listed as %s", from)
	}
	other, err := s.Get(ctx, "other")
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, other.State)
}
