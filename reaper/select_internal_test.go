package reaper

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// TestApplies pins which resource states each action applies to, the
// check the controller makes on the re-read resource after Select.
func TestApplies(t *testing.T) {
	t.Parallel()
	states := []provider.State{provider.StatePending, provider.StateRunning, provider.StateStopping,
		provider.StateStopped, provider.StateTerminated}
	want := map[safety.Action][]provider.State{
		safety.ActionStop:      {provider.StateRunning},
		safety.ActionTerminate: {provider.StatePending, provider.StateRunning, provider.StateStopping, provider.StateStopped},
		safety.ActionResize:    {provider.StateRunning, provider.StateStopped},
	}
	for action, ok := range want {
		for _, s := range states {
			assert.Equal(t, slices.Contains(ok, s), applies(action, provider.Resource{Kind: provider.KindInstance, State: s}), "%s of a %s resource", action, s)
		}
	}
	// A volume is terminated only while detached (stopped): not running
	// (attached), nor pending or stopping (being attached or detached).
	for _, s := range states {
		ok := s == provider.StateStopped
		assert.Equal(t, ok, applies(safety.ActionTerminate, provider.Resource{Kind: provider.KindVolume, State: s}), "terminate of a %s volume", s)
	}
}
