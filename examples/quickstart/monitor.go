package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// quickMonitor is the monitor of the quickstart: the event log (memory and
// a JSON-lines file), the alerts, and a progress bar.
type quickMonitor struct {
	dir    string
	file   *monitor.FileSink
	alerts *alert.Alerter
	log    *monitor.Log
	bar    *progressbar.ProgressBar
}

// progressOut returns w when it is a terminal, so that the progress bar
// shows there and stays quiet when the output goes to a file or a pipe.
func progressOut(f *os.File) io.Writer {
	if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		return f
	}
	return nil
}

func newMonitor(o options, cloud *memory.Cloud) (*quickMonitor, error) {
	dir := o.reportDir
	if dir == "" {
		d, err := os.MkdirTemp("", "idlescale-quickstart-")
		if err != nil {
			return nil, err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := &quickMonitor{dir: dir}
	var err error
	if m.file, err = monitor.NewFileSink(monitor.FileConfig{Path: filepath.Join(dir, "events.jsonl")}); err != nil {
		return nil, err
	}
	if m.alerts, err = alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cloud})); err != nil {
		return nil, err
	}
	if m.log, err = monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", m.file), monitor.WithSink("alerts", m.alerts)); err != nil {
		return nil, err
	}
	m.bar = progressbar.NewOptions(0, progressbar.OptionSetWriter(orDiscard(o.progress)), progressbar.OptionSetVisibility(o.progress != nil),
		progressbar.OptionSetDescription("quickstart"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30))
	return m, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// step advances the progress bar, saying what comes next.
func (m *quickMonitor) step(what string) {
	m.bar.Describe(what)
	_ = m.bar.Add(1)
}

func (m *quickMonitor) close() {
	_ = m.bar.Finish()
	_ = m.file.Close()
}

// finish evaluates the metric alerts, prints the alerts raised, and writes
// the report, the charts and the events to the directory. It returns the
// files written.
func (m *quickMonitor) finish(ctx context.Context, w io.Writer, cloud *memory.Cloud, now time.Time, day *dayResult) ([]string, error) {
	m.step("alerts")
	// The metric rules (CPU above 90 %) read the cloud at now; the event
	// rules have seen every event already.
	if err := m.alerts.Evaluate(ctx, now); err != nil {
		return nil, err
	}
	alerts := m.alerts.Alerts()
	fmt.Fprintf(w, "\nalerts raised: %d\n", len(alerts))
	for _, a := range alerts {
		fmt.Fprintf(w, "  %s\n", a)
	}

	m.step("report")
	evs, err := m.log.Query(monitor.Query{})
	if err != nil {
		return nil, err
	}
	// The report covers the events in memory (from the earliest); the
	// changes the log keeps from before them count in its realised
	// savings and capacity.
	evs, from, err := monitor.WithChanges(m.log, evs)
	if err != nil {
		return nil, err
	}
	resources, err := cloud.List(ctx, provider.Filter{})
	if err != nil {
		return nil, err
	}
	in := report.Input{Title: "idlescale quickstart", Now: now, From: from, Events: evs, Resources: resources, Alerts: alerts}
	if day != nil {
		in.Targets = []report.Target{day.target()}
	}
	rep, err := report.Build(in)
	if err != nil {
		return nil, err
	}
	end := now.Truncate(time.Hour)
	util, err := report.FleetUtilization(ctx, report.Fleet{Inventory: cloud, Metrics: cloud}, provider.Filter{},
		end.Add(-48*time.Hour), end, time.Hour)
	if err != nil {
		return nil, err
	}
	charts := []report.Chart{util}
	if day != nil {
		charts = append(charts, report.CapacityChart(evs, "asg-web", day.demand, perInstance))
	}
	charts = append(charts, report.IdleChart(rep), report.SafetyChart(evs),
		report.CostChart(evs, resources, now.Add(-24*time.Hour), now, 15*time.Minute),
		report.SavingsChart(evs, resources, now.Add(-24*time.Hour), now, 15*time.Minute))

	var files []string
	write := func(name string, f func(io.Writer) error) error {
		path := filepath.Join(m.dir, name)
		out, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(out); err != nil {
			_ = out.Close()
			return err
		}
		files = append(files, name)
		return out.Close()
	}
	if err := write("report.html", func(out io.Writer) error { return rep.WriteHTML(out, charts...) }); err != nil {
		return nil, err
	}
	if err := write("report.txt", rep.WriteText); err != nil {
		return nil, err
	}
	if err := write("report.json", func(out io.Writer) error { return json.NewEncoder(out).Encode(rep) }); err != nil {
		return nil, err
	}
	for _, c := range charts {
		if err := write(c.Name+".svg", func(out io.Writer) error { return c.SVG(out, 0, 0) }); err != nil {
			return nil, err
		}
		if err := write(c.Name+".json", func(out io.Writer) error { return json.NewEncoder(out).Encode(c.ChartJS()) }); err != nil {
			return nil, err
		}
	}
	files = append(files, "events.jsonl")
	return files, nil
}
