package etcdagree_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdagree"
)

type budget struct {
	Events int           `json:"events"`
	Window time.Duration `json:"window"`
}

type embedded struct {
	Keep time.Duration `json:"keep"`
}

type durConf struct {
	embedded
	Period  time.Duration      `json:"period"`
	Step    *time.Duration     `json:"step,omitempty"`
	Skew    time.Duration      `json:"skew"`
	Targets map[string]*budget `json:"targets"`
	Count   int64              `json:"count"`
}

// TestCompareAsPrintsDurations: a time.Duration field of the type, which
// JSON encodes in nanoseconds, differs as a Go duration, in a struct, a
// pointer, a map's element or an embedded struct; a negative one (no
// limit) and a number of another type stay numbers.
func TestCompareAsPrintsDurations(t *testing.T) {
	t.Parallel()
	step := 5 * time.Minute
	mine := durConf{embedded: embedded{Keep: time.Hour}, Period: time.Hour, Skew: -1, Count: 3600000000000,
		Targets: map[string]*budget{"web-1": {Events: 5, Window: time.Hour}}}
	theirs := durConf{embedded: embedded{Keep: 2 * time.Hour}, Period: 90 * time.Minute, Step: &step, Skew: 15 * time.Minute, Count: 1,
		Targets: map[string]*budget{"web-1": {Events: 5, Window: 30 * time.Second}}}
	fm, err := etcdagree.NewFingerprint("a", mine)
	require.NoError(t, err)
	ft, err := etcdagree.NewFingerprint("b", theirs)
	require.NoError(t, err)
	assert.Equal(t, []etcdagree.Diff{
		{Field: "count", Mine: "3600000000000", Theirs: "1"},
		{Field: "keep", Mine: "1h0m0s", Theirs: "2h0m0s"},
		{Field: "period", Mine: "1h0m0s", Theirs: "1h30m0s"},
		{Field: "skew", Mine: "-1", Theirs: "15m0s"},
		{Field: "step", Theirs: "5m0s"},
		{Field: `targets["web-1"].window`, Mine: "1h0m0s", Theirs: "30s"},
	}, etcdagree.CompareAs(reflect.TypeFor[durConf](), fm.Config, ft.Config))
	assert.Equal(t, "period: 1h0m0s (here) vs 1h30m0s",
		etcdagree.CompareAs(reflect.TypeFor[*durConf](), fm.Config, ft.Config)[2].String(), "a pointer's type too")
}
