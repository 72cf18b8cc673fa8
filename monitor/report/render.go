package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes rep as plain text: totals, idle resources, actions and
// why, blocking rules, realised savings, scaling and alerts. Empty parts
// say so ("no idle resources"). A title, name, ID, reason, rule or alert
// holding a character that is not printable (a newline, a tab, another
// control character) or beginning with '"' is printed quoted, as
// strconv.Quote quotes it, so that it cannot forge a line or a column.
func (rep Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	t := rep.Totals
	ew.printf("%s at %s\n", text(rep.Title), rep.Now.UTC().Format(time.RFC3339))
	ew.printf("%d resources, %d idle; estimated savings %s/month; realised %s so far (%s/month now)\n",
		t.Resources, t.Idle, money(t.EstimatedMonthlySavings, 0), money(t.RealisedSavings, 2), money(t.RealisedMonthlyRate, 0))
	ew.printf("actions: %d done, %d would act, %d deferred, %d need approval, %d blocked, %d rate limited, %d failed; %d alerts firing\n",
		t.Done, t.WouldAct, t.Deferred, t.NeedsApproval, t.Blocked, t.RateLimited, t.Failed, t.FiringAlerts)

	ew.printf("\nidle resources\n")
	if len(rep.Idle) == 0 {
		ew.printf("  no idle resources\n")
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, i := range rep.Idle {
		fmt.Fprintf(tw, "  %s\t%s\tconfidence %.2f\t%s\t%s/month\t%s\n", text(i.ResourceID), text(i.Name), i.Confidence,
			orDash(text(string(i.Action))), money(i.MonthlySavings, 0), orDash(text(i.Reason)))
	}
	_ = tw.Flush()

	ew.printf("\nactions\n")
	if len(rep.Actions) == 0 {
		ew.printf("  no actions\n")
	}
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, a := range rep.Actions {
		dry := ""
		if a.DryRun {
			dry = " (dry run)"
		}
		fmt.Fprintf(tw, "  %s\t%s %s\t%s%s\t%s\n", a.Time.UTC().Format("Jan 02 15:04"), orDash(text(string(a.Action))),
			text(a.ResourceID), text(a.Outcome), dry, orDash(text(a.Reason)))
	}
	_ = tw.Flush()
	if len(rep.Blocks) > 0 {
		parts := make([]string, len(rep.Blocks))
		for i, b := range rep.Blocks {
			parts[i] = fmt.Sprintf("%s %d", text(b.Rule), b.Count)
		}
		ew.printf("  blocked by: %s\n", strings.Join(parts, ", "))
	}

	ew.printf("\nrealised savings\n")
	if len(rep.Realised) == 0 {
		ew.printf("  nothing executed yet\n")
	}
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, r := range rep.Realised {
		fmt.Fprintf(tw, "  %s\t%s since %s\t%s/h → %s/h\t%.1f h (%.1f running)\tsaved %s\n", text(r.ResourceID), text(r.Action),
			r.Since.UTC().Format("Jan 02 15:04"), money(r.HourlyBefore, 3), money(r.HourlyNow, 3), r.Hours, r.RunningHours, money(r.Saved, 2))
	}
	_ = tw.Flush()

	if len(rep.Scaling) > 0 {
		ew.printf("\nscaling\n")
		for _, s := range rep.Scaling {
			ew.printf("  %s: %d plans, %d steps executed, %d previewed, %d failed, %d rollbacks; %.1f instance-hours (%s, capacity %d–%d); %d of %d demand steps over capacity\n",
				text(s.ResourceID), s.Plans, s.Steps, s.Previewed, s.Failures, s.Rollbacks, s.CapacityHours, money(s.Cost, 2), s.MinCapacity, s.MaxCapacity,
				s.SLOViolations, s.DemandSteps)
		}
	}

	ew.printf("\nalerts\n")
	if len(rep.Alerts) == 0 {
		ew.printf("  no alerts\n")
	}
	for _, a := range rep.Alerts {
		ew.printf("  %s\n", text(a.String()))
	}
	return ew.err
}

// text returns s as WriteText prints untrusted text: as it is when every
// rune is printable, else quoted by strconv.Quote (a tab would start a
// column, a newline or a carriage return a line); also quoted when it
// begins with '"', so that it cannot pass for quoted text.
func text(s string) string {
	if strings.HasPrefix(s, `"`) || strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(Funcs()).Parse(htmlSource))

// Funcs returns the template functions the HTML report uses (money,
// percentages, times), for a host that writes its own template.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"money": func(v float64) string { return money(v, 2) },
		"pct":   func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
		"when":  func(t time.Time) string { return t.UTC().Format("Mon Jan 02 15:04 MST") },
		"hours": func(v float64) string { return fmt.Sprintf("%.1f h", v) },
	}
}

// money returns v as an amount with decimals digits: "$1.50", "-$1.50"
// (the sign before the currency), and "$0.00" for an amount that rounds to
// zero, whichever side of it v is.
func money(v float64, decimals int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	if v < 0 && strings.Trim(s, "0.") != "" {
		return "-$" + s
	}
	return "$" + s
}

// RenderedChart is a chart with its SVG rendered, for templates.
type RenderedChart struct {
	Chart
	// SVG is the chart's SVG, safe to inline: gonum/plot escapes every
	// text it draws.
	SVG template.HTML
}

// Render renders charts to SVG for inlining.
func Render(charts ...Chart) ([]RenderedChart, error) {
	out := make([]RenderedChart, 0, len(charts))
	for _, c := range charts {
		s, err := c.SVGString()
		if err != nil {
			return nil, err
		}
		out = append(out, RenderedChart{Chart: c, SVG: template.HTML(s)}) //nolint:gosec // gonum/plot escapes its text (vgsvg.FillString)
	}
	return out, nil
}

// WriteHTML writes rep as one self-contained HTML page (no external
// resource) with charts inlined as SVG. Every name, reason and label is
// escaped by html/template (and by gonum/plot inside the charts).
func (rep Report) WriteHTML(w io.Writer, charts ...Chart) error {
	rendered, err := Render(charts...)
	if err != nil {
		return err
	}
	return htmlTemplate.Execute(w, struct {
		Report
		Charts []RenderedChart
	}{rep, rendered})
}
