package detector_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

func TestReasonString(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	var week detector.WeekHours
	week.Add(26)
	week.Add(27)
	tests := []struct {
		give detector.Reason
		want string
	}{
		{detector.Reason{Signal: "utilization", Code: detector.ReasonBelow, Metric: provider.MetricCPU, Value: 0.031, Limit: 0.1, Duration: 24 * time.Hour}, "utilization: cpu mean 3.10% below 10.00% over 24h"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonAbove, Metric: provider.MetricRequests, Statistic: "p95", Value: 2.5, Limit: 0.05, Duration: 6 * time.Hour}, "utilization: requests p95 2.5 1/s at or above 0.05 1/s over 6h"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonGaps, Metric: provider.MetricCPU, Value: 0.5, Limit: 0.8, Duration: 14 * 24 * time.Hour}, "utilization: cpu has data for only 50% of the last 14d (need 80%)"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonStale, Metric: provider.MetricCPU, Duration: 2 * time.Hour, Limit: float64(30 * time.Minute)}, "utilization: last cpu sample is 2h old (limit 30m0s)"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonSuspectZeros, Metric: provider.MetricRequests, Value: 0.7, Duration: 80 * time.Hour}, "utilization: requests fell from 0.7 straight to exact zeros for 3.3d: treated as missing data, not idleness"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonSourceError, Metric: provider.MetricCPU, Err: errors.New("boom")}, "utilization: reading cpu failed: boom"},
		{detector.Reason{Signal: "ensemble", Code: detector.ReasonYoung, Duration: 2 * time.Hour, Limit: float64(24 * time.Hour)}, "ensemble: resource is 2h old, inside the 24h grace period"},
		{detector.Reason{Signal: "activity", Code: detector.ReasonActive, Kind: provider.ActivityLogins, Value: 3, Duration: 30 * time.Minute}, "activity: 3 logins events in the last 30m0s"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonIdleHours, Value: 0.95, Limit: 0.9, Duration: 28 * 24 * time.Hour}, "schedule: this hour of the week was idle 95% of the time in the last 28d (≥ 90%)"},
		{detector.Reason{Signal: "model", Code: detector.ReasonModel, Value: 0.93, Limit: 0.5}, "model: idle probability 0.93 (cut-off 0.50)"},
		{detector.Reason{Signal: "ensemble", Code: detector.ReasonVote, Value: 2, Limit: 3}, "ensemble: 2 of 3 available signals vote idle"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonNotHeld, Metric: provider.MetricCPU, Statistic: "max", Value: 0.4, Limit: 0.1, Duration: time.Hour}, "utilization: cpu max 40.00% at or above 10.00% within the last 1h"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonMissing, Metric: provider.MetricMemory}, "utilization: no data for memory"},
		{detector.Reason{Signal: "activity", Code: detector.ReasonQuiet, Duration: 90 * time.Minute}, "activity: no activity for at least 1h30m0s"},
		{detector.Reason{Signal: "activity", Code: detector.ReasonNoActivity}, "activity: no activity data"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonBusyHours, Value: 0.25, Limit: 0.9, Duration: 28 * day}, "schedule: this hour of the week was idle only 25% of the time in the last 28d (< 90%)"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonPeakHour, Metric: provider.MetricCPU, Value: 4, Limit: 0.2, Duration: 28 * day}, "schedule: this hour of the week held a peak (cpu at or above 20.00%) in 4 of its weeks in the last 28d: never idle"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonShortHistory, Metric: provider.MetricCPU, Duration: 36 * time.Hour, Limit: float64(7 * day)}, "schedule: only 36h of cpu history (need 7d)"},
		{detector.Reason{Signal: "activity", Code: detector.ReasonShortHistory, Kind: provider.ActivityLogins, Duration: 10 * time.Minute, Limit: float64(30 * time.Minute)}, "activity: only 10m0s of logins activity history (need 30m0s)"},
		{detector.Reason{Signal: "activity", Code: detector.ReasonShortHistory, Duration: 10 * time.Minute, Limit: float64(30 * time.Minute)}, "activity: only 10m0s of activity history (need 30m0s)"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortHistory, Kind: provider.ActivityAPICalls, Action: detector.ActionStop, Duration: 0, Limit: float64(30 * time.Minute)}, "evidence: only 0s of api_calls activity history: stop needs 30m0s"},
		{detector.Reason{Signal: "trusted_advisor", Code: detector.ReasonRule, Value: 5, Limit: 4, Duration: 14 * day}, "trusted_advisor: rule held on 5 (needs 4) over 14d"},
		{detector.Reason{Signal: "ensemble", Code: detector.ReasonBelowConf, Value: 0.72, Limit: 0.8}, "ensemble: confidence 0.72 does not exceed 0.80: no action"},
		{detector.Reason{Signal: "ensemble", Code: detector.ReasonReadFailed, Metric: provider.MetricMemory, Err: errors.New("throttled")}, "ensemble: reading memory failed (throttled): no action, its data could show use"},
		{detector.Reason{Signal: "ensemble", Code: detector.ReasonReadFailed, Err: errors.New("denied")}, "ensemble: reading activity failed (denied): no action, its data could show use"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Value: 0.97, Duration: 14 * day, Stats: detector.Stats{Mean: 0.021, P95: 0.04, P99: 0.06, Max: 0.09}}, "evidence: cpu over the last 14d (97% covered): mean 2.10%, p95 4.00%, p99 6.00%, max 9.00%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortEvidence, Metric: provider.MetricCPU, Action: detector.ActionTerminate, Value: 0.5, Limit: 0.95, Duration: 28 * day}, "evidence: cpu has data for 14.0 days of the last 28d (50%); terminate needs 95%: 12.6 days more of data"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortEvidence, Metric: provider.MetricCPU, Action: detector.ActionStop, Value: 0.9, Limit: 0.95, Duration: 14 * day}, "evidence: cpu has data for 12.6 days of the last 14d (90%); stop needs 95%: 16.8 hours more of data"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortEvidence, Metric: provider.MetricCPU, Action: detector.ActionStop, Value: 0.94, Limit: 0.95, Duration: 3 * time.Hour}, "evidence: cpu has data for 2.8 hours of the last 3h (94%); stop needs 95%: 2 minutes more of data"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonPeak, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionStop, Value: 0.12, Limit: 0.1, Duration: 14 * day}, "evidence: cpu p99 12.00% over the last 14d reaches the stop bound 10.00%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonBelowBound, Metric: provider.MetricNetworkIn, Statistic: "max", Action: detector.ActionTerminate, Value: 900, Limit: 1000, Duration: 28 * day}, "evidence: network_in max 900 bytes/s over the last 28d is below the terminate bound 1000 bytes/s"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonNoProfile, Metric: provider.MetricCPU, Action: detector.ActionStop, Limit: float64(7 * day)}, "evidence: no week of cpu learned yet (it needs 7d of history): stop needs every hour of the week checked"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonWeek, Action: detector.ActionStop, Value: 0.98, Limit: 0.99, Hours: week}, "evidence: 2 of 168 hours of the week are busy or held a peak (Mon 02:00–04:00): the week is 98% idle, stop needs 99%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonWeek, Action: detector.ActionStop, Value: 0.97, Limit: 0.95}, "evidence: the week is 97% idle (stop needs 95%)"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonIrregular, Value: 0.8, Limit: 0.9}, "schedule: only 80% of the week's hours are regularly idle or busy; an off-hours schedule needs 90%"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonNoPattern}, "schedule: no hour of the week is busy every week: an off-hours schedule has nothing to follow"},
		{detector.Reason{Signal: "schedule", Code: detector.ReasonSmallSaving, Value: 0.2, Limit: 0.25}, "schedule: an off-hours schedule would stop it 20% of the week; it needs at least 25%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonNoUse, Action: detector.ActionTerminate, Limit: float64(28 * day)}, "evidence: no activity data: terminate needs 28d of it showing no use"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonNoUse, Action: detector.ActionTerminate, Duration: 30 * day, Limit: float64(28 * day)}, "evidence: activity data shows no use in the last 30d; terminate needs 28d of it"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonUsed, Kind: provider.ActivityLogins, Value: 2, Action: detector.ActionTerminate}, "evidence: 2 logins events in the activity window: terminate needs none"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonInUse, Kind: provider.ActivityLogins, Action: detector.ActionStop, Duration: 30 * time.Minute}, "evidence: logins activity within the last 30m0s: stop needs none"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonFits, Metric: provider.MetricCPU, Statistic: "p99", Value: 0.5, Limit: 0.7, Duration: 7 * day}, "evidence: cpu p99 over the last 7d would be 50.00% on the smaller size (limit 70.00%)"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonTooBig, Metric: provider.MetricMemory, Value: 0.8, Limit: 0.7, Duration: 36 * time.Hour}, "evidence: memory mean over the last 36h would be 80.00% on the smaller size, above 70.00%: no downsize"},
		{detector.Reason{Signal: "custom", Code: "cost_center", Metric: provider.MetricCPU, Value: 1.5, Limit: 2}, "custom: cost_center cpu value 1.5 limit 2"},
		// At the edges of the duration formats and of the peak's verb.
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortEvidence, Metric: provider.MetricCPU, Action: detector.ActionStop, Value: 0.5, Limit: 0.75, Duration: 4 * day}, "evidence: cpu has data for 2.0 days of the last 4d (50%); stop needs 75%: 1.0 days more of data"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortEvidence, Metric: provider.MetricCPU, Action: detector.ActionStop, Value: 0.5, Limit: 0.75, Duration: 8 * time.Minute}, "evidence: cpu has data for 4 minutes of the last 8m0s (50%); stop needs 75%: 2 minutes more of data"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonPeak, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionStop, Value: 0.1, Limit: 0.1, Duration: 2 * day}, "evidence: cpu p99 10.00% over the last 2d reaches the stop bound 10.00%"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonBelow, Metric: provider.MetricCPU, Value: 0.01, Limit: 0.1, Duration: 47 * time.Hour}, "utilization: cpu mean 1.00% below 10.00% over 47h"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonBelow, Metric: provider.MetricCPU, Value: 0.01, Limit: 0.1, Duration: 90 * time.Minute}, "utilization: cpu mean 1.00% below 10.00% over 1h30m0s"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, tt.give.Code), func(t *testing.T) {
			t.Parallel()
			got := tt.give.String()
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, "%!")
		})
	}
}

func TestReasonJSON(t *testing.T) {
	t.Parallel()
	r := detector.Reason{Signal: "utilization", Code: detector.ReasonSourceError, Metric: provider.MetricCPU, Err: errors.New("boom")}
	b, err := json.Marshal(detector.Verdict{State: detector.Unknown, Reasons: []detector.Reason{r}})
	require.NoError(t, err)
	var got struct {
		State   string `json:"state"`
		Reasons []struct {
			Code  string `json:"code"`
			Text  string `json:"text"`
			Error string `json:"error"`
		} `json:"reasons"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "unknown", got.State)
	require.Len(t, got.Reasons, 1)
	assert.Equal(t, "source_error", got.Reasons[0].Code)
	assert.Equal(t, "utilization: reading cpu failed: boom", got.Reasons[0].Text)
	assert.Equal(t, "boom", got.Reasons[0].Error)
}

func TestReasonCodeText(t *testing.T) {
	t.Parallel()
	for _, c := range []detector.ReasonCode{detector.ReasonBelow, detector.ReasonAbove, detector.ReasonNotHeld, detector.ReasonMissing, detector.ReasonGaps, detector.ReasonStale, detector.ReasonSuspectZeros, detector.ReasonSourceError, detector.ReasonYoung, detector.ReasonQuiet, detector.ReasonActive, detector.ReasonNoActivity, detector.ReasonIdleHours, detector.ReasonBusyHours, detector.ReasonPeakHour, detector.ReasonUnseenHour, detector.ReasonShortHistory, detector.ReasonModel, detector.ReasonVote, detector.ReasonRule, detector.ReasonBelowConf, detector.ReasonReadFailed, detector.ReasonEvidence, detector.ReasonShortEvidence, detector.ReasonPeak, detector.ReasonBelowBound, detector.ReasonWeek, detector.ReasonThinHours, detector.ReasonUnseenHours, detector.ReasonVeto, detector.ReasonAbstained, detector.ReasonNoProfile, detector.ReasonIrregular, detector.ReasonNoPattern, detector.ReasonSmallSaving, detector.ReasonNoUse, detector.ReasonUsed, detector.ReasonInUse, detector.ReasonCoarse, detector.ReasonFits, detector.ReasonTooBig, detector.ReasonAttached} {
		require.NoError(t, c.Validate(), c)
		b, err := c.MarshalText()
		require.NoError(t, err)
		var back detector.ReasonCode
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, c, back)
	}
	// The set is open: a custom signal's own snake_case code round-trips.
	var custom detector.ReasonCode
	require.NoError(t, custom.UnmarshalText([]byte("gpu_idle_2")))
	assert.Equal(t, detector.ReasonCode("gpu_idle_2"), custom)
	// Empty text is the zero value.
	require.NoError(t, custom.UnmarshalText(nil))
	assert.Empty(t, custom)
	for _, bad := range []string{"Below", "2fast", "has space", "dash-ed", "é", string(make([]byte, 65))} {
		var c detector.ReasonCode
		err := c.UnmarshalText([]byte(bad))
		require.ErrorIs(t, err, provider.ErrInvalid, "%q", bad)
		assert.Empty(t, c, "a refused code leaves the target unchanged")
		_, err = detector.ReasonCode(bad).MarshalText()
		require.ErrorIs(t, err, provider.ErrInvalid, "%q", bad)
	}
	// The edges of each character class: a–z first, then a–z, 0–9 or _.
	for _, ok := range []detector.ReasonCode{"a", "z", "a0", "a9", "az", "a_"} {
		require.NoError(t, ok.Validate(), "%q", ok)
	}
	for _, bad := range []detector.ReasonCode{"`", "{", "a/", "a:", "a`", "a{", "_a"} {
		require.ErrorIs(t, bad.Validate(), provider.ErrInvalid, "%q", bad)
	}
	long := detector.ReasonCode("a" + strings.Repeat("b", 63))
	require.NoError(t, long.Validate(), "64 bytes is the limit")
	require.Error(t, (long + "c").Validate(), "65 bytes is over it")
}
