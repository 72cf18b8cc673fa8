package reaper_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// typeOnly is the memory cloud's inventory reporting an instance's size
// as its type alone, as the AWS driver does (EC2 describes the type, not
// its memory).
type typeOnly struct{ *memory.Cloud }

func typeAlone(r provider.Resource) provider.Resource {
	if r.Size.InstanceType != "" {
		r.Size = provider.Size{InstanceType: r.Size.InstanceType}
	}
	return r
}

func (c typeOnly) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := c.Cloud.Get(ctx, id)
	return typeAlone(r), err
}

func (c typeOnly) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := c.Cloud.List(ctx, f)
	for i := range rs {
		rs[i] = typeAlone(rs[i])
	}
	return rs, err
}

// TestDownsizeVerifiedOnADriverReportingTheTypeAlone: a host's Sizer
// that names the smaller instance type with its vCPUs and memory (from a
// catalogue such as memory.LookupInstanceType) downsizes an instance of
// a driver that reports the type alone (the AWS driver): the type decides
// the vCPUs and memory, so the resize is verified once the type is the
// target's, as the scaling engine verifies its resizes. Requiring the
// memory too, the reaper never verified it (unverified after its timeout)
// although the instance had been resized.
func TestDownsizeVerifiedOnADriverReportingTheTypeAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-low", cpu: 0.25, itype: "m5.xlarge"})
	sizer := reaper.SizerFunc(func(_ context.Context, r provider.Resource) (provider.Size, error) {
		if r.Size.InstanceType != "m5.xlarge" {
			return provider.Size{}, provider.ErrUnsupported
		}
		t, _ := memory.LookupInstanceType("m5.large")
		return provider.Size{InstanceType: t.Name, VCPU: t.VCPU, MemoryMiB: t.MemoryMiB}, nil
	})
	inv := typeOnly{e.cloud}
	r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}},
		reaper.Fleet{Inventory: inv, Metrics: e.cloud, Resizer: e.cloud}, e.ensemble, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history), reaper.WithSizer(sizer))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-low")
	got, err := inv.Get(t.Context(), "i-low")
	require.NoError(t, err)
	require.Equal(t, "m5.large", got.Size.InstanceType, "resized")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.String())
}

// TestDownsizeToTheCurrentSizeNotActed: a Sizer that names the size the
// instance already has (a catalogue with nothing smaller that answers
// with the type it was given, or the type alone with the vCPUs and memory
// the driver reports) asks for no change: the record is skipped before
// the gate, saying so, and nothing is resized, counted in the history or
// reported as saved. Before, the reaper resized to the same size (which
// changes nothing, by the Resizer's contract), verified it at once and
// reported "acted (resize): resize verified" with the verdict's monthly
// saving realised, at every run, each one counted against the fleet's
// limits and the rate limit.
func TestDownsizeToTheCurrentSizeNotActed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give func(provider.Size) provider.Size
	}{
		{name: "the same size", give: func(s provider.Size) provider.Size { return s }},
		{name: "its type alone", give: func(s provider.Size) provider.Size { return provider.Size{InstanceType: s.InstanceType} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-low", cpu: 0.25, itype: "m5.large"})
			sizer := reaper.SizerFunc(func(_ context.Context, r provider.Resource) (provider.Size, error) {
				return tt.give(r.Size), nil
			})
			var resizes atomic.Int32
			fleet := e.fleet()
			fleet.Resizer = provider.ResizerFunc(func(ctx context.Context, id string, size provider.Size) error {
				resizes.Add(1)
				return e.cloud.Resize(ctx, id, size)
			})
			r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, fleet, e.ensemble, e.engine,
				reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history), reaper.WithSizer(sizer))
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			rec := record(t, rep, "i-low")
			require.NotNil(t, rec.Verdict)
			require.Equal(t, detector.ActionDownsize, rec.Verdict.Action, "%v", rec.Verdict.Explain())
			assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.String())
			assert.Equal(t, "already at the target size m5.large: nothing to resize", rec.Reason)
			assert.Nil(t, rec.Decision, "the gate was not asked")
			assert.False(t, rec.Verified)
			assert.Zero(t, rep.Totals.RealisedMonthlySavings)
			assert.Zero(t, rep.Totals.EstimatedMonthlySavings)
			assert.Zero(t, resizes.Load(), "the Resizer was not called")
			n, err := e.history.ActedOn(t.Context(), "i-low", t0.Add(-time.Hour))
			require.NoError(t, err)
			assert.Zero(t, n, "nothing counted against the limits")
		})
	}
}
