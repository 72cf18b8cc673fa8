// Command aws is a dry-run idle scan of an AWS account, and optionally a
// pass of the autoscaler over it. The scan lists the account's EC2
// instances and Auto Scaling groups through the idlescale AWS driver,
// reads their CPU from CloudWatch, runs the detector's ensemble on each
// and prints which ones look idle, with the confidence, the recommended
// action and the reason. It never changes anything: no instance is
// stopped, no group resized.
//
// The scaling half (-scale) then evaluates the targets of a scaling policy
// (-policy, YAML or JSON; see policy.yaml beside this file) once: each
// target's strategies recommend a capacity or a size, the engine plans it
// in gradual steps and, as a dry run, asks the safety gate about each
// step. Only with -execute does it carry the plans out: Auto Scaling
// groups through SetDesiredCapacity, Lambda functions through
// UpdateFunctionConfiguration, each step gated, rate limited and verified.
// That needs autoscaling:SetDesiredCapacity and
// lambda:UpdateFunctionConfiguration besides the read permissions below.
//
// Against a real account it uses the SDK's default configuration (the
// environment, ~/.aws/config, an instance role) and needs only read
// permissions (ec2:DescribeInstances, autoscaling:DescribeAutoScalingGroups,
// autoscaling:DescribePolicies and cloudwatch:GetMetricData):
//
//	go run ./examples/aws -region eu-west-1 -history 72h
//
// Against moto (or another AWS emulator) give its URL with -endpoint or the
// IDLESCALE_AWS_ENDPOINT environment variable; static test credentials are
// used when none are configured, and CloudWatch speaks the awsquery protocol
// that moto understands. -seed first creates two demo instances in the
// emulator and replays the last day of two real EC2 CPU traces from the
// Numenta Anomaly Benchmark (testdata/nab, MIT licence) into CloudWatch,
// one idle and one saturated:
//
//	moto_server -H 127.0.0.1 -p 5000 &
//	go run ./examples/aws -endpoint http://127.0.0.1:5000 -seed
//
// With -seed -scale it also creates an Auto Scaling group of two
// instances running hot (the hottest hour of a real group's CPU trace,
// ending at 87 %) and a Lambda function with a 300 s timeout whose calls take about
// 2 s, and scales them with the demo policy: the group to three instances
// (HPA at 60 % CPU), the function's timeout down to its durations
// (vertical):
//
//	go run ./examples/aws -endpoint http://127.0.0.1:5000 -seed -scale -execute
//
// Flags: -region (default: the SDK's, else us-east-1), -history (look-back,
// default 24h), -step (metric step, default 5m), -grace (a resource younger
// than this is never idle, default 24h; -1ns turns it off; -seed turns it
// off for the fresh demo instances), -tag key=value (only resources with
// this tag), -scale, -policy file, -execute (see above).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/trace"
)

// EndpointEnv names the environment variable that points the scan at an
// AWS emulator such as moto when -endpoint is not given.
const EndpointEnv = "IDLESCALE_AWS_ENDPOINT"

func main() {
	os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout), os.Stdout, os.Stderr))
}

// exitCode writes what err says and returns the command's exit status: 0
// for no error and for -h (the flags, on stdout, as asked for), 1
// otherwise (on stderr).
func exitCode(err error, stdout, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stdout, err)
		return 0
	}
	fmt.Fprintln(stderr, "aws:", err)
	return 1
}

// options are the command's flags.
type options struct {
	endpoint string
	region   string
	history  time.Duration
	step     time.Duration
	grace    time.Duration
	tag      string
	seed     bool
	scale    bool
	policy   string
	execute  bool
}

func parse(args []string, getenv func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("aws", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.endpoint, "endpoint", getenv(EndpointEnv), "base URL of an AWS emulator such as moto (env "+EndpointEnv+")")
	fs.StringVar(&o.region, "region", "", "AWS region (default: the SDK's configuration, else us-east-1)")
	fs.DurationVar(&o.history, "history", 24*time.Hour, "how much CPU history to examine")
	fs.DurationVar(&o.step, "step", 5*time.Minute, "metric step (a CloudWatch period)")
	fs.DurationVar(&o.grace, "grace", 24*time.Hour, "resources younger than this are never idle; negative turns it off")
	fs.StringVar(&o.tag, "tag", "", "only resources with this tag, as key=value or key")
	fs.BoolVar(&o.seed, "seed", false, "create demo instances and CPU traces in the emulator first (needs -endpoint)")
	fs.BoolVar(&o.scale, "scale", false, "after the scan, run one autoscaler pass over the targets of -policy")
	fs.StringVar(&o.policy, "policy", "", "the scaling policy (YAML or JSON; default with -seed: examples/aws/policy.yaml)")
	fs.BoolVar(&o.execute, "execute", false, "carry out the scaling plans (default: a dry run that only asks the safety gate)")
	if err := fs.Parse(args); err != nil {
		var usage strings.Builder
		fs.SetOutput(&usage)
		fs.PrintDefaults()
		return o, fmt.Errorf("%w\nflags:\n%s", err, usage.String())
	}
	if o.execute && !o.scale {
		return o, errors.New("-execute carries out scaling plans and needs -scale")
	}
	if o.scale && o.policy == "" && !o.seed {
		return o, errors.New("-scale needs -policy (or -seed, for the demo policy)")
	}
	if o.seed && o.endpoint == "" {
		return o, errors.New("-seed writes demo data and needs -endpoint: it never touches a real account")
	}
	if o.history <= 0 || o.step <= 0 || o.history < o.step {
		return o, fmt.Errorf("-history %s must be at least one -step %s, both > 0", o.history, o.step)
	}
	if o.seed {
		o.grace = -1 // the demo instances were just launched
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, w io.Writer) error {
	o, err := parse(args, getenv)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(ctx, o, getenv)
	if err != nil {
		return err
	}
	var opts []awsprovider.Option
	if o.endpoint != "" {
		opts = append(opts, awsprovider.WithCloudWatchOptions(queryProtocol))
	}
	d, err := awsprovider.New(awsprovider.Config{HourlyPrices: prices()}, cfg, opts...)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(o.step)
	filter := provider.Filter{Kinds: []provider.Kind{provider.KindInstance, provider.KindGroup}}
	if o.tag != "" {
		k, v, _ := strings.Cut(o.tag, "=")
		filter.Tags = map[string]string{k: v}
	}
	var demo *scaleDemo
	if o.seed {
		tag, err := seed(ctx, cfg, now)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		filter.Tags = map[string]string{"idlescale-demo": tag}
		if o.scale {
			if demo, err = seedScaling(ctx, cfg, now, tag); err != nil {
				return fmt.Errorf("seed scaling demo: %w", err)
			}
		}
	}

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{
		Utilization: detector.UtilizationConfig{Window: o.history},
		GracePeriod: o.grace,
	})
	if err != nil {
		return err
	}
	var inv provider.Inventory = d
	if o.seed {
		// The emulator launches the demo instances now, and their CPU
		// is replayed over the history before it: the detector reads a
		// resource's load from its launch on, so the demo takes them as
		// launched when their replayed history starts.
		inv = launchedAt{Inventory: d, at: now.Add(-o.history)}
	}
	report, err := detector.Scan(ctx, detector.Fleet{Inventory: inv, Metrics: d}, ens, detector.ScanConfig{
		Now:     now,
		Filter:  filter,
		Step:    o.step,
		History: o.history,
		Metrics: []provider.Metric{provider.MetricCPU},
	})
	if err != nil {
		return err
	}
	if err := printReport(ctx, w, d, report, o, cfg.Region); err != nil {
		return err
	}
	if !o.scale {
		return nil
	}
	return scale(ctx, w, d, o, demo)
}

// launchedAt is an inventory whose resources launched after at are read
// as launched at at: the seeded demo's, whose replayed history starts
// before the emulator launched them.
type launchedAt struct {
	provider.Inventory
	at time.Time
}

// List lists the resources, launched at at the latest.
func (l launchedAt) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := l.Inventory.List(ctx, f)
	for i := range rs {
		rs[i] = l.launched(rs[i])
	}
	return rs, err
}

// Get reads one resource, launched at at the latest.
func (l launchedAt) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := l.Inventory.Get(ctx, id)
	return l.launched(r), err
}

func (l launchedAt) launched(r provider.Resource) provider.Resource {
	if r.LaunchTime.After(l.at) {
		r.LaunchTime = l.at
	}
	return r
}

// getter reads one resource: the driver's Get, which printReport asks for
// the verdicts' names.
type getter interface {
	Get(ctx context.Context, id string) (provider.Resource, error)
}

// printReport prints the scan's verdicts, each with its resource's name
// from d.Get ("?" when that fails: the failures are listed after the
// table), and the scan's errors.
func printReport(ctx context.Context, w io.Writer, d getter, report detector.Report, o options, region string) error {
	changes := "nothing will be changed"
	if o.execute {
		changes = "the scan changes nothing; the scaling below carries out its plans"
	}
	fmt.Fprintf(w, "dry run: %d resources in %s, CPU over the last %s — %s\n\n", report.Resources, region, o.history, changes)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tNAME\tVERDICT\tCONFIDENCE\tACTION\tSAVES/MONTH\tWHY")
	idle := 0
	var unnamed []error // the name lookups that failed
	for _, v := range report.Verdicts {
		name := "?"
		if r, err := d.Get(ctx, v.ResourceID); err != nil {
			unnamed = append(unnamed, fmt.Errorf("name of %s: %w", v.ResourceID, err))
		} else {
			name = r.Name
		}
		why := ""
		for i, line := range v.Explain() {
			if i == 0 || strings.HasPrefix(line, "utilization") {
				why = line // the utilization reason, else the summary
			}
		}
		if v.State == detector.Idle {
			idle++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t$%.2f\t%s\n", v.ResourceID, name, v.State, v.Confidence, v.Action, v.MonthlySavings, why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d idle of %d judged", idle, len(report.Verdicts))
	if len(report.Errors) > 0 {
		fmt.Fprintf(w, "; %d resources had errors (their signals count as unknown):\n", len(report.Errors))
		for _, e := range report.Errors {
			fmt.Fprintf(w, "  %v\n", e)
		}
	} else {
		fmt.Fprintln(w)
	}
	if len(unnamed) > 0 {
		fmt.Fprintf(w, "name lookups failed: %d (shown as ?):\n", len(unnamed))
		for _, err := range unnamed {
			fmt.Fprintf(w, "  %v\n", err)
		}
	}
	return nil
}

// loadConfig loads the SDK's default configuration, pointed at the emulator
// when o.endpoint is set.
func loadConfig(ctx context.Context, o options, getenv func(string) string) (awssdk.Config, error) {
	var lo []func(*config.LoadOptions) error
	if o.region != "" {
		lo = append(lo, config.WithRegion(o.region))
	}
	if o.endpoint != "" {
		lo = append(lo, config.WithBaseEndpoint(o.endpoint))
		if getenv("AWS_ACCESS_KEY_ID") == "" && getenv("AWS_PROFILE") == "" {
			// An emulator accepts any key; never reach for the instance
			// metadata service or a real profile.
			lo = append(lo, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// prices fills Resource.HourlyCost for common instance types from the
// us-east-1 on-demand Linux prices of the memory provider's catalogue, so
// that verdicts estimate savings; other types show $0 (unknown).
func prices() map[string]float64 {
	out := map[string]float64{}
	for _, name := range []string{
		"t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge",
		"m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge", "c5.large", "c5.xlarge", "c5.2xlarge", "r5.large", "r5.xlarge",
	} {
		if t, ok := memory.LookupInstanceType(name); ok {
			out[name] = t.HourlyCost
		}
	}
	return out
}

// queryProtocol makes CloudWatch speak awsquery: moto cannot parse the
// Smithy RPCv2-CBOR that the SDK's CloudWatch client sends by default.
func queryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
}

// traces are the demo instances' CPU: real NAB traces, percent.
var traces = []struct{ name, file string }{
	{"reporting-batch (idle trace c6585a)", "ec2_cpu_utilization_c6585a.csv"},
	{"checkout-api (saturated trace 825cc2)", "ec2_cpu_utilization_825cc2.csv"},
}

// seed creates the demo instances in the emulator, tagged with a fresh
// value, and replays the last day of their traces ending at now.
func seed(ctx context.Context, cfg awssdk.Config, now time.Time) (string, error) {
	tag := fmt.Sprintf("demo-%d", time.Now().UnixNano()) // now is truncated: two seeds in one step must differ
	ec2c := ec2.NewFromConfig(cfg)
	cw := cloudwatch.NewFromConfig(cfg, queryProtocol)
	for _, tr := range traces {
		samples, err := trace.ReadCSVFile(filepath.Join(testdataDir(), "nab", tr.file), trace.CSVOptions{})
		if err != nil {
			return "", err
		}
		out, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: awssdk.String("ami-12c6146b"), MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1),
			InstanceType: ec2types.InstanceTypeM5Large,
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: awssdk.String("Name"), Value: awssdk.String(tr.name)},
				{Key: awssdk.String("idlescale-demo"), Value: awssdk.String(tag)},
			}}},
		})
		if err != nil {
			return "", err
		}
		id := awssdk.ToString(out.Instances[0].InstanceId)
		day := samples[max(0, len(samples)-288):]
		shift := now.Add(-5 * time.Minute).Sub(day[len(day)-1].Time)
		var data []cwtypes.MetricDatum
		for _, s := range day {
			data = append(data, cwtypes.MetricDatum{
				MetricName: awssdk.String("CPUUtilization"),
				Dimensions: []cwtypes.Dimension{{Name: awssdk.String("InstanceId"), Value: awssdk.String(id)}},
				Timestamp:  awssdk.Time(s.Time.Add(shift)),
				Value:      awssdk.Float64(s.Value),
				Unit:       cwtypes.StandardUnitPercent,
			})
		}
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: awssdk.String("AWS/EC2"), MetricData: data}); err != nil {
			return "", err
		}
	}
	return tag, nil
}

// testdataDir finds the repository's testdata from this source file, so the
// command works from the repository root and from its own directory.
func testdataDir() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
	}
	return "testdata"
}
