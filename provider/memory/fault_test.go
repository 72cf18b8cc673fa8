package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// apiError is a caller-defined error type; an injected one must reach the
// caller with errors.As.
type apiError struct{ code string }

func (e *apiError) Error() string { return "api error " + e.code }

func TestFaultReachesCallerIntact(t *testing.T) {
	t.Parallel()
	boom := &apiError{code: "InternalError"}
	calls := opCalls(t)
	for op, call := range calls {
		t.Run(string(op)+"/error", func(t *testing.T) {
			t.Parallel()
			c, _ := seed(t)
			_, err := c.InjectFault(memory.Fault{Op: op, Err: boom})
			require.NoError(t, err)
			before := len(c.Mutations())
			err = call(c)
			require.ErrorIs(t, err, boom)
			var got *apiError
			require.ErrorAs(t, err, &got)
			assert.Equal(t, "InternalError", got.code)
			assert.Len(t, c.Mutations(), before, "a failed call must not mutate")
		})
		t.Run(string(op)+"/throttle", func(t *testing.T) {
			t.Parallel()
			c, _ := seed(t)
			_, err := c.InjectFault(memory.Fault{Op: op, Throttle: true})
			require.NoError(t, err)
			require.ErrorIs(t, call(c), provider.ErrThrottled)
		})
		t.Run(string(op)+"/default", func(t *testing.T) {
			t.Parallel()
			c, _ := seed(t)
			_, err := c.InjectFault(memory.Fault{Op: op})
			require.NoError(t, err)
			require.ErrorIs(t, call(c), memory.ErrInjected)
		})
	}
}

func TestFaultNthAndTimes(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	ctx := t.Context()
	_, err := c.InjectFault(memory.Fault{Op: memory.OpGet, Nth: 3})
	require.NoError(t, err)
	var errs []bool
	for range 5 {
		_, err := c.Get(ctx, "i-a")
		errs = append(errs, err != nil)
	}
	assert.Equal(t, []bool{false, false, true, false, false}, errs, "Nth fires on the Nth call only")

	c.ClearFaults()
	_, err = c.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: "i-b", Times: 2})
	require.NoError(t, err)
	_, err = c.Get(ctx, "i-a")
	require.NoError(t, err, "a fault for i-b must not touch i-a")
	errs = errs[:0]
	for range 4 {
		_, err := c.Get(ctx, "i-b")
		errs = append(errs, err != nil)
	}
	assert.Equal(t, []bool{true, true, false, false}, errs, "Times limits how often a fault fires")

	id, err := c.InjectFault(memory.Fault{Op: memory.OpGet})
	require.NoError(t, err)
	c.RemoveFault(id)
	_, err = c.Get(ctx, "i-b")
	require.NoError(t, err)

	_, err = c.InjectFault(memory.Fault{Op: memory.OpAdd})
	require.ErrorIs(t, err, provider.ErrInvalid, "add is not injectable")
	_, err = c.InjectFault(memory.Fault{Op: memory.OpGet, Nth: -1})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestFaultPartialSetCapacity(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	ctx := t.Context()
	cause := errors.New("one subnet out of capacity")
	_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Partial: true, Err: cause})
	require.NoError(t, err)
	err = c.SetCapacity(ctx, "web", provider.CapacitySpec{Min: 1, Max: 5, Desired: 5}) // from 2
	require.ErrorIs(t, err, memory.ErrPartial)
	require.ErrorIs(t, err, cause)
	got, err := c.Capacity(ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, 3, got.Desired, "half of the change (+3 → +1) was applied")
	muts := c.Mutations()
	last := muts[len(muts)-1]
	assert.Equal(t, memory.OpSetCapacity, last.Op)
	require.ErrorIs(t, last.Err, memory.ErrPartial, "the log records the partial change with its error")
}

// A partial SetCapacity changed the group: its error says so whatever
// the fault's cause, and never matches a sentinel that says nothing
// changed (provider.ChangedNothing), on which the reaper would release
// its approval and refund its budget for a change it made. With Throttle
// it matched provider.ErrThrottled alone (no ErrPartial), and with a
// sentinel as Err, that sentinel.
func TestFaultPartialSetCapacityChangedSomething(t *testing.T) {
	t.Parallel()
	other := errors.New("one subnet out of capacity")
	for _, f := range []memory.Fault{
		{Throttle: true},
		{Err: provider.ErrConflict},
		{Err: fmt.Errorf("quota: %w", provider.ErrDenied)},
		{Err: other},
		{},
	} {
		c, _ := seed(t)
		f.Op, f.Partial = memory.OpSetCapacity, true
		_, err := c.InjectFault(f)
		require.NoError(t, err)
		err = c.SetCapacity(t.Context(), "web", provider.CapacitySpec{Min: 1, Max: 5, Desired: 5}) // from 2
		require.ErrorIs(t, err, memory.ErrPartial, "%+v", f)
		assert.False(t, provider.ChangedNothing(err), "%+v: %v", f, err)
		if errors.Is(f.Err, other) {
			require.ErrorIs(t, err, other, "a cause that is no sentinel stays matched")
		}
		if f.Throttle {
			assert.Contains(t, err.Error(), "throttled", "the message still says why")
		}
		got, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 3, got.Desired, "%+v: half of the change was applied", f)
	}
	// A throttle without Partial applied nothing: its sentinel stands.
	c, _ := seed(t)
	_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true})
	require.NoError(t, err)
	err = c.SetCapacity(t.Context(), "web", provider.CapacitySpec{Min: 1, Max: 5, Desired: 5})
	require.ErrorIs(t, err, provider.ErrThrottled)
	assert.True(t, provider.ChangedNothing(err))
}

// A partial List is a read: its error matches ErrPartial and the fault's
// throttle (it matched the throttle alone).
func TestFaultPartialThrottledList(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	_, err := c.InjectFault(memory.Fault{Op: memory.OpList, Partial: true, Throttle: true})
	require.NoError(t, err)
	got, err := c.List(t.Context(), provider.Filter{})
	require.ErrorIs(t, err, memory.ErrPartial)
	require.ErrorIs(t, err, provider.ErrThrottled)
	assert.Len(t, got, 3, "half of the 6 resources")
}

func TestFaultPartialList(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	_, err := c.InjectFault(memory.Fault{Op: memory.OpList, Partial: true})
	require.NoError(t, err)
	got, err := c.List(t.Context(), provider.Filter{})
	require.ErrorIs(t, err, memory.ErrPartial)
	assert.Len(t, got, 3, "half of the 6 resources")
}

func TestFaultLatencyOnClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{}) // the real clock, faked by synctest
		require.NoError(t, err)
		require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
		_, err = c.InjectFault(memory.Fault{Op: memory.OpGet, Latency: 3 * time.Second})
		require.NoError(t, err)
		start := c.Now()
		_, err = c.Get(t.Context(), "i")
		require.NoError(t, err, "a latency-only fault delays but succeeds")
		assert.Equal(t, 3*time.Second, c.Now().Sub(start))

		// A deadline shorter than the latency ends the call with the
		// context's error.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err = c.Get(ctx, "i")
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestConcurrentMutationsAreAllLogged(t *testing.T) {
	t.Parallel()
	c, m := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.AddGroup(provider.Resource{ID: "g"}, provider.CapacitySpec{Min: 0, Max: 100, Desired: 0}))
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			assert.NoError(t, c.SetCapacity(ctx, "g", provider.CapacitySpec{Min: 0, Max: 100, Desired: i + 1}))
		})
	}
	wg.Wait()
	muts := c.Mutations()
	require.Len(t, muts, 51) // add + 50 changes
	for i, mu := range muts {
		assert.Equal(t, i+1, mu.Seq)
	}
	m.Add(time.Hour)
	got, err := c.Capacity(ctx, "g")
	require.NoError(t, err)
	assert.Equal(t, got.Desired, got.Current, "capacity settles on the last desired value")
	assert.Equal(t, got.Desired, got.Ready)
}

func cpuQuery() provider.Query {
	return provider.Query{ResourceID: "i-a", Metric: provider.MetricCPU, Start: epoch.Add(-time.Hour), End: epoch, Step: 5 * time.Minute}
}

// TestOpText checks Op's text form: every operation round-trips, "" is
// the unset zero value that Validate refuses, and a misspelt operation is
// refused with an error naming it.
func TestOpText(t *testing.T) {
	t.Parallel()
	ops := []memory.Op{memory.OpList, memory.OpGet, memory.OpQueryMetric, memory.OpStart, memory.OpStop, memory.OpTerminate,
		memory.OpCapacity, memory.OpSetCapacity, memory.OpResize, memory.OpBackups, memory.OpActivity, memory.OpAdd, memory.OpUpdate}
	for _, op := range ops {
		require.NoError(t, op.Validate(), op)
		text, err := op.MarshalText()
		require.NoError(t, err)
		var back memory.Op
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, op, back)
		assert.Equal(t, string(text), op.String())
	}
	require.ErrorIs(t, memory.Op("").Validate(), provider.ErrInvalid)
	op := memory.OpStop
	err := op.UnmarshalText([]byte("reboot"))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "reboot", ie.Value)
	assert.Equal(t, memory.OpStop, op, "a refused value leaves the target unchanged")
	// OpAdd is a valid Op but only appears in the mutation log.
	c, _ := newCloud(t)
	_, err = c.InjectFault(memory.Fault{Op: memory.OpAdd})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// opCalls returns a call of each Cloud operation a Fault can target, on
// the resources seed adds (instance i-a, group web, function fn).
func opCalls(t *testing.T) map[memory.Op]func(*memory.Cloud) error {
	return map[memory.Op]func(*memory.Cloud) error{
		memory.OpList:        func(c *memory.Cloud) error { _, err := c.List(t.Context(), provider.Filter{}); return err },
		memory.OpGet:         func(c *memory.Cloud) error { _, err := c.Get(t.Context(), "i-a"); return err },
		memory.OpQueryMetric: func(c *memory.Cloud) error { _, err := c.QueryMetric(t.Context(), cpuQuery()); return err },
		memory.OpStart:       func(c *memory.Cloud) error { return c.Start(t.Context(), "i-a") },
		memory.OpStop:        func(c *memory.Cloud) error { return c.Stop(t.Context(), "i-a") },
		memory.OpTerminate:   func(c *memory.Cloud) error { return c.Terminate(t.Context(), "i-a") },
		memory.OpCapacity:    func(c *memory.Cloud) error { _, err := c.Capacity(t.Context(), "web"); return err },
		memory.OpSetCapacity: func(c *memory.Cloud) error {
			return c.SetCapacity(t.Context(), "web", provider.CapacitySpec{Min: 1, Max: 5, Desired: 3})
		},
		memory.OpResize: func(c *memory.Cloud) error {
			return c.Resize(t.Context(), "fn", provider.Size{MemoryMiB: 256, Timeout: time.Second})
		},
		memory.OpBackups: func(c *memory.Cloud) error { _, err := c.Backups(t.Context(), "i-a", time.Time{}); return err },
		memory.OpActivity: func(c *memory.Cloud) error {
			_, err := c.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-a", Start: epoch.Add(-time.Hour), End: epoch})
			return err
		},
	}
}

// TestListFaultForOneResourceIsRefused: a List concerns no one resource,
// so a list fault restricted to one (ResourceID) would never fire, and a
// test that injected it to fail a listing passed on a List that
// succeeded; InjectFault refuses it, naming the field.
func TestListFaultForOneResourceIsRefused(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	_, err := c.InjectFault(memory.Fault{Op: memory.OpList, ResourceID: "i-a"})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "fault.resource_id", ie.Field)
	_, err = c.List(t.Context(), provider.Filter{})
	require.NoError(t, err, "no fault was injected")
	_, err = c.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: "i-a"})
	require.NoError(t, err, "a get concerns one resource")
}

// TestFaultForAnInvalidIDIsRefused: every call refuses an ID that
// provider.ValidateID refuses before it reaches the faults, so a fault
// restricted to such an ID (a stray space from a fleet's YAML, say) would
// never fire; InjectFault refuses it, naming the field.
func TestFaultForAnInvalidIDIsRefused(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	_, err := c.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: "i-a "})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "fault.resource_id", ie.Field)
	_, err = c.Get(t.Context(), "i-a")
	require.NoError(t, err, "no fault was injected")
}
