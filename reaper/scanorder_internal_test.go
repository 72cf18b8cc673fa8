package reaper

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
)

// passGate is a Gate that the scan never asks.
type passGate struct{}

func (passGate) Check(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{}, nil
}

func (passGate) Evaluate(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{}, nil
}

// TestMergedScanIsSortedByID pins the order of the scan that reads the
// terminable kinds apart (terminate allowed, an Ensemble): its Verdicts
// and Errors are sorted by resource ID, as detector.Report documents.
// They were the other kinds' followed by the terminable kinds', so an
// instance "b" came before the volumes "a" and "c".
func TestMergedScanIsSortedByID(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 7, 3, 0, 0, 0, time.UTC)
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	kinds := map[string]provider.Kind{
		"a-vol": provider.KindVolume, "b-vm": provider.KindInstance, "c-vol": provider.KindVolume,
		"d-vm": provider.KindInstance, "e-fn": provider.KindFunction,
	}
	var listed []provider.Resource
	for id, k := range kinds {
		res := provider.Resource{ID: id, Kind: k, LaunchTime: now.Add(-60 * 24 * time.Hour)}
		if k == provider.KindInstance {
			res.Size = provider.Size{InstanceType: "m5.large"}
		}
		require.NoError(t, cloud.Add(res))
		got, err := cloud.Get(t.Context(), id)
		require.NoError(t, err)
		listed = append(listed, got)
	}
	// Every metric read fails, so that each resource has an error too.
	failing := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		return provider.Series{}, errors.New("metrics down for " + q.ResourceID)
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	r, err := New(Config{Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}},
		Fleet{Inventory: cloud, Metrics: failing, Activity: cloud}, ens, passGate{})
	require.NoError(t, err)

	// Listed in ID order: the merge alone unsorted them.
	slices.SortFunc(listed, func(a, b provider.Resource) int { return strings.Compare(a.ID, b.ID) })
	rep, err := r.scan(t.Context(), now, listed)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Resources)
	assert.Equal(t, []string{"a-vol", "b-vm", "c-vol", "d-vm", "e-fn"}, verdictIDs(rep.Verdicts), "verdicts by ID")
	require.NotEmpty(t, rep.Errors)
	var errIDs []string
	for _, e := range rep.Errors {
		errIDs = append(errIDs, e.ResourceID)
	}
	assert.True(t, slices.IsSorted(errIDs), "errors by ID: %v", errIDs)
	assert.Subset(t, errIDs, []string{"a-vol", "b-vm", "c-vol", "d-vm", "e-fn"}, "every resource's metric read failed")
}

func verdictIDs(vs []detector.Verdict) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ResourceID
	}
	return out
}
