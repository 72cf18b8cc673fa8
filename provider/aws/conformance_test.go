package aws_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/provider/providertest"
)

// conformanceRegion holds the conformance fixtures apart from the other
// tests' resources, so that the suite's List calls see only its own.
const conformanceRegion = "us-west-2"

// activityStart begins the window of the fixture function's invocations.
var activityStart = time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)

// TestConformance shares one group and one function between the subtests:
// the changes one subtest makes (a larger max, a new size) leave the next
// ones' preconditions intact, and List stays cheap. Instances, metrics and
// snapshots are fresh per subtest.

// subject seeds moto with the conformance fixture: two running instances
// (only the first tagged), a group with room to grow, a function to resize,
// CPU datapoints and two snapshots of the first instance's root volume,
// which is the backup subject: so the suite reads a volume (its Get, its
// List, by ID and of every kind, and its backups) as well as instances.
// (An instance's backups are backup_test.go's.)
func subject(t *testing.T, group, fn string) providertest.Subject {
	t.Helper()
	at := seeder{conformanceRegion}
	d := newDriverIn(t, conformanceRegion, fastConfig())
	tag := [2]string{"idlescale-fixture", uniq("tag")}
	first := at.runInstances(t, 1, "t3.micro", map[string]string{tag[0]: tag[1], "Name": "first"})
	second := at.runInstances(t, 1, "t3.micro", map[string]string{"Name": "second"})
	instances := []string{first[0], second[0]}

	// Six minutes of CPU, three datapoints per minute, on a minute grid two
	// hours ago.
	start := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Hour)
	points := map[time.Time]float64{}
	for m := range 6 {
		for s, v := range []float64{10, 20, 60} {
			points[start.Add(time.Duration(m)*time.Minute+time.Duration(s*15)*time.Second)] = v + float64(m)
		}
	}
	at.putMetric(t, "AWS/EC2", "CPUUtilization", "InstanceId", instances[0], cwtypes.StandardUnitPercent, points)
	at.snapshot(t, instances[0], nil)
	at.snapshot(t, instances[0], map[string]string{"idlescale:verified": "restore-test"})

	return providertest.Subject{
		Provider:    d,
		Instances:   instances,
		Tag:         tag,
		Group:       group,
		ResizeID:    fn,
		ValidSize:   provider.Size{MemoryMiB: 512, Timeout: 60 * time.Second},
		InvalidSize: provider.Size{MemoryMiB: 64, Timeout: 60 * time.Second},
		MetricQuery: provider.Query{
			ResourceID: instances[0], Metric: provider.MetricCPU,
			Start: start, End: start.Add(6 * time.Minute), Step: time.Minute,
		},
		FirstSample:    start, // the first of the points above
		BackupID:       rootVolume(t, conformanceRegion, instances[0]),
		AttachedVolume: at.createVolume(t, 8, ec2types.VolumeTypeGp3, nil, instances[0], true),
		DetachedVolume: at.createVolume(t, 8, ec2types.VolumeTypeGp3, nil, "", false),
		ActivityQuery: provider.ActivityQuery{
			ResourceID: fn, Start: activityStart, End: activityStart.Add(10 * time.Minute),
		},
		Settle: func(ctx context.Context) error { return settle(ctx, d, instances, group) },
	}
}

// settle waits, polling moto, until no fixture instance is in transition
// and the group has reached its desired capacity.
func settle(ctx context.Context, d *awsprovider.Driver, instances []string, group string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := settled(ctx, d, instances, group)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func settled(ctx context.Context, d *awsprovider.Driver, instances []string, group string) (bool, error) {
	for _, id := range instances {
		r, err := d.Get(ctx, id)
		if err != nil {
			return false, err
		}
		if r.State == provider.StatePending || r.State == provider.StateStopping {
			return false, nil
		}
	}
	c, err := d.Capacity(ctx, group)
	if err != nil {
		return false, err
	}
	return c.Settled(), nil
}

func TestConformance(t *testing.T) {
	t.Parallel()
	at := seeder{conformanceRegion}
	group := at.createGroup(t, 0, 3, 1, nil)
	fn := at.createFunction(t, 256, 30, nil)
	_, fnName, _ := strings.Cut(fn, ":function:")
	at.putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", fnName, cwtypes.StandardUnitCount, map[time.Time]float64{
		activityStart.Add(time.Minute): 12, activityStart.Add(3 * time.Minute): 30,
	})
	providertest.Run(t, func(t *testing.T) providertest.Subject { return subject(t, group, fn) })
}

func TestSubjectFixtureHoldsData(t *testing.T) {
	t.Parallel()
	s := subject(t, "", "")
	got, err := s.Provider.(provider.MetricsSource).QueryMetric(tctx(t), s.MetricQuery)
	require.NoError(t, err)
	require.Len(t, got.Values, 6)
	for i, v := range got.Values {
		// mean of 10+i, 20+i, 60+i percent, as a fraction
		require.InDelta(t, (30+float64(i))/100, v, 1e-9, "step %d", i)
	}
}

// rootVolume returns the ID of the volume moto attached to instance.
func rootVolume(t *testing.T, region, instance string) string {
	t.Helper()
	out, err := sdkIn(region).ec2.DescribeInstances(tctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{instance}})
	require.NoError(t, err)
	require.NotEmpty(t, out.Reservations)
	inst := out.Reservations[0].Instances[0]
	require.NotEmpty(t, inst.BlockDeviceMappings, "moto gives every instance a root volume")
	return awssdk.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId)
}
