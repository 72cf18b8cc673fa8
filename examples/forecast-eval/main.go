// Command forecast-eval prints the forecast accuracy table: the
// automatic model selection of package forecast against seasonal naive 24
// and 168 on the five real traces in testdata, with the protocol described
// in package internal/forecasteval, followed by the checks of the accuracy
// goal (per trace: vs the better naive ≤ 1.05, one-sided p90 coverage and
// two-sided 90 % interval coverage in [0.85, 0.95], pinball(0.9) ratio to
// seasonal naive 24 ≤ 1; geometric means: relative MASE ≤ 0.75, vs the
// better naive ≤ 0.95, pinball ratio ≤ 1), each marked ok or FAIL.
//
// Run it from the repository root:
//
//	go run ./examples/forecast-eval
//	go run ./examples/forecast-eval -data testdata -trace nyc-taxi
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/internal/forecasteval"
)

func main() {
	data := flag.String("data", "testdata", "the repository's testdata directory")
	only := flag.String("trace", "", "evaluate only this trace (app-server, nyc-taxi, nasa-http, nab-asg-cpu, nab-elb-requests)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *data, *only); err != nil {
		fmt.Fprintln(os.Stderr, "forecast-eval:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dir, only string) error {
	traces, err := forecasteval.Load(dir)
	if err != nil {
		return err
	}
	start := time.Now()
	var rows []forecasteval.Row
	for _, t := range traces {
		if only != "" && t.Name != only {
			continue
		}
		row, err := forecasteval.Evaluate(ctx, t, func() (forecast.Model, error) {
			return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
		})
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no trace named %q", only)
	}
	if err := forecasteval.WriteTable(w, rows); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nmethod: forecast.Auto{Periods: [24 168]}; %s\n", time.Since(start).Round(time.Millisecond))
	return err
}
