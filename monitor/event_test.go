package monitor_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func TestEventValidate(t *testing.T) {
	t.Parallel()
	good := ev(monitor.KindAction, "i-1", 0)
	tests := []struct {
		name  string
		give  func(e *monitor.Event)
		field string
	}{
		{"zero time", func(e *monitor.Event) { e.Time = time.Time{} }, "time"},
		{"no kind", func(e *monitor.Event) { e.Kind = "" }, "kind"},
		{"unknown kind", func(e *monitor.Event) { e.Kind = "explosion" }, "kind"},
		{"no source", func(e *monitor.Event) { e.Source = " " }, "source"},
		{"unknown action", func(e *monitor.Event) { e.Action = "reboot" }, "action"},
		{"unknown risk", func(e *monitor.Event) { e.Risk = "extreme" }, "risk"},
		{"confidence above 1", func(e *monitor.Event) { e.Confidence = 1.01 }, "confidence"},
		{"confidence NaN", func(e *monitor.Event) { e.Confidence = math.NaN() }, "confidence"},
		{"savings Inf", func(e *monitor.Event) { e.MonthlySavings = math.Inf(1) }, "monthly_savings"},
		{"value NaN", func(e *monitor.Event) { e.Value = math.NaN() }, "value"},
		{"negative cost", func(e *monitor.Event) { e.Cost = &monitor.CostChange{Before: -1} }, "cost.before"},
		{"NaN cost after", func(e *monitor.Event) { e.Cost = &monitor.CostChange{Before: 1, After: math.NaN()} }, "cost.after"},
		{"running since after 9999", func(e *monitor.Event) {
			e.Cost = &monitor.CostChange{Before: 1, RunningSince: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
		}, "cost.running_since"},
		{"running since in a zone a day off", func(e *monitor.Event) {
			e.Cost = &monitor.CostChange{Before: 1, RunningSince: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 24*60*60))}
		}, "cost.running_since"},
		{"negative capacity", func(e *monitor.Event) { e.Capacity = &monitor.CapacityChange{From: 2, To: -1} }, "capacity"},
	}
	require.NoError(t, good.Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := good
			tt.give(&e)
			err := e.Validate()
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	edge := good
	edge.Confidence, edge.Capacity = 1, &monitor.CapacityChange{From: 0, To: 0}
	assert.NoError(t, edge.Validate(), "confidence 1 and capacity 0 are valid")
}

func TestKindText(t *testing.T) {
	t.Parallel()
	for _, k := range monitor.Kinds() {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var got monitor.Kind
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, k, got)
		assert.Equal(t, string(b), k.String())
	}
	k := monitor.KindRun
	require.ErrorIs(t, k.UnmarshalText([]byte("Run")), provider.ErrInvalid)
	assert.Equal(t, monitor.KindRun, k, "left unchanged")
	require.NoError(t, k.UnmarshalText(nil))
	assert.Equal(t, monitor.Kind(""), k)
	require.ErrorIs(t, k.Validate(), provider.ErrInvalid, "unset is refused")
	_, err := monitor.Kind("nope").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestEventJSONRoundTrip(t *testing.T) {
	t.Parallel()
	e := monitor.Event{Seq: 7, Time: t0, Kind: monitor.KindScalingStep, Source: monitor.SourceScaling,
		ResourceID: "asg-web", Action: safety.ActionScaleOut, Outcome: monitor.OutcomeDone, Ref: "plan-1",
		Rules: []string{"gradual"}, Risk: safety.RiskLow, Confidence: 0.5, Value: 3,
		Capacity: &monitor.CapacityChange{From: 0, To: 4}, Cost: &monitor.CostChange{Before: 0, After: 0.4}}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"capacity":{"from":0,"to":4}`, "a zero capacity is kept")
	var got monitor.Event
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, e, got)
	require.Error(t, json.Unmarshal([]byte(`{"kind":"boom"}`), &got), "an unknown kind does not decode")
}
