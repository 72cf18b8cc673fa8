// Package safetytest checks implementations of the safety package's
// interfaces against their written contracts, like testing/slogtest does
// for slog handlers.
//
// A store in another package runs the same contract as the in-memory one:
//
//	func TestEtcdApprovalStore(t *testing.T) {
//		safetytest.RunApprovalStore(t, func(t *testing.T) safety.ApprovalStore {
//			return newEtcdStore(t) // a fresh, empty store per subtest
//		})
//	}
package safetytest

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
)

// T0 is the base time of the requests the suite stores (UTC, so values
// round-trip through JSON exactly).
var T0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Request returns a valid pending request with the given ID for resource,
// created at T0 + offset and expiring an hour later. Its proposal carries
// tags, so a store that shares maps with callers is caught.
func Request(id, resource string, offset time.Duration) safety.ApprovalRequest {
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
	return safety.ApprovalRequest{
		ID:          id,
		State:       safety.ApprovalPending,
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

// RunApprovalStore runs the ApprovalStore contract against stores made by
// newStore, which must return a fresh, empty store for each call (each
// subtest calls it once; subtests run in parallel).
func RunApprovalStore(t *testing.T, newStore func(t *testing.T) safety.ApprovalStore) {
	t.Helper()
	ctx := func(t *testing.T) context.Context { return t.Context() }

	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := Request("a1", "i-1", 0)
		require.NoError(t, s.Create(ctx(t), want))
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})

	t.Run("ValuesAreCopies", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		req := Request("a1", "i-1", 0)
		require.NoError(t, s.Create(ctx(t), req))
		req.Proposal.Resource.Tags["team"] = "changed-after-create"
		req.Factors[0] = "changed-after-create"
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, "payments", got.Proposal.Resource.Tags["team"])
		assert.Equal(t, "critical: environment=production (high)", got.Factors[0])
		got.Proposal.Resource.Tags["team"] = "changed-after-get"
		again, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, "payments", again.Proposal.Resource.Tags["team"])
	})

	t.Run("CreateDuplicate", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.Create(ctx(t), Request("a1", "i-1", 0)))
		err := s.Create(ctx(t), Request("a1", "i-2", time.Minute))
		require.ErrorIs(t, err, safety.ErrApprovalExists)
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, "i-1", got.Proposal.Resource.ID, "a refused Create must not overwrite")
	})

	t.Run("CreateInvalid", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tests := []struct {
			name   string
			modify func(*safety.ApprovalRequest)
		}{
			{"empty id", func(r *safety.ApprovalRequest) { r.ID = "" }},
			{"unknown state", func(r *safety.ApprovalRequest) { r.State = "maybe" }},
			{"expiry before creation", func(r *safety.ApprovalRequest) { r.ExpiresAt = r.CreatedAt.Add(-time.Second) }},
		}
		for i, tt := range tests {
			req := Request(fmt.Sprintf("bad-%d", i), "i-1", 0)
			tt.modify(&req)
			require.ErrorIs(t, s.Create(ctx(t), req), provider.ErrInvalid, tt.name)
		}
		all, err := s.List(ctx(t), safety.ApprovalFilter{})
		require.NoError(t, err)
		assert.Empty(t, all)
	})

	t.Run("GetUnknown", func(t *testing.T) {
		t.Parallel()
		_, err := newStore(t).Get(ctx(t), "nope")
		require.ErrorIs(t, err, safety.ErrUnknownApproval)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.Create(ctx(t), Request("a1", "i-1", 0)))
		decided := T0.Add(5 * time.Minute)
		got, err := s.Update(ctx(t), "a1", func(r *safety.ApprovalRequest) error {
			r.State, r.DecidedBy, r.DecidedAt = safety.ApprovalApproved, "alice", decided
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, safety.ApprovalApproved, got.State)
		stored, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, got, stored)
		assert.Equal(t, "alice", stored.DecidedBy)
		assert.True(t, stored.DecidedAt.Equal(decided))
	})

	t.Run("UpdateFuncErrorStoresNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := Request("a1", "i-1", 0)
		require.NoError(t, s.Create(ctx(t), want))
		boom := errors.New("boom")
		_, err := s.Update(ctx(t), "a1", func(r *safety.ApprovalRequest) error {
			r.State = safety.ApprovalDenied
			return boom
		})
		require.ErrorIs(t, err, boom)
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})

	t.Run("UpdateUnknown", func(t *testing.T) {
		t.Parallel()
		called := false
		_, err := newStore(t).Update(ctx(t), "nope", func(*safety.ApprovalRequest) error { called = true; return nil })
		require.ErrorIs(t, err, safety.ErrUnknownApproval)
		assert.False(t, called)
	})

	t.Run("UpdateInvalid", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := Request("a1", "i-1", 0)
		require.NoError(t, s.Create(ctx(t), want))
		_, err := s.Update(ctx(t), "a1", func(r *safety.ApprovalRequest) error { r.ID = "a2"; return nil })
		require.ErrorIs(t, err, provider.ErrInvalid, "changing the ID")
		_, err = s.Update(ctx(t), "a1", func(r *safety.ApprovalRequest) error { r.State = "bogus"; return nil })
		require.ErrorIs(t, err, provider.ErrInvalid, "an unknown state")
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, want, got)
		_, err = s.Get(ctx(t), "a2")
		require.ErrorIs(t, err, safety.ErrUnknownApproval)
	})

	t.Run("UpdateIsAtomic", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		req := Request("a1", "i-1", 0)
		req.Factors = nil
		require.NoError(t, s.Create(ctx(t), req))
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for k := range each {
					_, err := s.Update(ctx(t), "a1", func(r *safety.ApprovalRequest) error {
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
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Len(t, got.Factors, writers*each, "every read-modify-write must survive: no lost updates")
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Created out of order; b and c share a creation time.
		for _, r := range []safety.ApprovalRequest{
			Request("c", "i-2", time.Minute),
			Request("a", "i-1", 2*time.Minute),
			Request("b", "i-1", time.Minute),
			Request("d", "i-3", 0),
		} {
			require.NoError(t, s.Create(ctx(t), r))
		}
		_, err := s.Update(ctx(t), "a", func(r *safety.ApprovalRequest) error {
			r.State, r.DecidedBy, r.DecidedAt = safety.ApprovalApproved, "alice", T0.Add(3*time.Minute)
			return nil
		})
		require.NoError(t, err)
		tests := []struct {
			name string
			give safety.ApprovalFilter
			want []string
		}{
			{"all", safety.ApprovalFilter{}, []string{"d", "b", "c", "a"}},
			{"pending", safety.ApprovalFilter{State: safety.ApprovalPending}, []string{"d", "b", "c"}},
			{"approved", safety.ApprovalFilter{State: safety.ApprovalApproved}, []string{"a"}},
			{"resource", safety.ApprovalFilter{ResourceID: "i-1"}, []string{"b", "a"}},
			{"both", safety.ApprovalFilter{State: safety.ApprovalPending, ResourceID: "i-1"}, []string{"b"}},
			{"none", safety.ApprovalFilter{State: safety.ApprovalDenied}, nil},
		}
		for _, tt := range tests {
			got, err := s.List(ctx(t), tt.give)
			require.NoError(t, err, tt.name)
			ids := make([]string, 0, len(got))
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if tt.want == nil {
				assert.Empty(t, ids, tt.name)
				continue
			}
			assert.Equal(t, tt.want, ids, tt.name)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.Create(ctx(t), Request("a1", "i-1", 0)))
		cctx, cancel := context.WithCancel(ctx(t))
		cancel()
		require.ErrorIs(t, s.Create(cctx, Request("a2", "i-1", 0)), context.Canceled)
		_, err := s.Get(cctx, "a1")
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Update(cctx, "a1", func(r *safety.ApprovalRequest) error { r.State = safety.ApprovalDenied; return nil })
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.List(cctx, safety.ApprovalFilter{})
		require.ErrorIs(t, err, context.Canceled)
		got, err := s.Get(ctx(t), "a1")
		require.NoError(t, err)
		assert.Equal(t, safety.ApprovalPending, got.State)
		_, err = s.Get(ctx(t), "a2")
		require.ErrorIs(t, err, safety.ErrUnknownApproval)
	})
}
