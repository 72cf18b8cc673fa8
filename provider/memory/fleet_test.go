package memory_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

func TestLoadFleetFile(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.LoadFleetFile("testdata/fleet.yaml"))
	all, err := c.List(ctx, provider.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"i-busy", "i-idle", "thumbnailer", "web"}, idsOf(all))

	idle, err := c.Get(ctx, "i-idle")
	require.NoError(t, err)
	assert.Equal(t, "staging", idle.Environment)
	assert.InDelta(t, 0.096, idle.HourlyCost, 1e-9, "cost from the catalogue")

	capa, err := c.Capacity(ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 2, Max: 10, Desired: 4}, Current: 4, Ready: 4}, capa)

	q := provider.Query{ResourceID: "i-busy", Metric: provider.MetricCPU, Start: epoch.Add(-time.Hour), End: epoch, Step: 5 * time.Minute}
	busy, err := c.QueryMetric(ctx, q)
	require.NoError(t, err)
	assert.True(t, provider.IsGap(busy.Values[len(busy.Values)-1]), "the busy trace ends 10 minutes before now")
	_, v, ok := busy.Last()
	require.True(t, ok)
	assert.Greater(t, v, 0.15)

	b, err := c.Backups(ctx, "i-idle", time.Time{})
	require.NoError(t, err)
	require.Len(t, b, 1)
	assert.Equal(t, epoch.Add(-3*time.Hour), b[0].Time)
	assert.True(t, b[0].Verified)

	act, err := c.Activity(ctx, provider.ActivityQuery{ResourceID: "i-idle", Start: epoch.Add(-72 * time.Hour), End: epoch})
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}, {Kind: provider.ActivityLogins, Count: 1, Last: epoch.Add(-50 * time.Hour)}}, act)
}

func TestParseFleetRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"unknown field", "resources: []\ncolour: blue\n"},
		{"no resources", "{}\n"},
		{"two documents", "resources: []\n---\nresources: []\n"},
		{"not yaml", "resources: [\n"},
		{"wrong type", "resources: 3\n"},
		{"unknown kind", "resources: [{id: x, kind: blimp}]"},
		{"unknown state", "resources: [{id: x, kind: instance, state: asleep}]"},
		{"unknown activity kind", "resources: [{id: x, kind: instance, activity: [{kind: yawns, ago: 1h, count: 1}]}]"},
		{"malformed metric", "resources: [{id: x, kind: instance, metrics: [{metric: cpu%, samples: []}]}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := memory.ParseFleet(strings.NewReader(tt.give))
			require.ErrorIs(t, err, provider.ErrInvalid)
		})
	}
}

func TestApplyFleetValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  string
		field string
	}{
		{"group without capacity", "resources: [{id: g, kind: group}]", "fleet.resources[0].capacity"},
		{"capacity on instance", "resources: [{id: i, kind: instance, capacity: {min: 0, max: 1, desired: 1}}]", "fleet.resources[0].capacity"},
		{"min above max", "resources: [{id: g, kind: group, capacity: {min: 5, max: 1, desired: 1}}]", "fleet.resources[0].capacity.min"},
		{"negative desired", "resources: [{id: g, kind: group, capacity: {min: 0, max: 1, desired: -1}}]", "fleet.resources[0].capacity.desired"},
		{"unsorted samples", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, samples: [{time: 2026-01-01T00:05:00Z, value: 1}, {time: 2026-01-01T00:00:00Z, value: 1}]}]}]", "fleet.resources[0].metrics[0].samples[1].time"},
		{"missing csv", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, csv: nope.csv}]}]", ""},
		{"negative activity", "resources: [{id: i, kind: instance, activity: [{kind: logins, ago: 1h, count: -1}]}]", "fleet.resources[0].activity[0].activity.logins.count"},
		{"negative end_ago", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, csv: nope.csv, end_ago: -1h}]}]", "fleet.resources[0].metrics[0].end_ago"},
		{"negative end_ago inline", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, end_ago: -1s, samples: []}]}]", "fleet.resources[0].metrics[0].end_ago"},
		{"negative backup ago", "resources: [{id: i, kind: instance, backups: [{id: s, ago: -3h, complete: true}]}]", "fleet.resources[0].backups[0].ago"},
		{"negative repeat", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, csv: nope.csv, repeat: -1}]}]", "fleet.resources[0].metrics[0].repeat"},
		{"repeat above 100", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, csv: nope.csv, repeat: 101}]}]", "fleet.resources[0].metrics[0].repeat"},
		{"repeat inline samples", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, repeat: 2, samples: []}]}]", "fleet.resources[0].metrics[0].repeat"},
		{"backup listed twice", "resources: [{id: i, kind: instance, backups: [{id: s, ago: 3h, complete: true}, {id: s, ago: 2h, complete: true}]}]", "fleet.resources[0].backups[1].id"},
		{"metric listed twice, overlapping", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, samples: [{time: 2026-01-01T00:00:00Z, value: 1}, {time: 2026-01-01T00:10:00Z, value: 1}]}, {metric: cpu, samples: [{time: 2026-01-01T00:05:00Z, value: 1}]}]}]", "fleet.resources[0].metrics[1].samples[0].time"},
		{"csv metric listed twice, overlapping", "resources: [{id: i, kind: instance, metrics: [{metric: cpu, csv: nab/ec2_cpu_utilization_c6585a.csv}, {metric: cpu, csv: nab/ec2_cpu_utilization_825cc2.csv}]}]", "fleet.resources[0].metrics[1].csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newCloud(t)
			f, err := memory.ParseFleet(strings.NewReader(tt.give))
			require.NoError(t, err)
			err = c.ApplyFleet(f, "testdata")
			require.Error(t, err)
			if tt.field != "" {
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, tt.field, ie.Field)
			}
			all, err := c.List(t.Context(), provider.Filter{})
			require.NoError(t, err)
			assert.Empty(t, all, "a rejected fleet adds nothing")
		})
	}
	// A fleet built in code skips ParseFleet's checks of the enums; ApplyFleet
	// still names the field.
	c, _ := newCloud(t)
	err := c.ApplyFleet(memory.Fleet{Resources: []memory.FleetResource{{Resource: provider.Resource{ID: "x", Kind: "blimp"}}}}, "testdata")
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "resources[0].kind", ie.Field)

	err = c.LoadFleetFile("testdata/missing.yaml")
	require.Error(t, err)
}

func FuzzParseFleet(f *testing.F) {
	f.Add("resources: [{id: g, kind: group, capacity: {min: 1, max: 3, desired: 2}}]")
	f.Add(`{"resources": [{"id": "i", "kind": "instance", "hourly_cost": 0.1}]}`)
	f.Add("resources: [{id: i, kind: instance, backups: [{id: s, ago: 1h}], activity: [{kind: logins, ago: 5m, count: 2}]}]")
	f.Fuzz(func(t *testing.T, doc string) {
		fl, err := memory.ParseFleet(strings.NewReader(doc))
		if err != nil {
			return
		}
		c, err := memory.New(memory.Config{}, memory.WithClock(newMock()))
		if err != nil {
			t.Fatal(err)
		}
		// Any accepted document either applies or fails with an error; it
		// never panics, and a success leaves valid resources.
		if err := c.ApplyFleet(fl, t.TempDir()); err != nil {
			return
		}
		all, err := c.List(t.Context(), provider.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if err := r.Validate(); err != nil {
				t.Fatalf("fleet produced an invalid resource: %v", err)
			}
		}
	})
}

func idsOf(rs []provider.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestFleetLaunchTimes(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	doc := `resources:
  - {id: explicit, kind: instance, launch_time: 2026-01-01T00:00:00Z}
  - {id: ago, kind: instance, launch_ago: 72h}
  - id: measured
    kind: instance
    metrics: [{metric: cpu, csv: nab/ec2_cpu_utilization_24ae8d.csv, scale: 0.01}]
  - {id: bare, kind: instance}
`
	f, err := memory.ParseFleet(strings.NewReader(doc))
	require.NoError(t, err)
	require.NoError(t, c.ApplyFleet(f, "../../testdata")) // the CSV path is relative to, and inside, this directory
	want := map[string]time.Time{
		"explicit": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		"ago":      epoch.Add(-72 * time.Hour),
		"measured": epoch.Add(-4031 * 5 * time.Minute), // the trace's first sample after the replay
		"bare":     epoch,
	}
	for id, w := range want {
		r, err := c.Get(t.Context(), id)
		require.NoError(t, err)
		assert.True(t, w.Equal(r.LaunchTime), "%s launched %s, want %s", id, r.LaunchTime, w)
	}
	f, err = memory.ParseFleet(strings.NewReader("resources: [{id: x, kind: instance, launch_ago: -1h}]"))
	require.NoError(t, err)
	require.ErrorIs(t, c.ApplyFleet(f, "testdata"), provider.ErrInvalid)
}

// TestParseFleetRejectsNil checks that a nil io.Reader is an error naming
// the argument, not a nil-pointer panic.
func TestParseFleetRejectsNil(t *testing.T) {
	t.Parallel()
	_, err := memory.ParseFleet(nil)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "fleet.reader", ie.Field)
}

// TestParseFleetNamesUnknownEnumValue checks that a misspelt enum value
// fails when the file is read, with an error naming the value, its field
// and its line.
func TestParseFleetNamesUnknownEnumValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, field, value, line string }{
		{"resources: [{id: x, kind: blimp}]", "resources[0].kind", "blimp", "line 1, column 27"},
		{"resources:\n  - {id: x, kind: instance}\n  - {id: y, kind: instance, state: asleep}\n", "resources[1].state", "asleep", "line 3, column 36"},
		{"resources:\n  - id: x\n    kind: instance\n    metrics:\n      - {metric: cpu%, samples: []}\n", "resources[0].metrics[0].metric", "cpu%", "line 5, column 18"},
		{"resources: [{id: x, kind: instance, activity: [{kind: yawns, ago: 1h, count: 1}]}]", "resources[0].activity[0].kind", "yawns", "line 1"},
	}
	for _, tt := range tests {
		_, err := memory.ParseFleet(strings.NewReader(tt.give))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.give)
		assert.Equal(t, tt.field, ie.Field)
		assert.Equal(t, tt.value, ie.Value)
		assert.Contains(t, err.Error(), tt.line)
	}
	_, err := memory.ParseFleet(strings.NewReader("resources: [{id: x, kind: instance, metrics: [{metric: gpu, samples: []}]}]"))
	require.ErrorIs(t, err, provider.ErrUnknownMetric)
}

// Repeat plays a CSV trace back to back: twice the samples, the second
// copy one step after the first ends, the whole ending now; 100 is the
// largest allowed count.
func TestFleetRepeat(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	load := func(t *testing.T, repeat int) (provider.Series, provider.Query) {
		t.Helper()
		c, _ := newCloud(t)
		f, err := memory.ParseFleet(strings.NewReader(fmt.Sprintf(
			"resources: [{id: i-r, kind: instance, metrics: [{metric: cpu, csv: nab/ec2_cpu_utilization_c6585a.csv, scale: 0.01, repeat: %d}]}]", repeat)))
		require.NoError(t, err)
		require.NoError(t, c.ApplyFleet(f, "testdata"))
		// End one step after now, so that the trace's last sample (now) is in.
		q := provider.Query{ResourceID: "i-r", Metric: provider.MetricCPU, Start: epoch.Add(-30 * 24 * time.Hour), End: epoch.Add(5 * time.Minute), Step: 5 * time.Minute}
		s, err := c.QueryMetric(ctx, q)
		require.NoError(t, err)
		return s, q
	}
	count := func(s provider.Series) int {
		n := 0
		for _, v := range s.Values {
			if !provider.IsGap(v) {
				n++
			}
		}
		return n
	}
	once, _ := load(t, 1)
	twice, q := load(t, 2)
	require.Positive(t, count(once))
	assert.Equal(t, 2*count(once), count(twice), "two copies")
	// The copies join: no gap longer than one step between them, and the
	// second copy repeats the first value for value.
	vs := twice.Values
	n := count(once)
	first := len(vs) - 2*n
	for k := first; k < len(vs); k++ {
		require.False(t, provider.IsGap(vs[k]), "step %d of %d is a gap", k, len(vs))
	}
	assert.Equal(t, vs[first:first+n], vs[first+n:], "the second copy is the first")
	_, last, ok := twice.Last()
	require.True(t, ok)
	_, lastOnce, _ := once.Last()
	assert.InDelta(t, lastOnce, last, 1e-12, "both end on the trace's last value, now")
	assert.Len(t, vs, q.Steps())

	hundred, _ := load(t, 100)
	assert.Equal(t, q.Steps(), count(hundred), "a hundred copies fill the 30-day window")
}
