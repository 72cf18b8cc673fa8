package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/trace"
)

// TestAutoscaleRuns runs the program and checks its output: an hour by
// hour table of the day whose ready instances add up to the instance-hours
// it reports, the day's steps and plans as the replay counted them, and
// the fixed group sized for the peak half hour at 60 % CPU, worked out
// here from the trace itself, with how much more it would have used.
func TestAutoscaleRuns(t *testing.T) {
	t.Parallel()
	testdata := filepath.Join("..", "..", "testdata")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, "policy.yaml", testdata))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "HOUR")
	assert.Contains(t, text, "instance-hours")

	// The day as replay measures it (the simulated day is reproducible).
	policy, err := scaling.LoadConfigFile("policy.yaml")
	require.NoError(t, err)
	res, err := replay(t.Context(), policy, testdata, io.Discard)
	require.NoError(t, err)

	// The table: one row an hour; READY is the hour's mean of ready
	// instances, so the rows add up to the day's instance-hours.
	rows := regexp.MustCompile(`(?m)^ +(\d\d):00 +(\d+) +(\d+\.\d) +(\d+)% +(\d+)% +([-\d ]+)$`).FindAllStringSubmatch(text, -1)
	require.Len(t, rows, hours, "one row an hour")
	ready := 0.0
	for i, row := range rows {
		assert.Equal(t, fmt.Sprintf("%02d", i), row[1])
		r, err := strconv.ParseFloat(row[3], 64)
		require.NoError(t, err)
		ready += r
	}
	assert.InDelta(t, res.instanceHours, ready, 0.05*hours, "the hours' ready instances add up to the instance-hours")

	assert.Contains(t, text, fmt.Sprintf("\n%d scale-outs and %d scale-ins in %d plans (0 rolled back; ",
		res.outs(), res.ins(), res.events[scaling.EventPlanned]))
	assert.Contains(t, text, fmt.Sprintf("\nautoscaled: %.0f instance-hours, %d of 1440 minutes over capacity\n", res.instanceHours, res.overloaded))

	samples, err := trace.ReadCSVFile(filepath.Join(testdata, "nab", "nyc_taxi.csv"), trace.CSVOptions{})
	require.NoError(t, err)
	peak := 0.0
	end := samples[0].Time.Truncate(time.Hour).Add(hours * time.Hour)
	for _, s := range samples {
		if s.Time.Before(end) {
			peak = max(peak, s.Value)
		}
	}
	fixed := int(math.Ceil(peak / (0.6 * perInstance)))
	require.LessOrEqual(t, fixed, 40)
	fixedHours := float64(fixed * hours)
	assert.Contains(t, text, fmt.Sprintf("\nfixed group of %d sized for the peak: %.0f instance-hours (%.0f %% more)\n",
		fixed, fixedHours, 100*(fixedHours-res.instanceHours)/res.instanceHours))
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
