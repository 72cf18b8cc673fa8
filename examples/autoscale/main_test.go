package main

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestAutoscaleRuns runs the program and checks its output.
func TestAutoscaleRuns(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, "policy.yaml", filepath.Join("..", "..", "testdata")))
	t.Log(out.String())
	assert.Contains(t, out.String(), "HOUR")
	assert.Contains(t, out.String(), "instance-hours")
}

// TestReplayDay checks what the simulated day did, against the policy,
// the safety gate and the rate limiter.
func TestReplayDay(t *testing.T) {
	t.Parallel()
	policy, err := scaling.LoadConfigFile("policy.yaml")
	require.NoError(t, err)
	res, err := replay(t.Context(), policy, filepath.Join("..", "..", "testdata"), io.Discard)
	require.NoError(t, err)

	assert.Equal(t, 24*60, res.minutes)
	assert.GreaterOrEqual(t, res.minReady, 2, "never below the policy's min")
	assert.LessOrEqual(t, res.maxReady, 40, "never above its max")
	assert.Less(t, res.instanceHours, 0.7*res.staticHours, "well under a group sized for the peak")
	assert.LessOrEqual(t, res.overloaded, 30, "over capacity only while catching up from 2 instances at midnight")
	assert.Zero(t, res.events[scaling.EventRollbackStarted], "every step verified")
	assert.Zero(t, res.events[scaling.EventStepBlocked], "plans are made gradual, so the gate passes every step")

	require.NotEmpty(t, res.executedSteps)
	lastUp, lastDown := time.Time{}, time.Time{}
	for _, s := range res.executedSteps {
		change := s.to - s.from
		require.NotZero(t, change)
		assert.LessOrEqual(t, abs(change), 3, "the rate limiter's 3 instances per event: %+v", s)
		assert.LessOrEqual(t, abs(change), max(1, s.from/2), "the gate's gradual rule: %+v", s)
		last := &lastUp
		if change < 0 {
			last = &lastDown
		}
		if !last.IsZero() {
			assert.GreaterOrEqual(t, s.at.Sub(*last), 5*time.Minute, "300 s between events of a direction: %+v", s)
		}
		*last = s.at
		inHour := 0
		for _, o := range res.executedSteps {
			if (o.to > o.from) == (change > 0) && !o.at.After(s.at) && s.at.Sub(o.at) < time.Hour {
				inHour++
			}
		}
		assert.LessOrEqual(t, inHour, 5, "5 events an hour per direction: %+v", s)
	}
}

func abs(n int) int { return max(n, -n) }
