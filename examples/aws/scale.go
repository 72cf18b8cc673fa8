package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/trace"
)

// The scaling half: one pass of the autoscaler over the policy's targets,
// through the safety gate and the rate limiter, with the AWS driver as
// the scaler (Auto Scaling groups) and the resizer (Lambda functions).

// demoPolicy is the policy used with -seed when -policy is not given,
// found from this source file.
func demoPolicy() string {
	return filepath.Join(filepath.Dir(testdataDir()), "examples", "aws", "policy.yaml")
}

// scaleDemo names what seedScaling created.
type scaleDemo struct {
	group, function string
}

// scale runs the scaling half and prints what it decided and did.
func scale(ctx context.Context, w io.Writer, d *awsprovider.Driver, o options, demo *scaleDemo) error {
	path := o.policy
	if path == "" {
		path = demoPolicy()
	}
	policy, err := scaling.LoadConfigFile(path)
	if err != nil {
		return err
	}
	if demo != nil {
		for i := range policy.Targets {
			switch policy.Targets[i].ID {
			case "checkout-web":
				policy.Targets[i].Resource = demo.group
			case "thumbnailer":
				policy.Targets[i].Resource = demo.function
			}
		}
	}
	policy.Execute = o.execute // the flag decides, never the file

	// The gate: no step changes more than half a group, groups stay
	// within [1, 8] (the demo's bounds; a real account sets its own).
	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	if err != nil {
		return err
	}
	// Capacity bounds only, the gradual rule bounding each step: the
	// fleet-share limit is off, and NoFleetShare says so. (For at most half
	// a group scaled in per hour, give the rule a safety.MemoryHistory and
	// the engine scaling.WithActionHistory of it.)
	limits, err := safety.NewLimitsRule(safety.LimitsConfig{MinCapacity: 1, MaxCapacity: 8, NoFleetShare: true}, nil)
	if err != nil {
		return err
	}
	gate, err := safety.New(safety.Config{}, []safety.Rule{gradual, limits})
	if err != nil {
		return err
	}
	limiter, err := ratelimit.New(ratelimit.Config{})
	if err != nil {
		return err
	}
	engine, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: time.Second, VerifyTimeout: 3 * time.Minute},
		scaling.Cloud{Scaler: d, Resizer: d, Inventory: d, Metrics: d}, gate, scaling.WithReserver(limiter))
	if err != nil {
		return err
	}
	a, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: d, Metrics: d})
	if err != nil {
		return err
	}
	rep := a.RunOnce(ctx, time.Now().UTC())

	mode := "dry run: plans asked of the safety gate, nothing changed"
	if o.execute {
		mode = "executing: plans gated, rate limited, carried out and verified"
	}
	fmt.Fprintf(w, "\nscaling: %d targets — %s\n\n", len(rep.Targets), mode)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tSTRATEGY\tFROM\tTO\tSTEPS\tSTATUS\tWHY")
	var failed []error
	for _, t := range rep.Targets {
		if t.Decision == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\terror\t%v\n", t.Target, t.Err)
			failed = append(failed, t.Err)
			continue
		}
		dec := t.Decision
		from, to := describe(dec.Target, dec.Target.Capacity.CapacitySpec, dec.Target.Resource.Size), describe(dec.Target, dec.Chosen.Capacity, dec.Chosen.Size)
		steps, status := "-", "no change"
		if t.Plan != nil {
			var s []string
			for _, st := range t.Plan.Steps {
				s = append(s, describe(dec.Target, st.To, st.ToSize))
			}
			steps = strings.Join(s, " → ")
			status = "previewed"
			for _, d := range t.Preview { // a dry run: what the gate would say
				if !d.Allowed {
					status = "would be " + d.Summary()
					break
				}
			}
		}
		if x := t.Execution; x != nil {
			status = string(x.Status)
			if x.Status == scaling.PlanBlocked || x.Status == scaling.PlanRateLimited {
				status += ": " + x.Reason // the gate or the rate limiter stopped it: no failure
			}
		}
		if t.Err != nil {
			status += ": " + t.Err.Error()
			failed = append(failed, t.Err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Target, dec.Chosen.Strategy, from, to, steps, status, dec.Chosen.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if o.execute {
		// What AWS says now.
		for _, t := range policy.Targets {
			id := t.Resource
			if id == "" {
				id = t.ID
			}
			r, err := d.Get(ctx, id)
			if err != nil {
				return err
			}
			if r.Kind == provider.KindGroup {
				c, err := d.Capacity(ctx, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s now: desired %d, %d in service\n", t.ID, c.Desired, c.Ready)
				continue
			}
			fmt.Fprintf(w, "%s now: %d MiB, timeout %s\n", t.ID, r.Size.MemoryMiB, r.Size.Timeout)
		}
	}
	return errors.Join(failed...)
}

// describe prints a target's capacity (groups) or size.
func describe(t scaling.Target, c provider.CapacitySpec, s provider.Size) string {
	if t.Horizontal() {
		return fmt.Sprint(c.Desired)
	}
	if s.InstanceType != "" {
		return s.InstanceType
	}
	return fmt.Sprintf("%d MiB/%s", s.MemoryMiB, s.Timeout)
}

// seedScaling creates the scaling demo in the emulator: an Auto Scaling
// group of two t3.micro instances whose CPU is the hottest hour of a real
// Auto Scaling group's trace (NAB's cpu_utilization_asg_misconfiguration,
// ending at 87 %), and a Lambda function with a 1024 MiB memory and a 300 s
// timeout whose durations (synthetic, 1.2–2.6 s) were put into CloudWatch
// for the last day.
func seedScaling(ctx context.Context, cfg awssdk.Config, now time.Time, tag string) (*scaleDemo, error) {
	demo := &scaleDemo{group: "checkout-web-" + tag, function: "thumbnailer-" + tag}
	asg := autoscaling.NewFromConfig(cfg)
	ec2c := ec2.NewFromConfig(cfg)
	cw := cloudwatch.NewFromConfig(cfg, queryProtocol)

	if _, err := ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: awssdk.String(demo.group),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: awssdk.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro},
	}); err != nil {
		return nil, err
	}
	if _, err := asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(demo.group),
		LaunchTemplate:       &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: awssdk.String(demo.group)},
		MinSize:              awssdk.Int32(1), MaxSize: awssdk.Int32(8), DesiredCapacity: awssdk.Int32(2),
		AvailabilityZones: []string{cfg.Region + "a"},
	}); err != nil {
		return nil, err
	}
	samples, err := trace.ReadCSVFile(filepath.Join(testdataDir(), "nab", "cpu_utilization_asg_misconfiguration.csv"), trace.CSVOptions{})
	if err != nil {
		return nil, err
	}
	// The hottest hour of the trace, during the group's misconfiguration
	// (NAB's anomaly window): 63–100 %, ending at 87 %.
	from := time.Date(2014, 7, 14, 17, 59, 0, 0, time.UTC)
	var hour []provider.Sample
	for _, s := range samples {
		if !s.Time.Before(from) && s.Time.Before(from.Add(time.Hour)) {
			hour = append(hour, s)
		}
	}
	if len(hour) == 0 {
		return nil, errors.New("the ASG trace has no samples in its hottest hour")
	}
	shift := now.Add(-5 * time.Minute).Sub(hour[len(hour)-1].Time)
	var data []cwtypes.MetricDatum
	for _, s := range hour {
		data = append(data, cwtypes.MetricDatum{
			MetricName: awssdk.String("CPUUtilization"),
			Dimensions: []cwtypes.Dimension{{Name: awssdk.String("AutoScalingGroupName"), Value: awssdk.String(demo.group)}},
			Timestamp:  awssdk.Time(s.Time.Add(shift)), Value: awssdk.Float64(s.Value), Unit: cwtypes.StandardUnitPercent,
		})
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: awssdk.String("AWS/EC2"), MetricData: data}); err != nil {
		return nil, err
	}

	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 awssdk.String(demo.function),
		AssumeRolePolicyDocument: awssdk.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		return nil, err
	}
	var code bytes.Buffer
	zw := zip.NewWriter(&code)
	f, err := zw.Create("index.py")
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte("def handler(event, context):\n    return event\n")); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if _, err := lambda.NewFromConfig(cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: awssdk.String(demo.function), Runtime: lambdatypes.RuntimePython312, Role: role.Role.Arn,
		Handler: awssdk.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: code.Bytes()},
		MemorySize: awssdk.Int32(1024), Timeout: awssdk.Int32(300),
	}); err != nil {
		return nil, err
	}
	// A day of 5-minute Duration maxima in milliseconds, a daily swell
	// between 1.2 and 2.6 s, put 20 at a time (CloudWatch's old limit,
	// which moto keeps).
	start := now.Truncate(5 * time.Minute).Add(-24 * time.Hour)
	data = data[:0]
	for i := range 288 {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		ms := 1900 + 700*math.Sin(2*math.Pi*float64(i)/288)
		data = append(data, cwtypes.MetricDatum{
			MetricName: awssdk.String("Duration"),
			Dimensions: []cwtypes.Dimension{{Name: awssdk.String("FunctionName"), Value: awssdk.String(demo.function)}},
			Timestamp:  awssdk.Time(at), Value: awssdk.Float64(math.Round(ms)), Unit: cwtypes.StandardUnitMilliseconds,
		})
		if len(data) == 20 || i == 287 {
			if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: awssdk.String("AWS/Lambda"), MetricData: data}); err != nil {
				return nil, err
			}
			data = data[:0]
		}
	}
	return demo, nil
}
