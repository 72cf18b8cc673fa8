// Command quickstart runs idlescale's main job on the built-in in-memory
// cloud with real CloudWatch traces: it loads a fleet whose metrics replay
// the Numenta Anomaly Benchmark's EC2 CPU and network traces, reads two
// weeks of metrics for every resource through the provider interfaces, runs
// the idle detector's ensemble over the fleet, and prints each resource with
// its verdict, then the idle ones with their confidence, recommended action,
// monthly savings and reasons. The reaper pipeline then runs dry: every
// recommended action goes through the safety engine's built-in rules
// (critical workloads, verified backups, business hours, ...), which say
// whether it would be carried out, need an approval or be blocked, and why.
// Nothing is changed.
//
// The monitor records every step as a typed event (in memory and in a
// JSON-lines file), raises the alerts (idle resources found, safety
// blocks, CPU above 90 %), and writes a report with charts (HTML with SVG,
// text, JSON, the charts as SVG and as Chart.js data) to a directory it
// names at the end (-report-dir, a new temporary directory by default).
// A progress bar shows on a terminal and stays quiet otherwise. With -out
// it also writes the quickstart's own summary as JSON. A fleet file reads
// its CSV traces only from inside its own directory; the built-in fleet's
// traces are in the repository's testdata, so the command widens the root
// to the repository (-root).
//
// The traces are replayed so that they end now, so what depends on the
// time of the week changes with it: inside business hours (Mon-Fri
// 09:00-18:00 UTC) the safety engine blocks every stop, and the hours of
// the week the evidence names move. -now runs the quickstart at a given
// time instead; at 2026-12-04T22:51:00Z (a Friday evening) it prints what
// the README shows.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -now 2026-12-04T22:51:00Z
//	go run ./examples/quickstart -report-dir /tmp/idlescale -out report.json
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

func main() {
	var o options
	flag.StringVar(&o.fleet, "fleet", defaultFleet(), "fleet file (YAML or JSON) to load into the in-memory cloud")
	flag.StringVar(&o.out, "out", "", "also write the quickstart's summary as JSON to this file")
	flag.DurationVar(&o.window, "window", 14*24*time.Hour, "how much metric history to read")
	flag.StringVar(&o.reportDir, "report-dir", "", "directory for the report, charts and events (default: a new temporary directory)")
	flag.StringVar(&o.policy, "policy", defaultPolicy(), "autoscaling policy for the simulated day of asg-web (empty: no autoscaling day)")
	flag.StringVar(&o.traffic, "traffic", defaultTraffic(), "request trace (NAB CSV, requests per 5 minutes) replayed as asg-web's traffic")
	flag.StringVar(&o.root, "root", "", "directory the fleet's CSV files may be read from (default: the fleet file's directory; the repository for the built-in fleet)")
	flag.Func("now", "run at this time (RFC 3339; default: the current time): the traces end then", func(v string) error {
		t, err := time.Parse(time.RFC3339, v)
		o.now = t
		return err
	})
	flag.Parse()
	if o.root == "" && o.fleet == defaultFleet() {
		o.root = repoRoot()
	}
	o.progress = progressOut(os.Stderr)
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// defaultFleet finds fleet.yaml next to this source file, so the command
// works from the repository root and from its own directory.
func defaultFleet() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "fleet.yaml")
	}
	return filepath.Join("examples", "quickstart", "fleet.yaml")
}

// repoRoot is the repository the built-in fleet's traces live in
// (testdata/nab, two directories up).
func repoRoot() string { return filepath.Join(filepath.Dir(defaultFleet()), "..", "..") }

// loadFleet loads the fleet file at path into cloud. A fleet file reads
// only CSV files inside its own directory; a non-empty root widens that to
// root, which must hold the fleet file.
func loadFleet(cloud *memory.Cloud, path, root string) error {
	if root == "" {
		return cloud.LoadFleetFile(path)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	absPath, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(absRoot, absPath)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("fleet %s is not inside -root %s", path, root)
	}
	r, err := os.OpenRoot(absRoot)
	if err != nil {
		return err
	}
	defer r.Close()
	return cloud.LoadFleetFS(r.FS(), filepath.ToSlash(rel))
}

// Report is what the quickstart prints and writes.
type Report struct {
	Now       time.Time     `json:"now"`
	Window    time.Duration `json:"window"`
	Resources []Row         `json:"resources"`
	// Idle lists the idle verdicts, most savings first.
	Idle []detector.Verdict `json:"idle"`
	// Savings is the monthly saving of every recommended action.
	Savings float64 `json:"monthly_savings"`
	// Warnings are per-resource failures met by the pipeline.
	Warnings []string `json:"warnings,omitempty"`
	// Reaper is the reaper pipeline's dry run: every resource's verdict,
	// safety decision and what would be done.
	Reaper reaper.Report `json:"reaper"`
}

// Row summarises one resource.
type Row struct {
	Resource   provider.Resource  `json:"resource"`
	Capacity   *provider.Capacity `json:"capacity,omitempty"`
	CPUMean    float64            `json:"cpu_mean"`
	CPUP95     float64            `json:"cpu_p95"`
	CPUMax     float64            `json:"cpu_max"`
	Coverage   float64            `json:"coverage"`
	MonthlyUSD float64            `json:"monthly_usd"`
	Verdict    detector.Verdict   `json:"verdict"`
}

// rowJSON is Row as written to the report: a CPU statistic of a resource
// without data (a gap, NaN, which JSON cannot hold) is left out.
type rowJSON struct {
	Resource   provider.Resource  `json:"resource"`
	Capacity   *provider.Capacity `json:"capacity,omitempty"`
	CPUMean    *float64           `json:"cpu_mean,omitempty"`
	CPUP95     *float64           `json:"cpu_p95,omitempty"`
	CPUMax     *float64           `json:"cpu_max,omitempty"`
	Coverage   float64            `json:"coverage"`
	MonthlyUSD float64            `json:"monthly_usd"`
	Verdict    detector.Verdict   `json:"verdict"`
}

// MarshalJSON leaves out the CPU statistics that are gaps.
func (r Row) MarshalJSON() ([]byte, error) {
	opt := func(v float64) *float64 {
		if provider.IsGap(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(rowJSON{
		Resource: r.Resource, Capacity: r.Capacity,
		CPUMean: opt(r.CPUMean), CPUP95: opt(r.CPUP95), CPUMax: opt(r.CPUMax),
		Coverage: r.Coverage, MonthlyUSD: r.MonthlyUSD, Verdict: r.Verdict,
	})
}

// UnmarshalJSON reads a row written by MarshalJSON: an absent CPU
// statistic is a gap.
func (r *Row) UnmarshalJSON(data []byte) error {
	var j rowJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	val := func(p *float64) float64 {
		if p == nil {
			return provider.Gap
		}
		return *p
	}
	*r = Row{
		Resource: j.Resource, Capacity: j.Capacity,
		CPUMean: val(j.CPUMean), CPUP95: val(j.CPUP95), CPUMax: val(j.CPUMax),
		Coverage: j.Coverage, MonthlyUSD: j.MonthlyUSD, Verdict: j.Verdict,
	}
	return nil
}

// options are the command's flags.
type options struct {
	fleet, out, reportDir string
	// root is the directory the fleet's CSV files may be read from; "" is
	// the fleet file's own directory.
	root   string
	window time.Duration
	// policy and traffic drive the simulated day of autoscaling; an empty
	// policy skips it.
	policy, traffic string
	// progress receives the progress bar; nil draws none.
	progress io.Writer
	// now is the time the quickstart runs at (the in-memory cloud's clock
	// starts there); zero is the current time.
	now time.Time
}

// startClock is a clock that reads start when it is made and runs on from
// there at the wall clock's pace.
type startClock struct {
	start, wall time.Time
}

// Now returns the clock's time.
func (c startClock) Now() time.Time { return c.start.Add(time.Since(c.wall)) }

// After sends the clock's time once d has passed.
func (c startClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(d, func() { ch <- c.Now() })
	return ch
}

func run(ctx context.Context, w io.Writer, o options) error {
	var opts []memory.Option
	if !o.now.IsZero() {
		opts = append(opts, memory.WithClock(startClock{start: o.now, wall: time.Now()}))
	}
	cloud, err := memory.New(memory.Config{}, opts...)
	if err != nil {
		return err
	}
	if err := loadFleet(cloud, o.fleet, o.root); err != nil {
		return err
	}
	now := cloud.Now().Truncate(time.Minute)
	mon, err := newMonitor(o, cloud)
	if err != nil {
		return err
	}
	defer mon.close()
	rep, err := buildReport(ctx, cloud, now, o.window, mon)
	if err != nil {
		return err
	}
	printReport(w, rep)
	var autoscaled *dayResult
	if o.policy != "" {
		mon.bar.AddMax(int(day / time.Hour))
		res, err := autoscaleDay(ctx, mon, now, o.traffic, o.policy)
		if err != nil {
			return err
		}
		res.print(w)
		autoscaled = &res
	}
	files, err := mon.finish(ctx, w, cloud, now, autoscaled)
	if err != nil {
		return err
	}
	if outPath := o.out; outPath != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(outPath, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nsummary written to %s\n", outPath)
	}
	fmt.Fprintf(w, "\nreport with charts written to %s\n", mon.dir)
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	return nil
}

// buildReport reads every resource and its CPU history through the
// provider interfaces, as a host would with any driver.
func buildReport(ctx context.Context, src interface {
	provider.Inventory
	provider.MetricsSource
	provider.BackupCatalog
	provider.Actuator
}, now time.Time, window time.Duration, mon *quickMonitor) (Report, error) {
	resources, err := src.List(ctx, provider.Filter{})
	if err != nil {
		return Report{}, err
	}
	rep := Report{Now: now, Window: window}
	mon.bar.AddMax(len(resources) + 3) // read each resource, then the reaper, the alerts, the report
	for _, r := range resources {
		mon.step("reading " + r.ID)
		row := Row{Resource: r, MonthlyUSD: r.HourlyCost * detector.HoursPerMonth}
		if sc, ok := src.(provider.Scaler); ok && r.Kind == provider.KindGroup {
			c, err := sc.Capacity(ctx, r.ID)
			if err != nil {
				return Report{}, err
			}
			row.Capacity = &c
		}
		q := provider.Query{ResourceID: r.ID, Metric: provider.MetricCPU, Start: now.Add(-window), End: now, Step: 5 * time.Minute}
		cpu, err := src.QueryMetric(ctx, q)
		if err != nil {
			return Report{}, err
		}
		row.Coverage = cpu.Coverage()
		row.CPUMean, row.CPUP95, row.CPUMax = summarize(cpu.Values)
		rep.Resources = append(rep.Resources, row)
	}
	if len(rep.Resources) == 0 {
		return Report{}, errors.New("the fleet is empty")
	}

	// The reaper pipeline, in dry run (its default): detect idle resources
	// with the ensemble of utilization, activity, schedule (and model, when
	// one is trained) signals, then pass every recommended action through
	// the safety engine's built-in rules. Nothing is changed.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		return Report{}, err
	}
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: src, History: &safety.MemoryHistory{}})
	if err != nil {
		return Report{}, err
	}
	eng, err := safety.New(safety.Config{}, rules)
	if err != nil {
		return Report{}, err
	}
	rp, err := reaper.New(reaper.Config{Requester: "quickstart"},
		reaper.Fleet{Inventory: src, Metrics: src, Actuator: src}, ens, eng,
		reaper.WithObserver(monitor.NewReaperObserver(mon.log))) // every step into the event log
	if err != nil {
		return Report{}, err
	}
	mon.step("reaper dry run")
	rep.Reaper, err = rp.RunOnce(ctx, now)
	if err != nil {
		return Report{}, err
	}
	for i := range rep.Resources {
		if rec, ok := rep.Reaper.Record(rep.Resources[i].Resource.ID); ok && rec.Verdict != nil {
			rep.Resources[i].Verdict = *rec.Verdict
			if rec.Verdict.State == detector.Idle {
				rep.Idle = append(rep.Idle, *rec.Verdict)
			}
		}
	}
	slices.SortStableFunc(rep.Idle, func(a, b detector.Verdict) int { return cmp.Compare(b.MonthlySavings, a.MonthlySavings) })
	for _, v := range rep.Idle {
		rep.Savings += v.MonthlySavings
	}
	for _, rec := range rep.Reaper.Records {
		for _, e := range rec.Errors {
			rep.Warnings = append(rep.Warnings, e.Error())
		}
	}
	return rep, nil
}

// summarize returns the mean, 95th percentile and maximum of the values
// that are not gaps.
func summarize(values []float64) (mean, p95, maxV float64) {
	var data []float64
	for _, v := range values {
		if !provider.IsGap(v) {
			data = append(data, v)
		}
	}
	if len(data) == 0 {
		return provider.Gap, provider.Gap, provider.Gap
	}
	slices.Sort(data)
	var sum float64
	for _, v := range data {
		sum += v
	}
	return sum / float64(len(data)), provider.Quantile(data, 0.95), data[len(data)-1]
}

func printReport(w io.Writer, rep Report) {
	fmt.Fprintf(w, "idlescale quickstart: %d resources on the in-memory cloud, %s of real CloudWatch CPU history up to %s\n\n",
		len(rep.Resources), rep.Window, rep.Now.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tENV\tSIZE\t$/MONTH\tCPU MEAN\tCPU P95\tCPU MAX\tDATA\tVERDICT")
	for _, r := range rep.Resources {
		size := r.Resource.Size.InstanceType
		if r.Capacity != nil {
			size = fmt.Sprintf("%d/%d/%d", r.Capacity.Min, r.Capacity.Desired, r.Capacity.Max)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%.0f%%\t%s %.2f\n",
			r.Resource.ID, r.Resource.Name, r.Resource.Kind, r.Resource.Environment, size, r.MonthlyUSD,
			pct(r.CPUMean), pct(r.CPUP95), pct(r.CPUMax), r.Coverage*100, r.Verdict.State, r.Verdict.Confidence)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nidle resources: %d of %d, recommended actions save $%.0f a month\n", len(rep.Idle), len(rep.Resources), rep.Savings)
	for _, v := range rep.Idle {
		fmt.Fprintf(w, "\n  %s  confidence %.2f  action %s  saves $%.0f/month\n", v.ResourceID, v.Confidence, v.Action, v.MonthlySavings)
		for _, why := range v.Explain() {
			fmt.Fprintf(w, "      - %s\n", why)
		}
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintln(w, "  warning:", warn)
	}

	t := rep.Reaper.Totals
	fmt.Fprintf(w, "\nreaper dry run at %s: %d would act, %d need approval, %d blocked, %d skipped\n",
		rep.Now.Format("Mon 15:04 MST"), t.WouldAct, t.NeedsApproval, t.Blocked, t.Skipped)
	for _, rec := range rep.Reaper.Records {
		if rec.Action == "" {
			continue // not idle, or nothing to do
		}
		fmt.Fprintf(w, "\n  %s %s: %s\n", rec.Action, rec.ResourceID, rec.Outcome)
		if rec.Reason != "" {
			fmt.Fprintf(w, "      %s\n", rec.Reason)
		}
		if d := rec.Decision; d != nil {
			if d.ApprovalRequired {
				fmt.Fprintf(w, "      approval: %s\n", d.ApprovalReason)
			}
			for _, r := range d.Recommendations {
				fmt.Fprintf(w, "      recommend: %s\n", r)
			}
		}
	}
}

func pct(v float64) string {
	if provider.IsGap(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", v*100)
}
