package report_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/safety"
)

// A newline, carriage return, tab or other control character in a name,
// ID, reason, rule, action, outcome, title or alert cannot forge a line
// or a column of WriteText's output: such text is printed quoted, as
// strconv.Quote quotes it (and as the repo's errors quote a resource
// ID); printable text is printed as it is. They were printed raw, so a
// resource named "web\n  i-9 ..." added a row of its own.
func TestWriteTextQuotesControlCharacters(t *testing.T) {
	t.Parallel()
	forged := "x\n  i-forged\tconfidence 1.00\tstop\t$999/month\tforged\r\v\f\x1b[2K\u2028\u0085\u202e"
	mk := func(s func(string) string) report.Report {
		return report.Report{
			Title: s("report " + forged), Now: t0,
			Idle: []report.Idle{{ResourceID: s("i-1" + forged), Name: s("web" + forged), Confidence: 0.9,
				Action: safety.Action(s("stop" + forged)), MonthlySavings: 10, Reason: s("cpu low" + forged)}},
			Actions: []report.Action{{Time: t0, ResourceID: s("i-2" + forged), Action: safety.Action(s("stop" + forged)),
				Outcome: s("done" + forged), Reason: s("why" + forged)}},
			Blocks:   []report.RuleCount{{Rule: s("backup" + forged), Count: 1}},
			Realised: []report.Realised{{ResourceID: s("i-3" + forged), Action: s("stop" + forged), Since: t0}},
			Scaling:  []report.Scaling{{ResourceID: s("web" + forged)}},
			Alerts: []alert.Alert{{ID: s("idle_found/i-4" + forged), Severity: alert.SeverityWarning, State: alert.StateFiring,
				Summary: s("idle" + forged), Reason: s("cpu" + forged)}},
		}
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsPrint(r) {
				return r
			}
			return '_'
		}, s)
	}
	var got, want bytes.Buffer
	require.NoError(t, mk(func(s string) string { return s }).WriteText(&got))
	require.NoError(t, mk(clean).WriteText(&want))
	out := got.String()
	assert.Equal(t, strings.Count(want.String(), "\n"), strings.Count(out, "\n"), "no forged line:\n%s", out)
	for i, line := range strings.Split(out, "\n") {
		for _, r := range line {
			assert.True(t, unicode.IsPrint(r), "line %d holds %U: %q", i+1, r, line)
		}
		assert.NotContains(t, line, "i-forged  confidence", "line %d", i+1)
	}
	for _, s := range []string{"i-1" + forged, "web" + forged, "cpu low" + forged, "i-2" + forged, "why" + forged,
		"backup" + forged, "i-3" + forged, "report " + forged} {
		assert.Contains(t, out, strconv.Quote(s))
	}
	// Printable text, quotes and all, is printed as it is, but for one
	// that begins with a quote, which is quoted so that it cannot pass
	// for a quoted one.
	var plain bytes.Buffer
	require.NoError(t, report.Report{Now: t0, Idle: []report.Idle{{ResourceID: `i-"1"`, Name: `"web\n"`, Reason: "a | b"}}}.WriteText(&plain))
	assert.Contains(t, plain.String(), `i-"1"  `+strconv.Quote(`"web\n"`)+"  confidence 0.00  -  $0/month  a | b\n")
}
