// Package approvaltest checks implementations of approval.Store against
// the contract written on it, like testing/slogtest does for slog
// handlers.
//
// A store in another package runs the same contract as the in-memory one:
//
//	func TestEtcdStore(t *testing.T) {
//		approvaltest.Run(t, func(t *testing.T) approval.Store {
//			return newEtcdStore(t) // a fresh, empty store per subtest
//		})
//	}
package approvaltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// T0 is the base time of the requests the suite stores (UTC, so values
// round-trip through JSON exactly).
var T0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Request returns a valid pending request with the given ID for resource,
// created at T0 + offset and expiring an hour later. Its proposal carries
// tags, so a store that shares maps with callers is caught.
func Request(id, resource string, offset time.Duration) approval.Request {
	p := safety.Proposal{
		ID:     "p-" + id,
		Action: safety.ActionStop,
		Resource: provider.Resource{
			ID: resource, Kind: provider.KindInstance, State: provider.StateRunning,
			Environment: "production", Tags: map[string]string{"team": "payments"},
		},
		Requester: "reaper",
		Reason:    "idle for 3 days",
		Now:       T0.Add(offset),
	}
	return approval.Request{
		ID:          id,
		State:       approval.Pending,
		Proposal:    p,
		Fingerprint: p.Fingerprint(),
		Requester:   p.Requester,
		Reason:      "critical: production",
		Risk:        safety.RiskHigh,
		Factors:     []string{"critical: environment=production (high)"},
		CreatedAt:   p.Now,
		ExpiresAt:   p.Now.Add(time.Hour),
	}
}

// Run runs the approval.Store contract against stores made by newStore,
// which must return a fresh, empty store for each call (each subtest calls
// it once; subtests run in parallel). There is one subtest per operation
// (create, get, update, list), per transition of the state machine as the
// approval.Manager stores it (including the claim of an approval and its
// release or completion), and for copies, concurrency and cancelled
// contexts.
//
// What it checks: a created request reads back exactly, from Get and from
// List; what Create and Update are given and what Get, Update and List
// return are copies, and fn works on one (what a failing fn changed, in
// the request's maps and slices too, is not stored); a taken ID, even for
// the identical request, returns ErrExists and overwrites nothing, and of
// concurrent Creates of one ID exactly one succeeds; every
// request Request.Validate refuses (empty or malformed ID, unset or
// unknown state, no creation time, expiry at or before creation) returns
// provider.ErrInvalid from Create, and from Update together with a changed
// ID, and stores nothing; unknown IDs return ErrUnknown (Update without
// calling fn); an error of fn is returned as it is and stores nothing;
// concurrent Updates lose none; List filters by state and resource and
// sorts by creation time then ID; a cancelled context fails every method
// with context.Canceled and changes nothing; every transition the Manager
// makes round-trips, is returned by Update, and moves the request between
// the lists of its states, leaving other requests alone.
func Run(t *testing.T, newStore func(t *testing.T) approval.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s approval.Store)
	}{
		{"CreateGetRoundTrip", testCreateGetRoundTrip},
		{"ValuesAreCopies", testValuesAreCopies},
		{"CreateDuplicate", testCreateDuplicate},
		{"CreateConcurrent", testCreateConcurrent},
		{"CreateInvalid", testCreateInvalid},
		{"GetUnknown", testGetUnknown},
		{"Update", testUpdate},
		{"UpdateFuncErrorStoresNothing", testUpdateFuncErrorStoresNothing},
		{"UpdateUnknown", testUpdateUnknown},
		{"UpdateInvalid", testUpdateInvalid},
		{"UpdateIsAtomic", testUpdateIsAtomic},
		{"List", testList},
		{"CancelledContext", testCancelledContext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
	t.Run("Transitions", func(t *testing.T) {
		t.Parallel()
		for _, tr := range transitions {
			t.Run(tr.name, func(t *testing.T) {
				t.Parallel()
				testTransition(t, newStore(t), tr)
			})
		}
	})
}

func testCreateGetRoundTrip(t *testing.T, s approval.Store) {
	want := Request("a1", "i-1", 0)
	require.NoError(t, s.Create(t.Context(), want))
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func testValuesAreCopies(t *testing.T, s approval.Store) {
	req := Request("a1", "i-1", 0)
	require.NoError(t, s.Create(t.Context(), req))
	req.Proposal.Resource.Tags["team"] = "changed-after-create"
	req.Factors[0] = "changed-after-create"
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, "payments", got.Proposal.Resource.Tags["team"])
	assert.Equal(t, "critical: environment=production (high)", got.Factors[0])
	got.Proposal.Resource.Tags["team"] = "changed-after-get"
	again, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, "payments", again.Proposal.Resource.Tags["team"])

	// What Update and List return are copies too.
	updated, err := s.Update(t.Context(), "a1", func(r *approval.Request) error {
		r.Comment = "noted"
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, updated.Factors, "Update returns the stored value")
	updated.Proposal.Resource.Tags["team"] = "changed-after-update"
	updated.Factors[0] = "changed-after-update"
	listed, err := s.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	listed[0].Proposal.Resource.Tags["team"] = "changed-after-list"
	if len(listed[0].Factors) > 0 {
		listed[0].Factors[0] = "changed-after-list"
	}
	again, err = s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, "payments", again.Proposal.Resource.Tags["team"], "changing what Update or List returned changed the stored tags")
	assert.Equal(t, []string{"critical: environment=production (high)"}, again.Factors, "changing what Update or List returned changed the stored factors")
	relisted, err := s.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	require.Len(t, relisted, 1)
	assert.Equal(t, "payments", relisted[0].Proposal.Resource.Tags["team"], "changing what Update or List returned changed the listed tags")
}

func testCreateDuplicate(t *testing.T, s approval.Store) {
	require.NoError(t, s.Create(t.Context(), Request("a1", "i-1", 0)))
	err := s.Create(t.Context(), Request("a1", "i-2", time.Minute))
	require.ErrorIs(t, err, approval.ErrExists)
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, "i-1", got.Proposal.Resource.ID, "a refused Create must not overwrite")
	// An identical request is no exception: a store shared by replicas
	// must not let two of them each believe they created it.
	err = s.Create(t.Context(), Request("a1", "i-1", 0))
	require.ErrorIs(t, err, approval.ErrExists, "creating the identical request again")
}

// testCreateConcurrent creates one ID from several goroutines at once,
// each with its own request: exactly one Create succeeds, the others
// return ErrExists, and the store holds the winner's request. A store
// whose check for a taken ID and write are not one atomic step (a read,
// then an unconditional put) lets two callers each believe they created
// it.
func testCreateConcurrent(t *testing.T, s approval.Store) {
	const creators = 8
	errs := make([]error, creators)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range creators {
		wg.Go(func() {
			<-start
			errs[i] = s.Create(t.Context(), Request("a1", fmt.Sprintf("i-%d", i), 0))
		})
	}
	close(start)
	wg.Wait()
	var winners []int
	for i, err := range errs {
		if err == nil {
			winners = append(winners, i)
			continue
		}
		require.ErrorIs(t, err, approval.ErrExists, "creator %d", i)
	}
	require.Len(t, winners, 1, "exactly one of %d concurrent Creates of one ID succeeds; these did: %v", creators, winners)
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, Request("a1", fmt.Sprintf("i-%d", winners[0]), 0), got, "the store holds the winner's request")
}

func testCreateInvalid(t *testing.T, s approval.Store) {
	tests := []struct {
		name   string
		modify func(*approval.Request)
	}{
		{"empty id", func(r *approval.Request) { r.ID = "" }},
		{"unknown state", func(r *approval.Request) { r.State = "maybe" }},
		{"expiry before creation", func(r *approval.Request) { r.ExpiresAt = r.CreatedAt.Add(-time.Second) }},
		{"expiry at creation", func(r *approval.Request) { r.ExpiresAt = r.CreatedAt }},
		{"no creation time", func(r *approval.Request) { r.CreatedAt = time.Time{} }},
		{"malformed id", func(r *approval.Request) { r.ID = "has space" }},
		{"no state", func(r *approval.Request) { r.State = "" }},
	}
	for i, tt := range tests {
		req := Request(fmt.Sprintf("bad-%d", i), "i-1", 0)
		tt.modify(&req)
		require.ErrorIs(t, s.Create(t.Context(), req), provider.ErrInvalid, tt.name)
	}
	all, err := s.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	assert.Empty(t, all)
}

func testGetUnknown(t *testing.T, s approval.Store) {
	_, err := s.Get(t.Context(), "nope")
	require.ErrorIs(t, err, approval.ErrUnknown)
}

func testUpdate(t *testing.T, s approval.Store) {
	require.NoError(t, s.Create(t.Context(), Request("a1", "i-1", 0)))
	decided := T0.Add(5 * time.Minute)
	got, err := s.Update(t.Context(), "a1", func(r *approval.Request) error {
		r.State, r.DecidedBy, r.DecidedAt = approval.Approved, "alice", decided
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	stored, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, got, stored)
	assert.Equal(t, "alice", stored.DecidedBy)
	assert.True(t, stored.DecidedAt.Equal(decided))
}

func testUpdateFuncErrorStoresNothing(t *testing.T, s approval.Store) {
	want := Request("a1", "i-1", 0)
	require.NoError(t, s.Create(t.Context(), want))
	boom := errors.New("boom")
	_, err := s.Update(t.Context(), "a1", func(r *approval.Request) error {
		r.State = approval.Denied
		// fn works on a copy: what it changes inside the request (its
		// tags, its factors) is not stored either.
		r.Proposal.Resource.Tags["team"] = "changed-by-failed-update"
		if len(r.Factors) > 0 {
			r.Factors[0] = "changed-by-failed-update"
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func testUpdateUnknown(t *testing.T, s approval.Store) {
	called := false
	_, err := s.Update(t.Context(), "nope", func(*approval.Request) error { called = true; return nil })
	require.ErrorIs(t, err, approval.ErrUnknown)
	assert.False(t, called)
}

func testUpdateInvalid(t *testing.T, s approval.Store) {
	want := Request("a1", "i-1", 0)
	require.NoError(t, s.Create(t.Context(), want))
	_, err := s.Update(t.Context(), "a1", func(r *approval.Request) error { r.ID = "a2"; return nil })
	require.ErrorIs(t, err, provider.ErrInvalid, "changing the ID")
	_, err = s.Update(t.Context(), "a1", func(r *approval.Request) error { r.State = "bogus"; return nil })
	require.ErrorIs(t, err, provider.ErrInvalid, "an unknown state")
	_, err = s.Update(t.Context(), "a1", func(r *approval.Request) error { r.ExpiresAt = r.CreatedAt.Add(-time.Second); return nil })
	require.ErrorIs(t, err, provider.ErrInvalid, "an expiry before creation")
	_, err = s.Update(t.Context(), "a1", func(r *approval.Request) error { r.CreatedAt = time.Time{}; return nil })
	require.ErrorIs(t, err, provider.ErrInvalid, "no creation time")
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = s.Get(t.Context(), "a2")
	require.ErrorIs(t, err, approval.ErrUnknown)
}

func testUpdateIsAtomic(t *testing.T, s approval.Store) {
	req := Request("a1", "i-1", 0)
	req.Factors = nil
	require.NoError(t, s.Create(t.Context(), req))
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for k := range each {
				_, err := s.Update(t.Context(), "a1", func(r *approval.Request) error {
					r.Factors = append(r.Factors, fmt.Sprintf("w%d-%d", w, k))
					return nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Len(t, got.Factors, writers*each, "every read-modify-write must survive: no lost updates")
}

func testList(t *testing.T, s approval.Store) {
	// Created out of order; b and c share a creation time.
	for _, r := range []approval.Request{
		Request("c", "i-2", time.Minute),
		Request("a", "i-1", 2*time.Minute),
		Request("b", "i-1", time.Minute),
		Request("d", "i-3", 0),
	} {
		require.NoError(t, s.Create(t.Context(), r))
	}
	_, err := s.Update(t.Context(), "a", func(r *approval.Request) error {
		r.State, r.DecidedBy, r.DecidedAt = approval.Approved, "alice", T0.Add(3*time.Minute)
		return nil
	})
	require.NoError(t, err)
	tests := []struct {
		name string
		give approval.Filter
		want []string
	}{
		{"all", approval.Filter{}, []string{"d", "b", "c", "a"}},
		{"pending", approval.Filter{State: approval.Pending}, []string{"d", "b", "c"}},
		{"approved", approval.Filter{State: approval.Approved}, []string{"a"}},
		{"resource", approval.Filter{ResourceID: "i-1"}, []string{"b", "a"}},
		{"both", approval.Filter{State: approval.Pending, ResourceID: "i-1"}, []string{"b"}},
		{"none", approval.Filter{State: approval.Denied}, nil},
	}
	for _, tt := range tests {
		got, err := s.List(t.Context(), tt.give)
		require.NoError(t, err, tt.name)
		if tt.want == nil {
			assert.Empty(t, ids(got), tt.name)
			continue
		}
		assert.Equal(t, tt.want, ids(got), tt.name)
	}
	// List returns the stored values whole, as Get does.
	all, err := s.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	for _, r := range all {
		stored, err := s.Get(t.Context(), r.ID)
		require.NoError(t, err)
		assert.Equal(t, stored, r, "List returns what Get returns for %q", r.ID)
	}
}

func testCancelledContext(t *testing.T, s approval.Store) {
	require.NoError(t, s.Create(t.Context(), Request("a1", "i-1", 0)))
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, s.Create(cctx, Request("a2", "i-1", 0)), context.Canceled)
	_, err := s.Get(cctx, "a1")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Update(cctx, "a1", func(r *approval.Request) error { r.State = approval.Denied; return nil })
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.List(cctx, approval.Filter{})
	require.ErrorIs(t, err, context.Canceled)
	got, err := s.Get(t.Context(), "a1")
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, got.State)
	_, err = s.Get(t.Context(), "a2")
	require.ErrorIs(t, err, approval.ErrUnknown)
}

func ids(reqs []approval.Request) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, r.ID)
	}
	return out
}
