package prometheus

import (
	"errors"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// TemplateData is what a PromQL template sees. Templates are Go
// text/template text: {{.Matchers}} and the other fields below are replaced
// before the query is sent. Write a space between a PromQL brace and a
// template action ("up{ {{.Matchers}} }"), because "{{{" does not parse.
type TemplateData struct {
	// ID is the resource ID, the value of the ID label, escaped for the
	// inside of a PromQL string: host="{{.ID}}" (or '{{.ID}}') matches it
	// exactly, and a quote or backslash in it cannot end the string.
	ID string
	// IDLabel is the label that identifies a resource. Default: "instance".
	IDLabel string
	// Matchers is the label matcher that selects the resource, such as
	// instance="10.0.0.7:9100" (quoted and escaped for PromQL), ready to
	// put inside braces. For the targets template of List it matches
	// every resource (instance=~".+") or the filter's IDs.
	Matchers string
	// Selector is Matchers in braces: {instance="10.0.0.7:9100"}.
	Selector string
	// Range is the range of rate() and increase() windows as a PromQL
	// duration in milliseconds ("300000ms"): Config.RateWindow for metric
	// templates, the query window for activity templates and
	// Config.Lookback for the targets template.
	Range string
	// Labels are the resource's target labels (from the targets query),
	// such as job, their values escaped as ID is; empty for the targets
	// template itself. Use job="{{index .Labels "job"}}"; a missing key
	// renders as "".
	Labels map[string]string
}

// The default templates. They read prometheus-node-exporter (v1.x metric
// names) and the conventional http_requests_total counter.
const (
	// DefaultTargets discovers targets: the last value of up for every
	// target scraped within the lookback.
	DefaultTargets = `last_over_time(up{ {{.Matchers}} }[{{.Range}}])`

	defaultCPU     = `1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle",{{.Matchers}}}[{{.Range}}]))`
	defaultMemory  = `1 - node_memory_MemAvailable_bytes{ {{.Matchers}} } / node_memory_MemTotal_bytes{ {{.Matchers}} }`
	defaultNetIn   = `sum without (device) (rate(node_network_receive_bytes_total{device!="lo",{{.Matchers}}}[{{.Range}}]))`
	defaultNetOut  = `sum without (device) (rate(node_network_transmit_bytes_total{device!="lo",{{.Matchers}}}[{{.Range}}]))`
	defaultNetUtil = `max without (device) ((rate(node_network_receive_bytes_total{device!="lo",{{.Matchers}}}[{{.Range}}]) + rate(node_network_transmit_bytes_total{device!="lo",{{.Matchers}}}[{{.Range}}])) / (node_network_speed_bytes{device!="lo",{{.Matchers}}} > 0))`
	defaultDiskUtl = `max without (device) (rate(node_disk_io_time_seconds_total{ {{.Matchers}} }[{{.Range}}]))`
	defaultDiskRd  = `sum without (device) (rate(node_disk_read_bytes_total{ {{.Matchers}} }[{{.Range}}]))`
	defaultDiskWr  = `sum without (device) (rate(node_disk_written_bytes_total{ {{.Matchers}} }[{{.Range}}]))`

	defaultAPICalls  = `sum(increase(http_requests_total{ {{.Matchers}} }[{{.Range}}]))`
	defaultProcesses = `sum(increase(node_forks_total{ {{.Matchers}} }[{{.Range}}]))`
)

// DefaultMetricTemplates returns the built-in metric templates, a new map
// each call:
//
//	cpu                  1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle",{{.Matchers}}}[{{.Range}}]))
//	memory               1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes
//	network_in           sum without (device) (rate(node_network_receive_bytes_total{device!="lo",...}[{{.Range}}]))
//	network_out          the same with node_network_transmit_bytes_total
//	network_utilization  max over devices of (receive + transmit rate) / node_network_speed_bytes
//	disk_utilization     max without (device) (rate(node_disk_io_time_seconds_total[{{.Range}}]))
//	disk_read            sum without (device) (rate(node_disk_read_bytes_total[{{.Range}}]))
//	disk_write           sum without (device) (rate(node_disk_written_bytes_total[{{.Range}}]))
func DefaultMetricTemplates() map[provider.Metric]string {
	return map[provider.Metric]string{
		provider.MetricCPU:                defaultCPU,
		provider.MetricMemory:             defaultMemory,
		provider.MetricNetworkIn:          defaultNetIn,
		provider.MetricNetworkOut:         defaultNetOut,
		provider.MetricNetworkUtilization: defaultNetUtil,
		provider.MetricDiskUtilization:    defaultDiskUtl,
		provider.MetricDiskRead:           defaultDiskRd,
		provider.MetricDiskWrite:          defaultDiskWr,
	}
}

// DefaultActivityTemplates returns the built-in activity templates, a new
// map each call: api_calls counts http_requests_total and processes counts
// node_forks_total (processes started), each as
// sum(increase(COUNTER{ {{.Matchers}} }[{{.Range}}])) over the window.
func DefaultActivityTemplates() map[provider.ActivityKind]string {
	return map[provider.ActivityKind]string{
		provider.ActivityAPICalls:  defaultAPICalls,
		provider.ActivityProcesses: defaultProcesses,
	}
}

// merge returns defaults overlaid with user: a user entry replaces the
// default and an empty user entry removes it.
func merge[K comparable](defaults, user map[K]string) map[K]string {
	out := maps.Clone(defaults)
	for k, v := range user {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// tmpl is a compiled, validated template.
type tmpl struct {
	text string
	t    *template.Template
}

// compile parses text and checks it at construction: it must parse, use
// only fields of TemplateData, select the resource (render differently for
// two IDs) and render to text with balanced brackets and closed strings.
func compile(field, text string, idLabel string) (*tmpl, error) {
	if strings.TrimSpace(text) == "" {
		return nil, provider.Invalid(field, text, "must not be empty")
	}
	t, err := template.New(field).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, provider.Invalid(field, text, "does not parse as a Go template: "+err.Error())
	}
	c := &tmpl{text: text, t: t}
	probe := func(id string) (string, error) {
		return c.render(newData(idLabel, id, 5*time.Minute, map[string]string{idLabel: id, "job": "probe"}))
	}
	a, err := probe("idlescale-probe-a")
	if err != nil {
		return nil, provider.Invalid(field, text, "does not render: "+err.Error())
	}
	b, err := probe("idlescale-probe-b")
	if err != nil {
		return nil, provider.Invalid(field, text, "does not render: "+err.Error())
	}
	if a == b {
		return nil, provider.Invalid(field, text, "must select the resource with {{.Matchers}}, {{.Selector}} or {{.ID}}")
	}
	if err := checkSyntax(a); err != nil {
		return nil, provider.Invalid(field, text, "renders to invalid PromQL: "+err.Error())
	}
	return c, nil
}

func (c *tmpl) render(d TemplateData) (string, error) {
	var b strings.Builder
	if err := c.t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// targetsData returns the TemplateData of the targets query: matchers
// select the targets; there is no resource, so ID and Labels are empty.
func targetsData(idLabel, matchers string, rng time.Duration) TemplateData {
	return TemplateData{IDLabel: idLabel, Matchers: matchers, Selector: "{" + matchers + "}", Range: promDuration(rng)}
}

// compileTargets compiles the targets template (see compile), which must
// also select the targets with {{.Matchers}} or {{.Selector}}: it renders
// with ID and Labels empty.
func compileTargets(field, text, idLabel string) (*tmpl, error) {
	c, err := compile(field, text, idLabel)
	if err != nil {
		return nil, err
	}
	a, errA := c.render(targetsData(idLabel, idLabel+`=~"idlescale-probe-a"`, 5*time.Minute))
	b, errB := c.render(targetsData(idLabel, idLabel+`=~"idlescale-probe-b"`, 5*time.Minute))
	if err := errors.Join(errA, errB); err != nil {
		return nil, provider.Invalid(field, text, "does not render: "+err.Error())
	}
	if a == b {
		return nil, provider.Invalid(field, text, "must select the targets with {{.Matchers}} or {{.Selector}}: {{.ID}} and {{.Labels}} are empty in the targets query")
	}
	return c, nil
}

// newData returns the TemplateData of one resource.
func newData(idLabel, id string, rng time.Duration, labels map[string]string) TemplateData {
	m := idLabel + "=" + strconv.Quote(id)
	escaped := make(map[string]string, len(labels))
	for k, v := range labels {
		escaped[k] = escapeString(v)
	}
	return TemplateData{ID: escapeString(id), IDLabel: idLabel, Matchers: m, Selector: "{" + m + "}", Range: promDuration(rng), Labels: escaped}
}

// escapeString escapes s for the inside of a PromQL string, whose escapes
// are Go's: quotes, backticks and backslashes as \xNN, which reads the
// same in double and single quotes, and what is not printable as
// strconv.Quote does, so that nothing in s can end the string.
func escapeString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\'' || r == '`' || r == '\\':
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(r)>>4, 16))
			b.WriteString(strconv.FormatInt(int64(r)&15, 16))
		case strconv.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// promDuration formats d as a PromQL duration in whole milliseconds.
func promDuration(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// checkSyntax checks that brackets are balanced and nested and that string
// literals are closed, skipping comments. It is the part of PromQL's
// grammar worth checking before the server sees the query; the server
// checks the rest (see Source.Check).
func checkSyntax(s string) error {
	var stack []rune
	closing := map[rune]rune{')': '(', ']': '[', '}': '{'}
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch c {
		case '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(s) && rune(s[j]) != c; j++ {
				if s[j] == '\\' && c != '`' {
					j++
				}
			}
			if j >= len(s) {
				return errors.New("unterminated string starting at byte " + strconv.Itoa(i))
			}
			i = j
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != closing[c] {
				return errors.New("unbalanced " + string(c) + " at byte " + strconv.Itoa(i))
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return errors.New("unclosed " + string(stack[len(stack)-1]))
	}
	return nil
}

// plainSelector matches a bare vector selector: a metric name, a brace
// block of matchers, or both.
var plainSelector = regexp.MustCompile("^(?:[a-zA-Z_:][a-zA-Z0-9_:]*\\s*)?(?:\\{(?:[^{}\"'`]|\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`)*\\})?$")

// isPlainSelector reports whether expr is a bare vector selector, whose raw
// samples a range selector can reach without a subquery.
func isPlainSelector(expr string) bool {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return false
	}
	switch strings.ToLower(expr) {
	case "nan", "inf":
		return false
	}
	return plainSelector.MatchString(expr)
}
