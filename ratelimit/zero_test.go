package ratelimit_test

import (
	"context"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// A Limiter declared as a zero value instead of made by New has no
// policy, store or clock: every method returns an error naming it (and a
// denied reservation) instead of panicking.
func TestZeroLimiterFails(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]*ratelimit.Limiter{"zero": new(ratelimit.Limiter), "nil": nil} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkUnmade(t, l)
		})
	}
}

func checkUnmade(t *testing.T, l *ratelimit.Limiter) {
	t.Helper()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	check := func(t *testing.T, err error) {
		t.Helper()
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "limiter", ie.Field)
	}
	require.NotPanics(t, func() {
		r, err := l.ReserveAt(t.Context(), now, req)
		check(t, err)
		assert.False(t, r.OK())
		r, err = l.Reserve(t.Context(), req)
		check(t, err)
		assert.False(t, r.OK())
		r, err = l.Wait(t.Context(), req)
		check(t, err)
		assert.False(t, r.OK())
		granted := ratelimit.Reservation{ID: 1, Outcome: ratelimit.Allowed, Granted: 1, Request: req, At: now}
		check(t, l.CancelAt(t.Context(), now, granted))
		check(t, l.Cancel(t.Context(), granted))
		_, err = l.StatsAt(t.Context(), now)
		check(t, err)
		_, err = l.Stats(t.Context())
		check(t, err)
	})
}

// WithStore with a nil *MemoryStore means the default, like WithStore(nil).
func TestWithNilMemoryStore(t *testing.T) {
	t.Parallel()
	var ms *ratelimit.MemoryStore
	l, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(ms))
	require.NoError(t, err)
	var r ratelimit.Reservation
	require.NotPanics(t, func() {
		r, err = l.ReserveAt(t.Context(), time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
	})
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Allowed, r.Outcome)
}

// ptrStore is a Store with pointer methods that read their receiver, as
// etcdstore.Store's do.
type ptrStore struct{ inner *ratelimit.MemoryStore }

func (s *ptrStore) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	return s.inner.Update(ctx, keys, fn)
}

func (s *ptrStore) Snapshot(ctx context.Context) ([]ratelimit.Bucket, error) {
	return s.inner.Snapshot(ctx)
}

// A nil pointer of another Store type (a nil *etcdstore.Store) or of a
// Clock is refused by New, naming it: it passed New and panicked on the
// first reservation. (A nil *MemoryStore still means the default.)
func TestNewRefusesTypedNilCollaborators(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		field string
		opt   ratelimit.Option
	}{
		{"store", ratelimit.WithStore((*ptrStore)(nil))},
		{"clock", ratelimit.WithClock((*bclock.Mock)(nil))},
	} {
		var l *ratelimit.Limiter
		var err error
		require.NotPanics(t, func() {
			l, err = ratelimit.New(ratelimit.Config{}, tt.opt)
			if err == nil {
				_, err = l.Reserve(t.Context(), ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
			}
		}, tt.field)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
		assert.Nil(t, l, tt.field)
	}
}
