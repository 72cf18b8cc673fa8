package report_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/report"
)

// Money is written with its sign before the currency ("-$1.50", a resize
// to a dearer type that costs more than it saved), and an amount that
// rounds to zero is "$0.00", never "$-0.00": the report wrote "$-1.50" and
// "$-0.00" (a sum of savings a floating-point hair under zero), which
// reads as a loss where there is none.
func TestMoneyIsSignedBeforeTheCurrency(t *testing.T) {
	t.Parallel()
	rep := report.Report{Title: "r", Now: t0,
		Totals:   report.Totals{RealisedSavings: -0.004, RealisedMonthlyRate: -73.05, EstimatedMonthlySavings: -0.2},
		Realised: []report.Realised{{ResourceID: "i-1", Action: "resize", Since: t0, HourlyBefore: 0.1, HourlyNow: 0.2, Saved: -1.5}},
	}
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	out := text.String()
	assert.Contains(t, out, "estimated savings $0/month; realised $0.00 so far (-$73/month now)")
	assert.Contains(t, out, "saved -$1.50")
	assert.NotContains(t, out, "$-")

	money := report.Funcs()["money"].(func(float64) string)
	for give, want := range map[float64]string{-1.5: "-$1.50", -0.004: "$0.00", 0: "$0.00", 2.345: "$2.35", -1234.5: "-$1234.50"} {
		assert.Equal(t, want, money(give), give)
	}
}
