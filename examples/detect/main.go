// Command detect runs idlescale's idle detector on the built-in in-memory
// cloud with real CloudWatch CPU traces (the Numenta Anomaly Benchmark's
// EC2 instances, replayed so that they end now). It prints every
// resource's verdict with its confidence, recommended action, estimated
// monthly savings and reasons, and what AWS Trusted Advisor's, Google
// Cloud's and Azure Advisor's fixed rules would have said.
//
//	go run ./examples/detect
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/trace"
)

// traces are the NAB EC2 CPU traces served as instances (testdata/nab,
// MIT licence; see testdata/README.md).
// The memory cloud's instance catalog gives each type its vCPUs and
// hourly cost.
var traces = []struct {
	id, name, size string
}{
	{"c6585a", "reporting-batch", "m5.xlarge"},
	{"24ae8d", "legacy-ftp", "t3.large"},
	{"53ea38", "metrics-relay", "t3.medium"},
	{"77c1ca", "nightly-etl", "c5.2xlarge"},
	{"fe7f93", "build-agent", "c5.xlarge"},
	{"5f5533", "api", "m5.xlarge"},
	{"ac20cd", "search", "m5.2xlarge"},
	{"825cc2", "video-encode", "m5.4xlarge"},
}

func main() {
	if err := run(context.Background(), os.Stdout, testdata()); err != nil {
		fmt.Fprintln(os.Stderr, "detect:", err)
		os.Exit(1)
	}
}

// testdata finds the repository's testdata from this source file.
func testdata() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
	}
	return "testdata"
}

func run(ctx context.Context, w io.Writer, dir string) error {
	cloud, err := memory.New(memory.Config{})
	if err != nil {
		return err
	}
	now := cloud.Now().Truncate(time.Minute)
	for _, tr := range traces {
		r := provider.Resource{
			ID: "i-" + tr.id, Name: tr.name, Kind: provider.KindInstance,
			Size: provider.Size{InstanceType: tr.size}, LaunchTime: now.Add(-60 * 24 * time.Hour),
		}
		if err := cloud.Add(r); err != nil {
			return err
		}
		samples, err := trace.ReadCSVFile(filepath.Join(dir, "nab", "ec2_cpu_utilization_"+tr.id+".csv"), trace.CSVOptions{Scale: 0.01})
		if err != nil {
			return err
		}
		if err := cloud.Replay(r.ID, provider.MetricCPU, samples, now.Add(-time.Minute)); err != nil {
			return err
		}
		// An activity agent watches logins and API calls; nobody logged in.
		if err := cloud.TrackActivity(r.ID, provider.ActivityLogins, provider.ActivityAPICalls); err != nil {
			return err
		}
	}

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		return err
	}
	fleet := detector.Fleet{Inventory: cloud, Metrics: cloud}
	rep, err := detector.Scan(ctx, fleet, ens, detector.ScanConfig{Now: now})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "idlescale detect: %d instances, real CloudWatch CPU up to %s\n\n", rep.Resources, now.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCONFIDENCE\tACTION\tSAVES $/MONTH")
	total := 0.0
	for _, v := range rep.Verdicts {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%.2f\n", v.ResourceID, v.State, v.Confidence, v.Action, v.MonthlySavings)
		total += v.MonthlySavings
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nestimated savings: $%.2f per month\n", total)
	for _, v := range rep.Idle() {
		fmt.Fprintf(w, "\n%s is idle (confidence %.2f):\n", v.ResourceID, v.Confidence)
		for _, why := range v.Explain() {
			fmt.Fprintln(w, "  -", why)
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "error:", e)
	}

	// What the clouds' own fixed rules say (CPU only: the traces have no
	// network data).
	fmt.Fprintln(w, "\nfixed rules for comparison:")
	cfg := detector.PresetConfig{IgnoreNetwork: true}
	rules := []*detector.Preset{detector.NewTrustedAdvisor(cfg), detector.NewGCPIdleVM(cfg), detector.NewAzureAdvisor(cfg)}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "ID\tENSEMBLE")
	for _, r := range rules {
		fmt.Fprintf(tw, "\t%s", r.Name())
	}
	fmt.Fprintln(tw)
	verdicts := map[string][]detector.State{}
	for _, r := range rules {
		rr, err := detector.Scan(ctx, fleet, r, detector.ScanConfig{Now: now})
		if err != nil {
			return err
		}
		for _, v := range rr.Verdicts {
			verdicts[v.ResourceID] = append(verdicts[v.ResourceID], v.State)
		}
	}
	for _, v := range rep.Verdicts {
		fmt.Fprintf(tw, "%s\t%s", v.ResourceID, v.State)
		for _, s := range verdicts[v.ResourceID] {
			fmt.Fprintf(tw, "\t%s", s)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
