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
	"github.com/idlescale/idlescale/safety/approval"
)

// TestGroupDownsizeIsNotAResize: the ensemble recommends a downsize of an
// idle group, which for a group means a lower capacity (a scale-in,
// detector.ActionDownsize: "or lower capacity of a group"; the scaling
// package's work), not a smaller size. The reaper, whose downsize is a
// resize, skips it before the Sizer and the gate, saying so: a production
// group is not sent to a person for approval. Before, it asked the Sizer
// for a smaller size of the group, asked for an approval of that resize
// and, once executing, called Resize, which no driver does for a group
// (the memory cloud: unsupported), at every run.
func TestGroupDownsizeIsNotAResize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	require.NoError(t, e.cloud.AddGroup(provider.Resource{ID: "asg-1", Kind: provider.KindGroup, Environment: "production",
		LaunchTime: t0.Add(-30 * 24 * time.Hour), HourlyCost: 0.4, Size: provider.Size{InstanceType: "m5.xlarge"}},
		provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}))
	var samples []provider.Sample
	for at := t0.Add(-15 * 24 * time.Hour); at.Before(t0); at = at.Add(5 * time.Minute) {
		samples = append(samples, provider.Sample{Time: at, Value: 0.02})
	}
	require.NoError(t, e.cloud.AddSamples("asg-1", provider.MetricCPU, samples...))
	require.NoError(t, e.cloud.AddBackup(provider.Backup{ID: "snap", ResourceID: "asg-1", Time: t0.Add(-time.Hour), Complete: true, Verified: true}))
	var sized atomic.Int32
	sizer := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) {
		sized.Add(1)
		return provider.Size{InstanceType: "m5.large"}, nil
	})
	r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "asg-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionDownsize, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.String())
	assert.Equal(t, "a group's downsize is a lower capacity (a scale-in), not a resize: not carried out by the reaper", rec.Reason)
	assert.Empty(t, rec.ApprovalID, "no approval asked for")
	all, err := e.approvals.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	assert.Empty(t, all)
	assert.Zero(t, sized.Load(), "the Sizer was not asked")
	require.NoError(t, rep.Err())
	assert.Empty(t, e.actions())
}
