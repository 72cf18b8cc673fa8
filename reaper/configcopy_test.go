package reaper_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// copyConfig returns a configuration with every slice and map set, each
// made afresh: the actions allowed and every field of the filter.
func copyConfig() reaper.Config {
	return reaper.Config{
		Actions: []detector.Action{detector.ActionStop},
		Filter: provider.Filter{
			IDs: []string{"i-1", "fn-1"}, Kinds: []provider.Kind{provider.KindInstance, provider.KindFunction},
			States: []provider.State{provider.StateRunning}, InstanceTypes: []string{"m5.large"},
			Tags: map[string]string{"team": ""},
		},
	}
}

// scribbleConfig changes, in place, every slice element and map of c.
func scribbleConfig(c *reaper.Config) {
	c.Actions[0] = detector.ActionTerminate
	c.Filter.IDs[0] = "i-other"
	c.Filter.Kinds[0] = provider.KindVolume
	c.Filter.States[0] = provider.StateStopped
	c.Filter.InstanceTypes[0] = "t3.nano"
	c.Filter.Tags["team"] = "other"
	c.Filter.Tags["new"] = ""
}

// TestConfigIsACopyBothWays: a Reaper shares no slice or map of its
// Config with its caller, as a detector.Ensemble shares none of its own
// (89d8cb7): a caller that changes the Config it passed to New (one
// Config struct reused for a second reaper) or the one Config returned
// changes neither the running reaper's Config nor what it does. Before,
// New kept the caller's Actions and Filter and Config handed out the
// Filter: a caller turning its copy's stop into terminate for another
// reaper made this one terminate (a dry run here would terminate an
// instance, outside the actions it was made with and checked for), and a
// change of the filter changed what it listed, racing with its runs.
func TestConfigIsACopyBothWays(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02, tags: map[string]string{"team": "a"}})
	always := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 1, Action: detector.ActionTerminate}, nil
	})
	cfg := copyConfig()
	r, err := reaper.New(cfg, e.fleet(), always, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	kept := r.Config()

	scribbleConfig(&cfg)
	assert.Equal(t, kept, r.Config(), "the Config passed to New, changed after")
	got := r.Config()
	scribbleConfig(&got)
	assert.Equal(t, kept, r.Config(), "the Config returned, changed")
	made := copyConfig()
	assert.Equal(t, made.Actions, kept.Actions, "as made")
	assert.Equal(t, made.Filter, kept.Filter, "as made")

	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
	assert.Equal(t, "action terminate not allowed by config", rec.Reason)
}
