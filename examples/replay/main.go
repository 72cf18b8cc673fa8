// Command replay replays the repository's real demand traces through the
// predictive strategy of package scaling with the simulator of package
// scaling/sim, and prints, per trace, the table of issue 16's replay
// protocol (the oracle, the predictive strategy, Kubernetes' HPA algorithm
// on CPU at the target utilization, the HPA-like reactive baseline and
// that baseline with just enough headroom for a 5 % violation share),
// then the same with the default rate limits.
//
// Run it from the repository root:
//
//	go run ./examples/replay
//	go run ./examples/replay -trace nyc-taxi -json report.json -svg week.svg
//
// The traces (testdata/app-server-traffic, testdata/nab/nyc_taxi.csv,
// testdata/nasa-http) and their protocol are described in
// internal/replaytraces; scaling/sim's TestReplayOnRealTraces asserts the
// goals on the same replays.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/idlescale/idlescale/internal/replaytraces"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling/sim"
)

func main() {
	data := flag.String("data", "testdata", "the repository's testdata directory")
	only := flag.String("trace", "", "replay only this trace (app-server, nyc-taxi, nasa-http-1, nasa-http-2)")
	jsonOut := flag.String("json", "", "write the (last) trace's report as JSON to this file")
	svgOut := flag.String("svg", "", "write the (last) trace's first week of capacity as SVG to this file")
	quiet := flag.Bool("quiet", !terminal(os.Stderr), "no progress on stderr (the default when stderr is not a terminal)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *data, *only, *jsonOut, *svgOut, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dir, only, jsonOut, svgOut string, quiet bool) error {
	traces, err := replaytraces.Load(dir)
	if err != nil {
		return err
	}
	var last *sim.Report
	found := false
	for _, tr := range traces {
		if only != "" && tr.Name != only {
			continue
		}
		found = true
		var opts []sim.Option
		if !quiet {
			opts = append(opts, sim.WithProgress(func(p sim.Progress) {
				fmt.Fprintf(os.Stderr, "\r%s: %s %d/%d   ", tr.Name, p.Policy, p.Done, p.Total)
			}))
		}
		base, err := replaytraces.Simulator(tr)
		if err != nil {
			return err
		}
		cfg := base.Config()
		cfg.KeepSteps = svgOut != "" || jsonOut != ""
		s, err := sim.New(cfg, opts...)
		if err != nil {
			return err
		}
		pred, err := replaytraces.Predictive(tr)
		if err != nil {
			return err
		}
		h, err := replaytraces.HPA(tr)
		if err != nil {
			return err
		}
		rep, err := s.Run(ctx, tr.Demand, sim.Policy{Name: "predictive", Strategy: pred}, h)
		if err != nil {
			return err
		}
		hb, hr, err := s.HeadroomFor(ctx, tr.Demand, "reactive+headroom", sim.DefaultBaseline.Tolerance, 0.05)
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, hr)
		lim, err := ratelimit.New(ratelimit.Config{})
		if err != nil {
			return err
		}
		limited, err := replaytraces.Predictive(tr)
		if err != nil {
			return err
		}
		rl, err := s.Run(ctx, tr.Demand, sim.Policy{Name: "predictive (rate limited)", Strategy: limited, Limiter: lim})
		if err != nil {
			return err
		}
		if !quiet {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		fmt.Fprintf(w, "%s: %d steps of %s from %s, c = %.4g per instance, u* = 0.6, lead %s, reactive headroom %.3f\n",
			tr.Name, rep.Steps, rep.Step, rep.Start.Format("2006-01-02"), tr.Capacity, tr.LeadTime, hb.Headroom)
		if err := rep.WriteTable(w); err != nil {
			return err
		}
		fmt.Fprintln(w, "with the default rate limits (5 events/h, 3 instances per event, 300 s apart):")
		if err := rl.WriteTable(w); err != nil {
			return err
		}
		if st, ok := pred.Status(s.Config().TargetID); ok {
			fmt.Fprintf(w, "model %s, patterns %v, rolling MASE %.2f\n\n", st.Model, st.Patterns, st.MASE)
		}
		last = rep
	}
	if !found {
		return errors.New("no trace named " + only)
	}
	if jsonOut != "" {
		b, err := json.MarshalIndent(last, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if svgOut != "" {
		return writeSVG(ctx, last, svgOut)
	}
	return nil
}

// writeSVG draws the first week of the report's replay.
func writeSVG(_ context.Context, rep *sim.Report, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = rep.WriteSVG(f, rep.Start, rep.Start.AddDate(0, 0, 7), 0, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// terminal reports whether f is a terminal (a character device), where a
// progress line rewritten in place reads well; in a file or a CI log it
// would be thousands of lines.
func terminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
