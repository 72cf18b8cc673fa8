package aws_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsprovider "github.com/idlescale/idlescale/provider/aws"

	"github.com/idlescale/idlescale/provider"
)

// periodHTTP records the MetricStat periods of the GetMetricData requests
// it sends on.
type periodHTTP struct {
	mu      sync.Mutex
	periods []string
}

func (h *periodHTTP) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if strings.Contains(string(body), "Action=GetMetricData&") {
		for _, kv := range strings.Split(string(body), "&") {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasSuffix(k, ".MetricStat.Period") {
				h.mu.Lock()
				h.periods = append(h.periods, v)
				h.mu.Unlock()
			}
		}
	}
	return testHTTP.Do(r)
}

func (h *periodHTTP) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.periods
	h.periods = nil
	return p
}

// TestActivityPeriodFollowsCloudWatchsRetention: CloudWatch keeps 1-minute
// datapoints for 15 days, 5-minute ones for 63, and returns none for the
// part of a query older than its period keeps. The driver read every
// window at one minute, so the reaper's 28-day terminate window counted
// its last 15 days only: a function invoked 20 days ago read as unused,
// and could be terminated. A window is now read at the finest period
// CloudWatch keeps from its start on (moto keeps everything, so the test
// reads the period asked on the wire, and the count at it).
func TestActivityPeriodFollowsCloudWatchsRetention(t *testing.T) {
	t.Parallel()
	hook := &periodHTTP{}
	d := newDriver(t, awsprovider.WithCloudWatchOptions(func(o *cloudwatch.Options) { o.HTTPClient = hook }))
	fn := createFunction(t, 128, 3, nil)
	_, fnName, _ := strings.Cut(fn, ":function:")
	now := time.Now().UTC().Truncate(time.Hour)
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", fnName, cwtypes.StandardUnitCount, map[time.Time]float64{
		now.Add(-20 * 24 * time.Hour): 3, now.Add(-2 * time.Hour): 4,
	})
	for _, tc := range []struct {
		name  string
		start time.Time
		want  string
		count float64
	}{
		{"the last hour", now.Add(-time.Hour), "60", 0},
		{"14 days back", now.Add(-14 * 24 * time.Hour), "60", 4},
		{"the terminate window, 28 days", now.Add(-28 * 24 * time.Hour), "300", 7},
		{"70 days back", now.Add(-70 * 24 * time.Hour), "3600", 7},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: fn, Start: tc.start, End: now})
		require.NoError(t, err, tc.name)
		assert.Equal(t, []string{tc.want}, hook.take(), tc.name)
		if tc.count == 0 {
			assert.Empty(t, got, tc.name)
			continue
		}
		require.Len(t, got, 1, tc.name)
		assert.InDelta(t, tc.count, got[0].Count, 1e-9, tc.name)
	}
}

// TestActivityLastIsNotBeforeTheEventAtCoarserPeriods: a window older than
// the 15 days CloudWatch keeps minutes for (the reaper's 28-day terminate
// window) is read at five minutes, and a datapoint's timestamp is the
// start of its period. Last was that start, up to 4 minutes before the
// event: the activity detector (now − Last < Quiet) took a function
// invoked 27 minutes ago for quiet over its 30. Last is now the latest
// minute the event may have been in, never after the window.
func TestActivityLastIsNotBeforeTheEventAtCoarserPeriods(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	_, fnName, _ := strings.Cut(fn, ":function:")
	now := time.Now().UTC().Truncate(5 * time.Minute)
	at := now.Add(-26 * time.Minute) // the last minute of the period from now − 30m
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", fnName, cwtypes.StandardUnitCount, map[time.Time]float64{at: 2})
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       time.Time
	}{
		{"the terminate window, 28 days", now.Add(-28 * 24 * time.Hour), now, at},
		{"a window ending in the period", now.Add(-28 * 24 * time.Hour), now.Add(-27*time.Minute - 30*time.Second), now.Add(-28 * time.Minute)},
		{"the last hour, at one minute", now.Add(-time.Hour), now, at},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: fn, Start: tc.start, End: tc.end})
		require.NoError(t, err, tc.name)
		require.Len(t, got, 1, tc.name)
		assert.Equal(t, tc.want, got[0].Last, tc.name)
		assert.True(t, got[0].Last.Before(tc.end), "%s: Last %s in the window", tc.name, got[0].Last)
	}
}

// TestActivityLastIsNotBeforeAnUnalignedStart: the driver reads whole
// periods from the one Start falls in, and a datapoint's period may begin
// before Start. Last was taken from the period alone, up to a minute (a
// period, at five) before a Start not on the grid, outside the [Start,
// End) an ActivityCount's Last lies in. Last is now clamped to Start: the
// first instant of the window the period's events may have been in.
func TestActivityLastIsNotBeforeAnUnalignedStart(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	_, fnName, _ := strings.Cut(fn, ":function:")
	now := time.Now().UTC().Truncate(5 * time.Minute)
	recent := now.Add(-40 * time.Minute) // read at one minute
	old := now.Add(-20 * 24 * time.Hour) // read at five minutes
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", fnName, cwtypes.StandardUnitCount, map[time.Time]float64{
		recent: 2, old.Add(time.Minute): 3,
	})
	for _, tc := range []struct {
		name       string
		start, end time.Time
	}{
		{"one minute, Start 30 s into it", recent.Add(30 * time.Second), recent.Add(10 * time.Minute)},
		{"one minute, the window within it", recent.Add(10 * time.Second), recent.Add(50 * time.Second)},
		{"five minutes, Start past the period's last minute", old.Add(4*time.Minute + 30*time.Second), old.Add(time.Hour)},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: fn, Start: tc.start, End: tc.end})
		require.NoError(t, err, tc.name)
		require.Len(t, got, 1, tc.name)
		assert.Positive(t, got[0].Count, "%s: the period's use is counted", tc.name)
		assert.False(t, got[0].Last.Before(tc.start), "%s: Last %s before Start %s", tc.name, got[0].Last, tc.start)
		assert.True(t, got[0].Last.Before(tc.end), "%s: Last %s not before End %s", tc.name, got[0].Last, tc.end)
		assert.Equal(t, tc.start, got[0].Last, "%s: the window's first instant the period may have held the event in", tc.name)
	}
}
