package detector_test

import (
	"encoding/json"
	"errors"
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
	}
	for _, tt := range tests {
		t.Run(string(tt.give.Code), func(t *testing.T) {
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
	for _, c := range []detector.ReasonCode{detector.ReasonBelow, detector.ReasonAbove, detector.ReasonNotHeld, detector.ReasonMissing, detector.ReasonGaps, detector.ReasonStale, detector.ReasonSuspectZeros, detector.ReasonSourceError, detector.ReasonYoung, detector.ReasonQuiet, detector.ReasonActive, detector.ReasonNoActivity, detector.ReasonIdleHours, detector.ReasonBusyHours, detector.ReasonShortHistory, detector.ReasonModel, detector.ReasonVote, detector.ReasonRule, detector.ReasonBelowConf, detector.ReasonEvidence, detector.ReasonShortEvidence, detector.ReasonPeak, detector.ReasonWeek, detector.ReasonNoProfile, detector.ReasonIrregular, detector.ReasonNoPattern, detector.ReasonSmallSaving, detector.ReasonNoUse, detector.ReasonUsed, detector.ReasonFits, detector.ReasonTooBig} {
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
	long := detector.ReasonCode("a" + strings.Repeat("b", 63))
	require.NoError(t, long.Validate(), "64 bytes is the limit")
	require.Error(t, (long + "c").Validate(), "65 bytes is over it")
}
