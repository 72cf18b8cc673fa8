package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command evaluates a trace and prints its row of the table and the
// checks of the accuracy goal, each marked ok or FAIL. On nab-elb-requests
// (the shortest trace: 7 origins) the per-trace checks but the pinball
// ratio are met; the pinball ratio (1.067) is the one not met yet on any
// trace (forecast's TestAccuracyOnRealTraces says so and asserts the rest).
// With one trace the geometric means are that trace's own figures, so its
// relative MASE (0.828, above the means' bound 0.75) and pinball ratio
// fail there too.
func TestForecastEvalOneTrace(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, "../../testdata", "nab-elb-requests"))
	text := out.String()
	t.Log("\n" + text)
	assert.Regexp(t, `(?m)^ +trace +origins +relMASE `, text, "the table's header")
	assert.Regexp(t, `(?m)^ +nab-elb-requests +7 +0\.828 `, text, "the trace's row: 7 origins, relative MASE 0.828")
	assert.NotContains(t, text, "nyc-taxi", "only the trace asked for")
	for _, want := range []string{
		"\nchecks:\nnab-elb-requests  vs best naive 0.871 ≤ 1.05 ok  ",
		"  pinball ratio 1.067 ≤ 1.00 FAIL  \n",
		"\ngeometric mean    relMASE 0.828 ≤ 0.75 FAIL  ",
		"\n3 check(s) FAIL\n",
		"\nmethod: forecast.Auto{Periods: [24 168]}; ",
	} {
		assert.Contains(t, text, want)
	}
	assert.Regexp(t, `nab-elb-requests .* p90 cover 0\.\d{3} in \[0\.85, 0\.95\] ok `, text)
	assert.Regexp(t, `nab-elb-requests .* 90% PI cover 0\.\d{3} in \[0\.85, 0\.95\] ok `, text)
}

func TestForecastEvalUnknownTrace(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), &bytes.Buffer{}, "../../testdata", "nope")
	require.ErrorContains(t, err, `no trace named "nope"`)
}
