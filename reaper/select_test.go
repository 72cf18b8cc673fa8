package reaper_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

// TestSelect pins every boundary of the candidate selection: the
// confidence at, just below and just above the minimum (default and
// configured), the verdict states, and the actions recommended and allowed.
func TestSelect(t *testing.T) {
	t.Parallel()
	idle := func(a detector.Action, conf float64) detector.Verdict {
		return detector.Verdict{ResourceID: "i-1", State: detector.Idle, Action: a, Confidence: conf}
	}
	every := []detector.Action{detector.ActionStop, detector.ActionTerminate, detector.ActionDownsize}
	tests := []struct {
		name string
		cfg  reaper.Config
		give detector.Verdict
		want safety.Action // "" when skipped
		skip string        // a word of the skip reason
	}{
		{name: "default minimum: exactly 0.8 is enough", give: idle(detector.ActionStop, 0.8), want: safety.ActionStop},
		{name: "default minimum: just below 0.8 is not", give: idle(detector.ActionStop, math.Nextafter(0.8, 0)), skip: "below 0.80"},
		{name: "default minimum: full confidence", give: idle(detector.ActionStop, 1), want: safety.ActionStop},
		{name: "configured minimum: exactly 0.9", cfg: reaper.Config{MinConfidence: 0.9}, give: idle(detector.ActionStop, 0.9), want: safety.ActionStop},
		{name: "configured minimum: just below 0.9", cfg: reaper.Config{MinConfidence: 0.9}, give: idle(detector.ActionStop, math.Nextafter(0.9, 0)), skip: "below 0.90"},
		{name: "configured minimum: 0.85 below 0.9", cfg: reaper.Config{MinConfidence: 0.9}, give: idle(detector.ActionStop, 0.85), skip: "below 0.90"},
		{name: "configured minimum: low", cfg: reaper.Config{MinConfidence: 0.5}, give: idle(detector.ActionStop, 0.5), want: safety.ActionStop},
		{name: "confidence not a number", give: idle(detector.ActionStop, math.NaN()), skip: "not a number"},
		{name: "no action recommended", give: idle(detector.ActionNone, 0.95), skip: "no action recommended"},
		{name: "not idle", give: detector.Verdict{State: detector.NotIdle, Action: detector.ActionStop, Confidence: 0.95}, skip: "not idle"},
		{name: "unknown", give: detector.Verdict{State: detector.Unknown, Action: detector.ActionStop, Confidence: 0.95}, skip: "not idle"},
		{name: "unset state", give: detector.Verdict{Action: detector.ActionStop, Confidence: 0.95}, skip: "not idle"},
		{name: "not idle terminate", cfg: reaper.Config{Actions: every}, give: detector.Verdict{State: detector.NotIdle, Action: detector.ActionTerminate, Confidence: 0.95}, skip: "not idle"},
		{name: "downsize of a not-idle resource", cfg: reaper.Config{Actions: every}, give: detector.Verdict{State: detector.NotIdle, Action: detector.ActionDownsize, Confidence: 0.95}, want: safety.ActionResize},
		{name: "downsize of an idle resource", cfg: reaper.Config{Actions: every}, give: idle(detector.ActionDownsize, 0.95), want: safety.ActionResize},
		// Unknown is never a reason to act: a host detector's downsize
		// on a verdict that could not decide is not carried out.
		{name: "downsize of an unknown verdict", cfg: reaper.Config{Actions: every}, give: detector.Verdict{State: detector.Unknown, Action: detector.ActionDownsize, Confidence: 0.95}, skip: "verdict unknown: undecided"},
		{name: "downsize of an unset state", cfg: reaper.Config{Actions: every}, give: detector.Verdict{Action: detector.ActionDownsize, Confidence: 0.95}, skip: "verdict unset: undecided"},
		{name: "downsize below the minimum", cfg: reaper.Config{Actions: every}, give: detector.Verdict{State: detector.NotIdle, Action: detector.ActionDownsize, Confidence: 0.7}, skip: "below 0.80"},
		{name: "terminate not allowed by default", give: idle(detector.ActionTerminate, 0.95), skip: "not allowed"},
		{name: "downsize not allowed by default", give: detector.Verdict{State: detector.NotIdle, Action: detector.ActionDownsize, Confidence: 0.95}, skip: "not allowed"},
		{name: "terminate allowed", cfg: reaper.Config{Actions: []detector.Action{detector.ActionTerminate}}, give: idle(detector.ActionTerminate, 0.95), want: safety.ActionTerminate},
		{name: "stop not allowed when only terminate is", cfg: reaper.Config{Actions: []detector.Action{detector.ActionTerminate}}, give: idle(detector.ActionStop, 0.95), skip: "not allowed"},
		{name: "schedule is not carried out", cfg: reaper.Config{Actions: every}, give: idle(detector.ActionSchedule, 0.95), skip: "not carried out"},
		{name: "unset action is not carried out", give: idle("", 0.95), skip: "not carried out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := reaper.Select(tt.cfg, tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Action)
			if tt.skip == "" {
				assert.Empty(t, got.Skip)
				return
			}
			assert.Contains(t, got.Skip, tt.skip)
		})
	}
}

func TestSelectRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	v := detector.Verdict{State: detector.Idle, Action: detector.ActionStop, Confidence: 1}
	for _, cfg := range []reaper.Config{
		{MinConfidence: math.NaN()},
		{MinConfidence: 1.1},
		{Actions: []detector.Action{detector.ActionSchedule}},
	} {
		got, err := reaper.Select(cfg, v)
		require.ErrorIs(t, err, provider.ErrInvalid)
		assert.Empty(t, got.Action, "an invalid config selects nothing")
	}
}

// FuzzSelect checks Select's promises for any confidence, minimum, state
// and action: it never panics, refuses exactly the configs Validate
// refuses, and selects only what the rules allow, with an action mapped
// from the verdict's.
func FuzzSelect(f *testing.F) {
	f.Add(0.8, 0.0, "idle", "stop", "stop")
	f.Add(0.79, 0.8, "idle", "stop", "stop")
	f.Add(0.9, 0.9, "not_idle", "downsize", "downsize")
	f.Add(math.NaN(), 0.5, "idle", "terminate", "terminate")
	f.Add(1.0, 1.5, "unknown", "schedule", "stop")
	f.Fuzz(func(t *testing.T, conf, minConf float64, state, action, allowed string) {
		cfg := reaper.Config{MinConfidence: minConf, Actions: []detector.Action{detector.Action(allowed)}}
		v := detector.Verdict{State: detector.State(state), Action: detector.Action(action), Confidence: conf}
		sel, err := reaper.Select(cfg, v)
		if cfg.Validate() != nil {
			require.ErrorIs(t, err, provider.ErrInvalid)
			return
		}
		require.NoError(t, err)
		if sel.Skip != "" {
			assert.Empty(t, sel.Action)
			return
		}
		minimum := minConf
		if minimum == 0 {
			minimum = 0.8
		}
		assert.GreaterOrEqual(t, conf, minimum)
		assert.Equal(t, detector.Action(allowed), v.Action, "only an allowed action")
		assert.True(t, v.State == detector.Idle || v.State == detector.NotIdle && v.Action == detector.ActionDownsize)
		want := map[detector.Action]safety.Action{detector.ActionStop: safety.ActionStop,
			detector.ActionTerminate: safety.ActionTerminate, detector.ActionDownsize: safety.ActionResize}[v.Action]
		assert.Equal(t, want, sel.Action)
		assert.NotEmpty(t, sel.Action)
	})
}
