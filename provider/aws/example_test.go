package aws_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// The examples run against the package's moto_server (see TestMain). In
// production the aws.Config comes from config.LoadDefaultConfig and the
// CloudWatch protocol option is left out.
func exampleDriver(opts ...awsprovider.Option) *awsprovider.Driver {
	base := []awsprovider.Option{awsprovider.WithCloudWatchOptions(queryProtocol)}
	d, err := awsprovider.New(fastConfig(), sdkConfigIn("eu-west-1"), append(base, opts...)...)
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// exampleT lets the examples use the test seeders; a failure ends the
// program.
type exampleT struct{}

func newExampleT() exampleT                        { return exampleT{} }
func (exampleT) Helper()                           {}
func (exampleT) Errorf(format string, args ...any) { log.Printf(format, args...) }
func (exampleT) FailNow()                          { log.Fatal("example setup failed") }
func (exampleT) Context() context.Context          { return context.Background() }
func (exampleT) Cleanup(func())                    {}

func ExampleNew() {
	ctx := context.Background()
	// cfg, err := config.LoadDefaultConfig(ctx)
	d, err := awsprovider.New(awsprovider.Config{
		Tags:          awsprovider.TagKeys{Protection: "do-not-stop"},
		HonorCooldown: true,
		MaxAttempts:   4,
	}, sdkConfigIn("eu-west-1"),
		awsprovider.WithCloudWatchOptions(queryProtocol), // moto only
	)
	if err != nil {
		log.Fatal(err)
	}
	team := uniq("team")
	seed := seeder{"eu-west-1"}
	t := newExampleT()
	seed.runInstances(t, 1, "m5.large", map[string]string{"Name": "reports", "owner": team, "environment": "staging", "do-not-stop": "yes"})
	seed.runInstances(t, 1, "t3.micro", map[string]string{"Name": "scratch", "owner": team})

	rs, err := d.List(ctx, provider.Filter{Tags: map[string]string{"owner": team}, States: []provider.State{provider.StateRunning}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rs {
		fmt.Printf("%s %s %s env=%q protected=%v\n", r.Name, r.Kind, r.Size.InstanceType, r.Environment, r.Protected)
	}
	// Unordered output:
	// reports instance m5.large env="staging" protected=true
	// scratch instance t3.micro env="" protected=false
}

// Example_detector scans an account for idle instances with the
// detector's ensemble, as a dry run: nothing is stopped.
func Example_detector() {
	ctx := context.Background()
	d := exampleDriver()

	// Two instances launched now with an hour of CPU from their launch
	// on, one idle at 2 %, one busy (CloudWatch takes datapoints up to two
	// hours ahead of its clock): the scan judges them as it would an hour
	// from now. The detector reads a resource's load from its launch on,
	// so datapoints from before it would not count.
	team := uniq("team")
	seed := seeder{"eu-west-1"}
	t := newExampleT()
	idle := seed.runInstances(t, 1, "m5.large", map[string]string{"Name": "idle-batch", "owner": team})[0]
	busy := seed.runInstances(t, 1, "m5.large", map[string]string{"Name": "busy-web", "owner": team})[0]
	launched := time.Now().UTC().Truncate(5 * time.Minute).Add(5 * time.Minute)
	for id, cpu := range map[string]float64{idle: 2, busy: 70} {
		points := map[time.Time]float64{}
		for i := range 12 {
			points[launched.Add(time.Duration(i)*5*time.Minute)] = cpu
		}
		seed.putMetric(t, "AWS/EC2", "CPUUtilization", "InstanceId", id, cwtypes.StandardUnitPercent, points)
	}
	now := launched.Add(time.Hour)

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{
		Utilization: detector.UtilizationConfig{Window: time.Hour},
		GracePeriod: -1, // the instances were launched an hour before the scan
	})
	if err != nil {
		log.Fatal(err)
	}
	report, err := detector.Scan(ctx, detector.Fleet{Inventory: d, Metrics: d}, ens, detector.ScanConfig{
		Now:     now,
		Filter:  provider.Filter{Kinds: []provider.Kind{provider.KindInstance}, Tags: map[string]string{"owner": team}},
		Step:    5 * time.Minute,
		History: time.Hour,
		Metrics: []provider.Metric{provider.MetricCPU},
	})
	if err != nil {
		log.Fatal(err)
	}
	names := map[string]string{idle: "idle-batch", busy: "busy-web"}
	for _, v := range report.Verdicts {
		fmt.Printf("%s: %s\n", names[v.ResourceID], v.State)
	}
	// Unordered output:
	// idle-batch: idle
	// busy-web: not_idle
}

func ExampleDriver_QueryMetric() {
	ctx := context.Background()
	d := exampleDriver()
	t := newExampleT()
	seed := seeder{"eu-west-1"}
	id := seed.runInstances(t, 1, "t3.micro", nil)[0]
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	seed.putMetric(t, "AWS/EC2", "CPUUtilization", "InstanceId", id, cwtypes.StandardUnitPercent, map[time.Time]float64{
		start: 12, start.Add(30 * time.Second): 18, start.Add(2 * time.Minute): 40,
	})
	s, err := d.QueryMetric(ctx, provider.Query{
		ResourceID: id, Metric: provider.MetricCPU, Statistic: provider.StatMax,
		Start: start, End: start.Add(3 * time.Minute), Step: time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Values) // fractions; the empty minute is a gap
	// Output: [0.18 NaN 0.4]
}

func ExampleDriver_SetCapacity() {
	ctx := context.Background()
	d := exampleDriver()
	group := seeder{"eu-west-1"}.createGroup(newExampleT(), 1, 4, 1, nil)
	if err := d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}); err != nil {
		log.Fatal(err)
	}
	c, err := d.Capacity(ctx, group)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("min %d max %d desired %d current %d ready %d\n", c.Min, c.Max, c.Desired, c.Current, c.Ready)
	err = d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 3, Max: 2, Desired: 2})
	var invalid *provider.InvalidError
	if errors.As(err, &invalid) {
		fmt.Println(invalid.Field, invalid.Value, invalid.Reason)
	}
	// Output:
	// min 1 max 4 desired 3 current 3 ready 3
	// capacity.min 3 must be ≤ max 2
}

func ExampleDriver_Resize() {
	ctx := context.Background()
	d := exampleDriver()
	fn := seeder{"eu-west-1"}.createFunction(newExampleT(), 128, 3, nil)
	if err := d.Resize(ctx, fn, provider.Size{MemoryMiB: 1024, Timeout: 30 * time.Second}); err != nil {
		log.Fatal(err)
	}
	r, err := d.Get(ctx, fn)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Size.MemoryMiB, r.Size.Timeout)
	fmt.Println(d.Resize(ctx, fn, provider.Size{MemoryMiB: 64, Timeout: 30 * time.Second}) != nil)
	// Output:
	// 1024 30s
	// true
}

func ExampleDriver_Backups() {
	ctx := context.Background()
	d := exampleDriver()
	t := newExampleT()
	seed := seeder{"eu-west-1"}
	id := seed.runInstances(t, 1, "t3.micro", nil)[0]
	seed.snapshot(t, id, map[string]string{"idlescale:verified": "restore-test"})
	bs, err := d.Backups(ctx, id, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range bs {
		fmt.Println(b.Complete, b.Verified, b.VerifiedBy)
	}
	// Output: true true restore-test
}

func ExampleDriver_Activity() {
	ctx := context.Background()
	d := exampleDriver()
	seed := seeder{"eu-west-1"}
	fn := seed.createFunction(newExampleT(), 128, 3, nil)
	_, name, _ := strings.Cut(fn, ":function:")
	// Two hours ago: within the 15 days CloudWatch keeps minutes for (an
	// older window is read at 5-minute or hourly periods, and Last is the
	// start of one).
	start := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	seed.putMetric(newExampleT(), "AWS/Lambda", "Invocations", "FunctionName", name, cwtypes.StandardUnitCount, map[time.Time]float64{
		start.Add(time.Minute): 25, start.Add(4 * time.Minute): 5,
	})
	acts, err := d.Activity(ctx, provider.ActivityQuery{ResourceID: fn, Start: start, End: start.Add(30 * time.Minute)})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range acts {
		fmt.Println(a.Kind, a.Count, "last at start +", a.Last.Sub(start))
	}
	// Output: api_calls 30 last at start + 4m0s
}

func ExampleDriver_Stop() {
	ctx := context.Background()
	d := exampleDriver() // waits for the target state by default
	id := seeder{"eu-west-1"}.runInstances(newExampleT(), 1, "t3.micro", nil)[0]
	if err := d.Stop(ctx, id); err != nil {
		log.Fatal(err)
	}
	r, _ := d.Get(ctx, id)
	fmt.Println(r.State)
	fmt.Println(d.Stop(ctx, id)) // already stopped: nothing to do
	if err := d.Terminate(ctx, id); err != nil {
		log.Fatal(err)
	}
	err := d.Start(ctx, id)
	fmt.Println(errors.Is(err, provider.ErrConflict))
	// Output:
	// stopped
	// <nil>
	// true
}

// auditedEC2 wraps the EC2 client to record every StopInstances call; the
// driver's narrow interfaces make such wrappers one method long.
type auditedEC2 struct {
	awsprovider.EC2API
	log []string
}

func (a *auditedEC2) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	a.log = append(a.log, "StopInstances "+strings.Join(in.InstanceIds, ","))
	return a.EC2API.StopInstances(ctx, in, optFns...)
}

func ExampleWithClients() {
	ctx := context.Background()
	audit := &auditedEC2{EC2API: ec2.NewFromConfig(sdkConfigIn("eu-west-1"))}
	d := exampleDriver(awsprovider.WithClients(awsprovider.Clients{EC2: audit}))
	id := seeder{"eu-west-1"}.runInstances(newExampleT(), 1, "t3.micro", nil)[0]
	if err := d.Stop(ctx, id); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(audit.log), strings.HasPrefix(audit.log[0], "StopInstances i-"))
	// Output: 1 true
}

func ExampleMapping() {
	cw, ok := awsprovider.Mapping(provider.KindFunction, provider.MetricDuration)
	fmt.Println(ok, cw.Namespace, cw.Name, cw.Dimension, cw.Scale)
	// Output: true AWS/Lambda Duration FunctionName 0.001
}
