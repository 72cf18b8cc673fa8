package prometheus

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

func TestIsPlainSelector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give string
		want bool
	}{
		{`up`, true},
		{`cpu_utilization{instance="a"}`, true},
		{`  node:cpu:ratio {instance="a", job=~"x|y"}  `, true},
		{`{__name__="up",instance="a"}`, true},
		{`x{a="}{"}`, true},
		{`x{a='b'}`, true},
		{"x{a=`b`}", true},
		{`2 * x{a="b"}`, false},
		{`rate(x[5m])`, false},
		{`x{a="b"} offset 5m`, false},
		{`x{a="b"} / y`, false},
		{`x{a="b"}[5m]`, false},
		{`NaN`, false},
		{``, false},
		{`1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, isPlainSelector(tt.give))
		})
	}
}

func TestCheckSyntax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give    string
		wantErr bool
	}{
		{`sum(rate(x{a="b"}[5m]))`, false},
		{`x{a="}"}`, false},
		{`x{a="\""}`, false},
		{"x # comment with ( and \"\nand more", false},
		{`x{a="b"`, true},
		{`sum(x]`, true},
		{`x{a="b}`, true},
		{`)(`, true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			err := checkSyntax(tt.give)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestReduceExpr(t *testing.T) {
	t.Parallel()
	const w, r = 5*time.Minute - time.Millisecond, time.Minute
	tests := []struct {
		give   string
		stat   provider.Statistic
		offset time.Duration
		want   string
	}{
		{`x{a="b"}`, "", 0, `avg_over_time(x{a="b"}[299999ms])`},
		{`x{a="b"}`, provider.StatMax, 0, `max_over_time(x{a="b"}[299999ms])`},
		{`x{a="b"}`, provider.StatMin, 0, `min_over_time(x{a="b"}[299999ms])`},
		{`x{a="b"}`, provider.StatSum, 0, `sum_over_time(x{a="b"}[299999ms])`},
		{`x{a="b"}`, provider.StatCount, 0, `count_over_time(x{a="b"}[299999ms])`},
		{`x{a="b"}`, provider.StatLast, 0, `last_over_time(x{a="b"}[299999ms])`},
		{`x{a="b"}`, provider.Percentile(99.5), 0, `quantile_over_time(0.995, x{a="b"}[299999ms])`},
		{`2 * x`, provider.StatMean, 0, `avg_over_time((2 * x)[299999ms:60000ms])`},
		{`x{a="b"}`, provider.StatMax, time.Millisecond, `max_over_time(x{a="b"}[299999ms] offset 1ms)`},
		{`2 * x`, provider.StatMean, 4 * time.Minute, `avg_over_time((2 * x)[299999ms:60000ms] offset 240000ms)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, reduceExpr(tt.give, tt.stat, w, tt.offset, r))
		})
	}
}

func TestMatchersAreEscaped(t *testing.T) {
	t.Parallel()
	d := newData("instance", `we"ird\id`, time.Minute, nil)
	assert.Equal(t, `instance="we\"ird\\id"`, d.Matchers)
	assert.Equal(t, `{instance="we\"ird\\id"}`, d.Selector)
	assert.Equal(t, "60000ms", d.Range)
	require.NoError(t, checkSyntax(d.Selector))
}

// FuzzCompile: no template text makes compile panic, a rejected one is
// reported as invalid, and an accepted one renders for any valid ID
// without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range DefaultMetricTemplates() {
		f.Add(s, "10.0.0.1:9100")
	}
	f.Add(`x{{{.Matchers}}}`, "a")
	f.Add(`x{ {{.Matchers}} }[{{.Range}}`, `"}`)
	f.Add(`{{index .Labels "job"}}{{.ID}}`, `\`)
	f.Fuzz(func(t *testing.T, text, id string) {
		c, err := compile("config.metrics[x]", text, "instance")
		if err != nil {
			require.ErrorIs(t, err, provider.ErrInvalid)
			return
		}
		if provider.ValidateID(id) != nil {
			return
		}
		// Quoted IDs in {{.Matchers}} cannot unbalance brackets; an
		// unquoted {{.ID}} can, and then the server rejects the query.
		_, _ = c.render(newData("instance", id, time.Minute, map[string]string{"instance": id}))
	})
}
