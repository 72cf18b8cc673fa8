package provider_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

func errorsIsInvalid(err error) bool { return errors.Is(err, provider.ErrInvalid) }

func TestValidateID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"i-0abc", "arn:aws:lambda:us-east-1:123:function:f", "web/prod"} {
		require.NoError(t, provider.ValidateID(id), id)
	}
	for _, id := range []string{"", "a b", "tab\t", "nl\n", strings.Repeat("x", provider.MaxIDLength+1), "bad\xffutf8"} {
		require.ErrorIs(t, provider.ValidateID(id), provider.ErrInvalid, "%q", id)
	}
}

// TestValidateIDEveryRune checks ValidateID's byte-wise fast path against
// its definition for every rune (and every byte that is not valid UTF-8),
// alone and between valid characters: an ID is invalid exactly when it
// holds white space, a control character or invalid UTF-8.
func TestValidateIDEveryRune(t *testing.T) {
	t.Parallel()
	invalid := func(id string) bool {
		return strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0
	}
	check := func(id string) {
		if err := provider.ValidateID(id); (err != nil) != invalid(id) {
			t.Fatalf("ValidateID(%q) = %v, want invalid %v", id, err, invalid(id))
		}
	}
	bad := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		s := string(r)
		check(s)
		check("i-" + s + "x")
		if invalid(s) {
			bad++
		}
	}
	for b := range 256 {
		check("i-" + string([]byte{byte(b)}) + "x")
	}
	assert.Greater(t, bad, 2048+65, "surrogates, controls and spaces are refused")
	require.Error(t, provider.ValidateID("i-\x7f"), "DEL, the last ASCII byte")
	require.NoError(t, provider.ValidateID("!~"), "the first and last printable ASCII bytes")
}

func TestResourceValidate(t *testing.T) {
	t.Parallel()
	ok := provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning}
	require.NoError(t, ok.Validate())
	large := ok
	large.HourlyCost = math.MaxFloat64 / provider.HoursPerMonth
	require.NoError(t, large.Validate(), "a cost whose month is finite")
	tests := []struct {
		name  string
		edit  func(*provider.Resource)
		field string
	}{
		{"kind", func(r *provider.Resource) { r.Kind = "" }, "kind"},
		{"state", func(r *provider.Resource) { r.State = "asleep" }, "state"},
		{"criticality", func(r *provider.Resource) { r.Criticality = "extreme" }, "criticality"},
		{"cost NaN", func(r *provider.Resource) { r.HourlyCost = math.NaN() }, "hourly_cost"},
		{"cost negative", func(r *provider.Resource) { r.HourlyCost = -1 }, "hourly_cost"},
		// Its month (× HoursPerMonth) passes the largest float64: savings
		// and reports would be infinite, which JSON cannot encode.
		{"cost whose month overflows", func(r *provider.Resource) { r.HourlyCost = 1e306 }, "hourly_cost"},
		{"zone", func(r *provider.Resource) { r.TimeZone = "Nowhere/City" }, "time_zone"},
		{"tag key", func(r *provider.Resource) { r.Tags = map[string]string{"": "x"} }, "tags"},
		{"size", func(r *provider.Resource) { r.Size = provider.Size{MemoryMiB: -5} }, "size.memory_mib"},
		{"function size", func(r *provider.Resource) {
			r.Kind = provider.KindFunction
			r.Size = provider.Size{MemoryMiB: 256}
		}, "size.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := ok
			tt.edit(&r)
			var ie *provider.InvalidError
			require.ErrorAs(t, r.Validate(), &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func TestResourceHelpers(t *testing.T) {
	t.Parallel()
	launch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := provider.Resource{ID: "i", Kind: provider.KindInstance, LaunchTime: launch, TimeZone: "Europe/Berlin", Tags: map[string]string{"a": "1"}}
	assert.Equal(t, 48*time.Hour, r.Age(launch.Add(48*time.Hour)))
	assert.Equal(t, time.Duration(0), r.Age(launch.Add(-time.Hour)))
	assert.Equal(t, "Europe/Berlin", r.Location(time.UTC).String())
	c := r.Clone()
	c.Tags["a"] = "2"
	assert.Equal(t, "1", r.Tags["a"], "Clone must copy tags")
	assert.Equal(t, time.UTC, provider.Resource{}.Location(time.UTC))
}

func TestCapacityValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give  provider.Capacity
		field string
	}{
		{provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: -1, Max: 2, Desired: 1}}, "min"},
		{provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: -2, Desired: 0}}, "max"},
		{provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 3, Max: 2, Desired: 2}}, "min"},
		{provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 3, Desired: 4}}, "desired"},
		{provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 3, Desired: 2}, Current: -1}, "current"},
		{provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 3, Desired: 2}, Current: 2, Ready: 3}, "ready"},
	}
	for _, tt := range tests {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.give.Validate(), &ie, "%+v", tt.give)
		assert.Equal(t, tt.field, ie.Field)
	}
	ok := provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 3, Desired: 2}, Current: 2, Ready: 2}
	require.NoError(t, ok.Validate())
	assert.True(t, ok.Settled())
}

func TestMetricAndStatistic(t *testing.T) {
	t.Parallel()
	for _, m := range provider.Metrics() {
		require.NoError(t, m.Validate())
		assert.NotEqual(t, provider.UnitUnknown, m.Unit(), m)
	}
	assert.True(t, provider.MetricCPU.IsUtilization())
	assert.False(t, provider.MetricNetworkIn.IsUtilization())
	custom := provider.CustomMetric("queue_depth")
	require.NoError(t, custom.Validate())
	assert.True(t, custom.IsCustom())
	for _, bad := range []provider.Metric{"", "CPU", "custom/", "custom/has space", provider.Metric("custom/" + strings.Repeat("x", 201))} {
		require.ErrorIs(t, bad.Validate(), provider.ErrUnknownMetric, "%q", bad)
	}
	p, ok := provider.Percentile(99.9).Percentile()
	require.True(t, ok)
	assert.InDelta(t, 99.9, p, 1e-12)
	for _, bad := range []provider.Statistic{"p0", "p100", "pp", "avg", "p-5", "p", "p1e1", "p+50", "p0x1p4", "p.5", "p5.", "p5.5.5", "p 5", "pInf"} {
		require.ErrorIs(t, bad.Validate(), provider.ErrInvalid, "%q", bad)
	}
	for _, good := range []provider.Statistic{"p1", "p50", "p99.99", "p0.001", "p05"} {
		require.NoError(t, good.Validate(), "%q", good)
	}
}

func TestSizeAndActivityAndBackup(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, provider.Size{}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.Size{VCPU: math.Inf(1)}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.Size{Timeout: time.Second, MemoryMiB: 128}.ValidateFor(provider.KindInstance), provider.ErrInvalid)
	require.NoError(t, provider.Size{Timeout: time.Second, MemoryMiB: 128}.ValidateFor(provider.KindFunction))

	require.ErrorIs(t, provider.ActivityCount{Kind: "telepathy", Count: 1}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.ActivityCount{Kind: provider.ActivityLogins, Count: -1}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.ActivityCount{Kind: provider.ActivityLogins, Count: math.NaN()}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.ActivityQuery{ResourceID: "r", Start: at(5), End: at(5)}.Validate(), provider.ErrInvalid)

	b := provider.Backup{ID: "snap", ResourceID: "r", Time: at(0)}
	require.NoError(t, b.Validate())
	assert.Equal(t, time.Hour, b.Age(at(60)))
	b.Time = time.Time{}
	require.ErrorIs(t, b.Validate(), provider.ErrInvalid)
}

func TestFilter(t *testing.T) {
	t.Parallel()
	r := provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning, Region: "eu-west-1", Environment: "staging", Tags: map[string]string{"team": "x", "cost": "low"}, Size: provider.Size{InstanceType: "m5.large"}}
	tests := []struct {
		name string
		give provider.Filter
		want bool
	}{
		{"zero matches all", provider.Filter{}, true},
		{"id", provider.Filter{IDs: []string{"i-2", "i-1"}}, true},
		{"other id", provider.Filter{IDs: []string{"i-2"}}, false},
		{"kind", provider.Filter{Kinds: []provider.Kind{provider.KindGroup}}, false},
		{"state", provider.Filter{States: []provider.State{provider.StateRunning}}, true},
		{"region", provider.Filter{Region: "us-east-1"}, false},
		{"environment", provider.Filter{Environment: "staging"}, true},
		{"tag value", provider.Filter{Tags: map[string]string{"team": "x"}}, true},
		{"tag wrong value", provider.Filter{Tags: map[string]string{"team": "y"}}, false},
		{"tag any value", provider.Filter{Tags: map[string]string{"cost": ""}}, true},
		{"tag missing", provider.Filter{Tags: map[string]string{"owner": ""}}, false},
		{"instance type", provider.Filter{InstanceTypes: []string{"t3.micro", "m5.large"}}, true},
		{"other instance type", provider.Filter{InstanceTypes: []string{"t3.micro"}}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.give.Match(r), tt.name)
	}
	require.ErrorIs(t, provider.Filter{IDs: []string{""}}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.Filter{Tags: map[string]string{"": "x"}}.Validate(), provider.ErrInvalid)
	require.ErrorIs(t, provider.Filter{InstanceTypes: []string{""}}.Validate(), provider.ErrInvalid)
}

func TestInvalidErrorMessage(t *testing.T) {
	t.Parallel()
	err := provider.Within("resources[2]", provider.Invalid("capacity.min", -1, "must be ≥ 0"))
	require.EqualError(t, err, "invalid resources[2].capacity.min -1: must be ≥ 0")
	err = provider.Invalid("id", "a b", "no spaces")
	require.EqualError(t, err, `invalid id "a b": no spaces`)
}

// TestResourceChangedFrom pins what counts as a change of a resource
// between two reads: every field but its state and its price, each named;
// nil and empty tags and one instant in two zones are the same.
func TestResourceChangedFrom(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	base := provider.Resource{ID: "i-1", Kind: provider.KindInstance, Provider: "aws", Region: "eu-west-1", Name: "web",
		State: provider.StateRunning, Environment: "production", Role: "web", Criticality: provider.CriticalityLow, Owner: "team",
		TimeZone: "Europe/Paris", LaunchTime: at, HourlyCost: 0.1, Size: provider.Size{InstanceType: "m5.large"}}
	assert.Empty(t, base.ChangedFrom(base))
	same := base
	same.State, same.HourlyCost = provider.StateStopping, 0.2
	same.Tags = map[string]string{}
	same.LaunchTime = at.In(time.FixedZone("X", 3600))
	assert.Empty(t, same.ChangedFrom(base), "state, price, nil vs empty tags, another zone of one instant")
	for _, tt := range []struct {
		field  string
		change func(r *provider.Resource)
	}{
		{"id", func(r *provider.Resource) { r.ID = "i-2" }},
		{"kind", func(r *provider.Resource) { r.Kind = provider.KindDatabase }},
		{"provider", func(r *provider.Resource) { r.Provider = "memory" }},
		{"region", func(r *provider.Resource) { r.Region = "us-east-1" }},
		{"name", func(r *provider.Resource) { r.Name = "api" }},
		{"tags", func(r *provider.Resource) { r.Tags = map[string]string{"k": "v"} }},
		{"environment", func(r *provider.Resource) { r.Environment = "staging" }},
		{"role", func(r *provider.Resource) { r.Role = "db" }},
		{"criticality", func(r *provider.Resource) { r.Criticality = provider.CriticalityCritical }},
		{"owner", func(r *provider.Resource) { r.Owner = "other" }},
		{"protected", func(r *provider.Resource) { r.Protected = true }},
		{"time_zone", func(r *provider.Resource) { r.TimeZone = "UTC" }},
		{"launch_time", func(r *provider.Resource) { r.LaunchTime = at.Add(time.Second) }},
		{"size", func(r *provider.Resource) { r.Size.InstanceType = "m5.xlarge" }},
		{"scaled_by", func(r *provider.Resource) { r.ScaledBy = "HorizontalPodAutoscaler shop/web" }},
	} {
		r := base
		tt.change(&r)
		assert.Equal(t, []string{tt.field}, r.ChangedFrom(base), tt.field)
	}
	two := base
	two.Protected, two.LaunchTime = true, at.Add(time.Hour)
	assert.Equal(t, []string{"protected", "launch_time"}, two.ChangedFrom(base), "in field order")
}

// LoadZone refuses the machine's own zone, whatever the spelling (replicas
// in two zones would read it apart), and the empty name, and loads an
// IANA name; a resource with such a zone is invalid, and its Location
// falls back.
func TestLoadZoneRefusesTheMachinesZone(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Local", "local", "LOCAL", "localtime", "Localtime", "", "Mars/Olympus_Mons"} {
		_, err := provider.LoadZone(name)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), strconv.Quote(name))
	}
	loc, err := provider.LoadZone("Europe/Berlin")
	require.NoError(t, err)
	assert.Equal(t, "Europe/Berlin", loc.String())

	r := provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning, TimeZone: "Local"}
	var inv *provider.InvalidError
	require.ErrorAs(t, r.Validate(), &inv)
	assert.Equal(t, "time_zone", inv.Field)
	assert.Equal(t, time.UTC, r.Location(time.UTC), "falls back")
}

// ListedOnce keeps the resources listed once, in order, and counts the
// others; a listing without repeats comes back as it is.
func TestListedOnce(t *testing.T) {
	t.Parallel()
	res := func(ids ...string) []provider.Resource {
		var out []provider.Resource
		for _, id := range ids {
			out = append(out, provider.Resource{ID: id})
		}
		return out
	}
	plain := res("a", "b", "c")
	once, repeated := provider.ListedOnce(plain)
	assert.Equal(t, plain, once)
	assert.Nil(t, repeated)
	once, repeated = provider.ListedOnce(res("d", "z", "a", "z", "b", "d", "z", "c"))
	assert.Equal(t, res("a", "b", "c"), once)
	assert.Equal(t, map[string]int{"d": 2, "z": 3}, repeated)
	once, repeated = provider.ListedOnce(nil)
	assert.Empty(t, once)
	assert.Nil(t, repeated)
}

// TestActivityCountCovers: the part of a window a count covers starts at
// the later of the window's start and Since, and is never negative.
func TestActivityCountCovers(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(28 * 24 * time.Hour)
	for _, tt := range []struct {
		since time.Time
		want  time.Duration
	}{
		{time.Time{}, 28 * 24 * time.Hour},
		{start.Add(-time.Hour), 28 * 24 * time.Hour},
		{start, 28 * 24 * time.Hour},
		{start.Add(time.Nanosecond), 28*24*time.Hour - time.Nanosecond},
		{end.Add(-15 * 24 * time.Hour), 15 * 24 * time.Hour},
		{end, 0},
		{end.Add(time.Hour), 0},
	} {
		assert.Equal(t, tt.want, provider.ActivityCount{Since: tt.since}.Covers(start, end), "since %s", tt.since)
	}
}
