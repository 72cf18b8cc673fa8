package approval_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
)

func TestRequestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	// A shared store (etcd) keeps requests as JSON; they must round-trip.
	req := approvaltest.Request("a1", "i-1", 0)
	req.State, req.DecidedBy, req.DecidedAt = approval.Approved, "alice", approvaltest.T0.Add(time.Minute)
	req.Proposal.Action = safety.ActionScaleIn
	req.Proposal.Current = provider.CapacitySpec{Min: 1, Max: 9, Desired: 6}
	req.Proposal.Target = provider.CapacitySpec{Min: 1, Max: 9, Desired: 4}
	req.Fingerprint = req.Proposal.Fingerprint()
	b, err := json.Marshal(req)
	require.NoError(t, err)
	var back approval.Request
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, req, back)
	assert.Equal(t, req.Fingerprint, back.Proposal.Fingerprint())
}

func TestStateText(t *testing.T) {
	t.Parallel()
	for _, s := range []approval.State{approval.Pending, approval.Approved, approval.Denied,
		approval.Expired, approval.Cancelled, approval.Executed, approval.Executing} {
		require.NoError(t, s.Validate())
		assert.Equal(t, string(s), s.String())
		b, err := s.MarshalText()
		require.NoError(t, err)
		var back approval.State
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, s, back)
		assert.Equal(t, s != approval.Pending && s != approval.Approved && s != approval.Executing, s.Final())
	}
	var ie *provider.InvalidError
	require.ErrorAs(t, approval.State("").Validate(), &ie, "unset is not a state a request can be in")
	assert.Equal(t, "state", ie.Field)
	_, err := approval.State("maybe").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	b, err := approval.State("").MarshalText()
	require.NoError(t, err)
	assert.Empty(t, b)

	s := approval.Approved
	require.ErrorAs(t, s.UnmarshalText([]byte("maybe")), &ie)
	assert.Equal(t, "maybe", ie.Value)
	assert.Equal(t, approval.Approved, s, "a refused value leaves the state unchanged")
	require.NoError(t, s.UnmarshalText(nil))
	assert.Equal(t, approval.State(""), s)

	var f approval.Filter
	require.ErrorIs(t, json.Unmarshal([]byte(`{"state":"approvd"}`), &f), provider.ErrInvalid)
}

func TestApprovalRace(t *testing.T) {
	t.Parallel()
	// Approve and Deny race; exactly one wins and the audit has one
	// decision event.
	for round := range 20 {
		s := newSetup(t)
		req := s.request(t, s.proposal())
		now := s.clock.Now()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { _, errs[0] = s.approvals.Approve(t.Context(), req.ID, "alice", now, "") })
		wg.Go(func() { _, errs[1] = s.approvals.Deny(t.Context(), req.ID, "bob", now, "") })
		wg.Wait()
		require.NotEqual(t, errs[0] == nil, errs[1] == nil, "round %d: exactly one wins: %v", round, errs)
		loser := errs[0]
		if loser == nil {
			loser = errs[1]
		}
		require.ErrorIs(t, loser, approval.ErrTransition)
		assert.Len(t, s.log.Events(), 2)
	}
}

func TestApprovalExpiredInEngine(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	s.clock.Add(time.Hour) // TTL is 1h
	p.ApprovalID, p.Now = req.ID, s.clock.Now()
	d, err := s.engine.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.False(t, d.Approved)
	assert.Contains(t, d.ApprovalReason, "expired")
}

// A Manager declared as a zero value has no store: every method returns an
// error naming it instead of a nil-pointer panic.
func TestZeroManagerFails(t *testing.T) {
	t.Parallel()
	var a approval.Manager
	now := time.Date(2026, 3, 28, 3, 0, 0, 0, time.UTC)
	p := safety.Proposal{Action: safety.ActionStop, Requester: "reaper", Now: now,
		Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance}}
	check := func(t *testing.T, err error) {
		t.Helper()
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "manager", ie.Field)
	}
	var nilManager *approval.Manager
	require.NotPanics(t, func() { check(t, nilManager.Verify(t.Context(), "id", p)) })
	// An engine wired with a nil *Manager fails closed: the approval is not
	// valid, the proposal keeps waiting.
	eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("owner", safety.Result{Outcome: safety.RequireApproval, Reason: "owner"})},
		safety.WithApprovals(nilManager))
	require.NoError(t, err)
	p.ApprovalID = "id"
	_, err = eng.Evaluate(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	p.ApprovalID = ""
	require.NotPanics(t, func() {
		_, err := a.Request(t.Context(), p, safety.Decision{}, "why")
		check(t, err)
		_, err = a.Approve(t.Context(), "id", "alice", now, "")
		check(t, err)
		_, err = a.Deny(t.Context(), "id", "alice", now, "")
		check(t, err)
		_, err = a.Cancel(t.Context(), "id", "bob", now, "")
		check(t, err)
		_, err = a.Execute(t.Context(), "id", p)
		check(t, err)
		check(t, a.Verify(t.Context(), "id", p))
		_, err = a.Get(t.Context(), "id")
		check(t, err)
		_, err = a.List(t.Context(), approval.Filter{})
		check(t, err)
		_, err = a.Expire(t.Context(), now)
		check(t, err)
	})
}

// A nil AuditorFunc is a non-nil interface whose call panics; New refuses
// it, naming the field.
func TestNewRefusesNilAuditorFunc(t *testing.T) {
	t.Parallel()
	_, err := approval.New(approval.Config{}, approval.NewMemoryStore(), approval.WithAuditor(safety.AuditorFunc(nil)))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "auditor", ie.Field)
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	m, err := approval.New(approval.Config{}, approval.NewMemoryStore())
	require.NoError(t, err)
	p := scale("g-1", 6, 4)
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.RequireApproval, ApprovalRequired: true,
		Fingerprint: p.Fingerprint()}
	req, err := m.Request(t.Context(), p, d, "")
	require.NoError(t, err)
	assert.Equal(t, p.Now.Add(approval.DefaultTTL), req.ExpiresAt)
	assert.Equal(t, 4*time.Hour, approval.DefaultTTL)

	listed, err := m.List(t.Context(), approval.Filter{ResourceID: "g-1"})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	assert.Equal(t, req, listed[0])

	var ie *provider.InvalidError
	_, err = approval.New(approval.Config{TTL: -time.Second}, approval.NewMemoryStore())
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "ttl", ie.Field)
	_, err = approval.New(approval.Config{}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "store", ie.Field)
}

// Validate names each field a store relies on, whatever the others hold.
func TestRequestValidate(t *testing.T) {
	t.Parallel()
	ok := approval.Request{ID: "apr-1", State: approval.Pending, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	require.NoError(t, ok.Validate())
	for field, change := range map[string]func(*approval.Request){
		"approval.id":         func(r *approval.Request) { r.ID = "" },
		"approval.id ":        func(r *approval.Request) { r.ID = "apr 1" },
		"approval.state":      func(r *approval.Request) { r.State = "granted" },
		"approval.created_at": func(r *approval.Request) { r.CreatedAt = time.Time{} },
		"approval.expires_at": func(r *approval.Request) { r.ExpiresAt = r.CreatedAt }, // not after it
	} {
		r := ok
		change(&r)
		var ie *provider.InvalidError
		require.ErrorAs(t, r.Validate(), &ie, field)
		assert.Equal(t, strings.TrimSpace(field), ie.Field)
	}
	ok.ExpiresAt = t0.Add(time.Nanosecond)
	require.NoError(t, ok.Validate(), "a nanosecond after is after")
}

// failingUpdates is a store whose updates of one request fail.
type failingUpdates struct {
	approval.Store
	id  string
	err error
}

func (f failingUpdates) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	if id == f.id {
		return approval.Request{}, f.err
	}
	return f.Store.Update(ctx, id, fn)
}

// Expire goes on past a request it cannot update, expires the others and
// reports the failure.
func TestExpireGoesOnPastAFailure(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	a := s.request(t, s.proposal())
	p := s.proposal()
	p.Resource.ID = "g-2"
	b := s.request(t, p)
	down := errors.New("store down")
	apps, err := approval.New(approval.Config{TTL: time.Hour}, failingUpdates{Store: s.store, id: a.ID, err: down})
	require.NoError(t, err)
	got, err := apps.Expire(t.Context(), b.ExpiresAt)
	require.ErrorIs(t, err, down)
	require.Len(t, got, 1)
	assert.Equal(t, b.ID, got[0].ID)
	left, err := s.store.Get(t.Context(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, left.State, "not expired: its update failed")
}

// Sort orders by CreatedAt, then ID; an update may not change the ID.
func TestSortAndFixedID(t *testing.T) {
	t.Parallel()
	reqs := []approval.Request{{ID: "b", CreatedAt: t0}, {ID: "c", CreatedAt: t0.Add(-time.Second)}, {ID: "a", CreatedAt: t0}}
	approval.Sort(reqs)
	assert.Equal(t, []string{"c", "a", "b"}, []string{reqs[0].ID, reqs[1].ID, reqs[2].ID})

	s := approval.NewMemoryStore()
	require.NoError(t, s.Create(t.Context(), approval.Request{ID: "apr-1", State: approval.Pending, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	_, err := s.Update(t.Context(), "apr-1", func(r *approval.Request) error { r.ID = "apr-2"; return nil })
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "approval.id", ie.Field)
	assert.ErrorContains(t, err, "must not change (was apr-1)")
}

// A nil pointer as the store or the auditor (a nil *MemoryStore, a nil
// *safety.AuditLog) is refused by New, naming it: it passed New, and the
// first request panicked, after storing the request in the auditor's
// case.
func TestNewRefusesTypedNilCollaborators(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		field string
		store approval.Store
		opts  []approval.Option
	}{
		{"store", (*approval.MemoryStore)(nil), nil},
		{"auditor", approval.NewMemoryStore(), []approval.Option{approval.WithAuditor((*safety.AuditLog)(nil))}},
	} {
		s := newSetup(t)
		p := s.proposal()
		d, err := s.engine.Check(t.Context(), p)
		require.ErrorIs(t, err, safety.ErrApprovalRequired)
		var m *approval.Manager
		require.NotPanics(t, func() {
			m, err = approval.New(approval.Config{}, tt.store, tt.opts...)
			if err == nil {
				_, err = m.Request(t.Context(), p, d, "")
			}
		}, tt.field)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
		assert.Nil(t, m, tt.field)
	}
}

// nilStore is a broken Store whose Update calls fn without a request.
type nilStore struct{ *approval.MemoryStore }

func (nilStore) Update(_ context.Context, _ string, fn func(*approval.Request) error) (approval.Request, error) {
	return approval.Request{}, fn(nil)
}

// A Store whose Update calls fn without a request (nil) fails the
// transition with an error naming the store: the Manager read the nil
// request and panicked.
func TestStoreThatPassesNoRequestFails(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	broken, err := approval.New(approval.Config{}, nilStore{s.store})
	require.NoError(t, err)
	require.NotPanics(t, func() { _, err = broken.Execute(t.Context(), req.ID, p) })
	require.ErrorContains(t, err, "no request")
	require.NotPanics(t, func() { _, err = broken.Expire(t.Context(), req.ExpiresAt) })
	require.ErrorContains(t, err, "no request")
	got, err := s.approvals.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State, "nothing changed")
}

// failingList is a Store whose List fails for one state.
type failingList struct {
	approval.Store
	state approval.State
	err   error
}

func (f failingList) List(ctx context.Context, filter approval.Filter) ([]approval.Request, error) {
	if filter.State == f.state {
		return nil, f.err
	}
	return f.Store.List(ctx, filter)
}

// Expire goes on past a listing that fails, and reports it with what it
// met before: it returned at the failed listing with that error alone, so
// an expiry it had stored but not audited went unreported, and executing
// requests past their expiry were left for the next sweep.
func TestExpireGoesOnPastAFailedListing(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	pending := s.request(t, s.proposal())
	p, executing := s.approved(t)
	_, err := s.approvals.Claim(t.Context(), executing.ID, p)
	require.NoError(t, err)

	down := errors.New("list down")
	lost := errors.New("audit down")
	apps, err := approval.New(approval.Config{TTL: time.Hour}, failingList{Store: s.store, state: approval.Approved, err: down},
		approval.WithAuditor(safety.AuditorFunc(func(context.Context, safety.AuditEvent) error { return lost })))
	require.NoError(t, err)
	got, err := apps.Expire(t.Context(), executing.ExpiresAt)
	require.ErrorIs(t, err, down)
	require.ErrorIs(t, err, safety.ErrAudit, "the expiries were stored but not audited")
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	assert.ElementsMatch(t, []string{pending.ID, executing.ID}, ids)
}
