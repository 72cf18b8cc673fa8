package aws_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// volRegion holds the volume tests' resources: their List calls see only
// the volumes (and the instances' root volumes) they create.
const volRegion = "ca-central-1"

// createVolume creates a volume of size GiB and type typ with tags in the
// availability zone of instance (attached to it when attach), or in the
// region's first zone when instance is empty.
func (s seeder) createVolume(t tb, size int32, typ ec2types.VolumeType, tags map[string]string, instance string, attach bool) string {
	t.Helper()
	c := sdkIn(s.region)
	az := s.region + "a"
	if instance != "" {
		out, err := c.ec2.DescribeInstances(tctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{instance}})
		require.NoError(t, err)
		az = awssdk.ToString(out.Reservations[0].Instances[0].Placement.AvailabilityZone)
	}
	in := &ec2.CreateVolumeInput{AvailabilityZone: awssdk.String(az), Size: awssdk.Int32(size), VolumeType: typ}
	if len(tags) > 0 {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeVolume}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
		}
		in.TagSpecifications = []ec2types.TagSpecification{spec}
	}
	out, err := c.ec2.CreateVolume(tctx(t), in)
	require.NoError(t, err)
	id := awssdk.ToString(out.VolumeId)
	if attach {
		_, err := c.ec2.AttachVolume(tctx(t), &ec2.AttachVolumeInput{VolumeId: awssdk.String(id), InstanceId: awssdk.String(instance), Device: awssdk.String("/dev/sdf")})
		require.NoError(t, err)
	}
	return id
}

// volumeEC2 is the real EC2 client with the CreateTime of the volumes
// (by ID) in created rewritten (moto stamps a volume with the time it
// was created, and the tests need one created before the window they
// read), that records its volume calls, and whose DescribeVolumes and
// DeleteVolume a test may replace.
type volumeEC2 struct {
	awsprovider.EC2API
	created map[string]time.Time

	mu       sync.Mutex
	calls    []string
	describe func(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	del      func(ctx context.Context, in *ec2.DeleteVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
}

func (v *volumeEC2) record(op string) {
	v.mu.Lock()
	v.calls = append(v.calls, op)
	v.mu.Unlock()
}

func (v *volumeEC2) recorded() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.calls...)
}

func (v *volumeEC2) count(op string) int {
	n := 0
	for _, c := range v.recorded() {
		if c == op {
			n++
		}
	}
	return n
}

func (v *volumeEC2) DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	v.record("DescribeVolumes")
	var out *ec2.DescribeVolumesOutput
	var err error
	if v.describe != nil {
		out, err = v.describe(ctx, in, optFns...)
	} else {
		out, err = v.EC2API.DescribeVolumes(ctx, in, optFns...)
	}
	if err != nil {
		return out, err
	}
	for i := range out.Volumes {
		if at, ok := v.created[awssdk.ToString(out.Volumes[i].VolumeId)]; ok {
			out.Volumes[i].CreateTime = awssdk.Time(at)
		}
	}
	return out, nil
}

func (v *volumeEC2) DeleteVolume(ctx context.Context, in *ec2.DeleteVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error) {
	v.record("DeleteVolume")
	if v.del != nil {
		return v.del(ctx, in, optFns...)
	}
	return v.EC2API.DeleteVolume(ctx, in, optFns...)
}

func (v *volumeEC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	v.record("TerminateInstances")
	return v.EC2API.TerminateInstances(ctx, in, optFns...)
}

// volFixture is an attached and a detached volume of moto's, and the real
// time its tests read at: a whole hour, an hour ago.
type volFixture struct {
	instance, attached, detached string
	now                          time.Time
}

func newVolFixture(t *testing.T) volFixture {
	t.Helper()
	s := seeder{volRegion}
	inst := s.runInstances(t, 1, "t3.micro", nil)[0]
	return volFixture{
		instance: inst,
		attached: s.createVolume(t, 8, ec2types.VolumeTypeGp3, nil, inst, true),
		detached: s.createVolume(t, 8, ec2types.VolumeTypeGp3, nil, inst, false),
		now:      time.Now().UTC().Truncate(time.Hour).Add(-time.Hour),
	}
}

// driver returns a driver in volRegion whose real clock reads f.now, to
// which both volumes were created at created, reading EC2 through the
// volumeEC2 it returns.
func (f volFixture) driver(t *testing.T, created time.Time, cfg awsprovider.Config, opts ...awsprovider.Option) (*awsprovider.Driver, *volumeEC2) {
	t.Helper()
	e := &volumeEC2{EC2API: sdkIn(volRegion).ec2, created: map[string]time.Time{f.attached: created, f.detached: created}}
	return newDriverIn(t, volRegion, cfg, append([]awsprovider.Option{
		awsprovider.WithClients(awsprovider.Clients{EC2: e}),
		awsprovider.WithNow(func() time.Time { return f.now }),
	}, opts...)...), e
}

// TestVolumeInventory: List and Get return EBS volumes, which the driver
// did not know: an attached volume (in-use) is running, a detached one
// (available) stopped; tags, Name, the metadata tags, CreateTime and the
// cost of Config.VolumeMonthlyPrices by size and type (a type not priced
// is 0, unknown). IDs, tags and states are pushed down: only what is
// asked is listed. A volume ID and its ARN name the volume.
func TestVolumeInventory(t *testing.T) {
	t.Parallel()
	s := seeder{volRegion}
	inst := s.runInstances(t, 1, "t3.micro", nil)[0]
	tag := uniq("team")
	attached := s.createVolume(t, 100, ec2types.VolumeTypeGp3, map[string]string{"Name": "data", "team": tag, "environment": "production ", "idlescale:protected": "yes"}, inst, true)
	detached := s.createVolume(t, 50, ec2types.VolumeTypeGp2, map[string]string{"team": tag}, inst, false)
	unpriced := s.createVolume(t, 10, ec2types.VolumeTypeSt1, map[string]string{"team": tag}, "", false)
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := &volumeEC2{EC2API: sdkIn(volRegion).ec2, created: map[string]time.Time{attached: created}}
	cfg := fastConfig()
	cfg.VolumeMonthlyPrices = map[string]float64{"gp3": 0.08, "gp2": 0.1}
	d := newDriverIn(t, volRegion, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: e}))

	got, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindVolume}, Tags: map[string]string{"team": tag}})
	require.NoError(t, err)
	require.Equal(t, sorted(attached, detached, unpriced), ids(got))
	byID := map[string]provider.Resource{}
	for _, r := range got {
		byID[r.ID] = r
		assert.Equal(t, provider.KindVolume, r.Kind, r.ID)
		assert.Equal(t, volRegion, r.Region, r.ID)
		assert.Equal(t, "aws", r.Provider, r.ID)
		assert.Equal(t, tag, r.Tags["team"], r.ID)
		assert.False(t, r.LaunchTime.IsZero(), r.ID)
	}
	a := byID[attached]
	assert.Equal(t, provider.StateRunning, a.State, "attached: it serves an instance")
	assert.Equal(t, "data", a.Name)
	assert.Equal(t, "production", a.Environment)
	assert.True(t, a.Protected)
	assert.Equal(t, created, a.LaunchTime, "LaunchTime is CreateTime")
	assert.InDelta(t, 100*0.08/730.5, a.HourlyCost, 1e-12, "100 GiB of gp3")
	assert.Equal(t, provider.StateStopped, byID[detached].State, "detached: it serves nothing, its storage is billed")
	assert.InDelta(t, 50*0.1/730.5, byID[detached].HourlyCost, 1e-12, "50 GiB of gp2")
	assert.Zero(t, byID[unpriced].HourlyCost, "a type not priced is unknown")

	for _, id := range []string{attached, "arn:aws:ec2:" + volRegion + ":123456789012:volume/" + attached} {
		r, err := d.Get(tctx(t), id)
		require.NoError(t, err, id)
		assert.Equal(t, a, r, "Get reads what List reads: %s", id)
	}

	// The batch reads: GetResources reads a volume as Get does; a
	// volume has no capacity.
	reads := []provider.ResourceRead{{ID: attached}, {ID: "vol-0123456789abcdef0"}}
	require.NoError(t, d.GetResources(tctx(t), reads))
	require.NoError(t, reads[0].Err)
	assert.Equal(t, a, reads[0].Resource)
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound)
	caps := []provider.CapacityRead{{ID: attached}}
	require.NoError(t, d.GetCapacities(tctx(t), caps))
	require.ErrorIs(t, caps[0].Err, provider.ErrUnsupported)
	assert.Contains(t, caps[0].Err.Error(), "a volume is not an Auto Scaling group")

	for _, tc := range []struct {
		name string
		f    provider.Filter
		want []string
	}{
		{"by ID", provider.Filter{IDs: []string{detached}}, []string{detached}},
		// Filter.IDs match canonical IDs (the package doc), as an
		// instance's ARN does not match the instance.
		{"by ARN", provider.Filter{IDs: []string{"arn:aws:ec2:" + volRegion + ":123456789012:volume/" + detached}}, nil},
		{"by ID and kind", provider.Filter{IDs: []string{detached, attached}, Kinds: []provider.Kind{provider.KindVolume}}, []string{attached, detached}},
		{"unknown ID", provider.Filter{IDs: []string{"vol-0123456789abcdef0"}}, nil},
		{"stopped", provider.Filter{Tags: map[string]string{"team": tag}, States: []provider.State{provider.StateStopped}}, []string{detached, unpriced}},
		{"running", provider.Filter{Tags: map[string]string{"team": tag}, Kinds: []provider.Kind{provider.KindVolume}, States: []provider.State{provider.StateRunning}}, []string{attached}},
		{"terminated", provider.Filter{Tags: map[string]string{"team": tag}, States: []provider.State{provider.StateTerminated}}, nil},
		{"by tag key", provider.Filter{Kinds: []provider.Kind{provider.KindVolume}, Tags: map[string]string{"team": tag, "Name": ""}}, []string{attached}},
	} {
		got, err := d.List(tctx(t), tc.f)
		require.NoError(t, err, tc.name)
		assert.ElementsMatch(t, tc.want, ids(got), tc.name)
	}

	// The push-down: the IDs and states are EC2's filters, not only
	// f.Match's.
	e2 := &volumeEC2{EC2API: sdkIn(volRegion).ec2}
	var filters [][]ec2types.Filter
	e2.describe = func(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
		filters = append(filters, in.Filters)
		return sdkIn(volRegion).ec2.DescribeVolumes(ctx, in, optFns...)
	}
	d2 := newDriverIn(t, volRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: e2}))
	_, err = d2.List(tctx(t), provider.Filter{IDs: []string{detached}, States: []provider.State{provider.StateRunning}, Tags: map[string]string{"team": tag}})
	require.NoError(t, err)
	require.Len(t, filters, 1)
	names := map[string][]string{}
	for _, f := range filters[0] {
		names[awssdk.ToString(f.Name)] = f.Values
	}
	assert.Equal(t, map[string][]string{"volume-id": {detached}, "status": {"in-use", "error"}, "tag:team": {tag}}, names)
}

// TestGetOfUnknownVolume: a volume ID that names no volume is
// provider.ErrNotFound, and an ARN of EC2 that names neither an instance
// nor a volume provider.ErrUnsupported, whose message lists the volumes.
func TestGetOfUnknownVolume(t *testing.T) {
	t.Parallel()
	d := newDriverIn(t, volRegion, fastConfig())
	for _, id := range []string{"vol-0123456789abcdef0", "vol-01234567", "arn:aws:ec2:" + volRegion + ":123456789012:volume/vol-0123456789abcdef0"} {
		_, err := d.Get(tctx(t), id)
		require.ErrorIs(t, err, provider.ErrNotFound, id)
		assert.NotContains(t, err.Error(), "Auto Scaling group", "%s: a volume ID, not a name to look up", id)
	}
	for _, id := range []string{"arn:aws:ec2:" + volRegion + ":123456789012:volume/vol-xyz", "arn:aws:ec2:" + volRegion + ":123456789012:snapshot/snap-01234567"} {
		_, err := d.Get(tctx(t), id)
		require.ErrorIs(t, err, provider.ErrUnsupported, id)
		assert.Contains(t, err.Error(), "EBS volumes", id)
	}
}

// TestListOfOtherKindsCallsNoDescribeVolumes: a List whose Kinds or IDs
// ask for no volume makes no DescribeVolumes call; one that does, one.
func TestListOfOtherKindsCallsNoDescribeVolumes(t *testing.T) {
	t.Parallel()
	inst := seeder{volRegion}.runInstances(t, 1, "t3.micro", nil)[0]
	vol := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	for _, tc := range []struct {
		f     provider.Filter
		calls int
	}{
		{provider.Filter{Kinds: []provider.Kind{provider.KindInstance}}, 0},
		{provider.Filter{IDs: []string{inst}}, 0},
		{provider.Filter{IDs: []string{inst}, Kinds: []provider.Kind{provider.KindInstance, provider.KindVolume}}, 0},
		{provider.Filter{IDs: []string{vol}, Kinds: []provider.Kind{provider.KindInstance}}, 0},
		{provider.Filter{IDs: []string{inst, vol}}, 1},
		{provider.Filter{Kinds: []provider.Kind{provider.KindVolume}}, 1},
		{provider.Filter{}, 1},
	} {
		e := &volumeEC2{EC2API: sdkIn(volRegion).ec2}
		d := newDriverIn(t, volRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: e}))
		_, err := d.List(tctx(t), tc.f)
		require.NoError(t, err, "%+v", tc.f)
		assert.Equal(t, tc.calls, e.count("DescribeVolumes"), "%+v", tc.f)
	}
}

// pagedVolumesEC2 answers DescribeVolumes with one volume a page, of the
// real answer, and records the MaxResults asked.
type pagedVolumesEC2 struct {
	awsprovider.EC2API
	mu  sync.Mutex
	max []int32
}

func (p *pagedVolumesEC2) DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	p.mu.Lock()
	p.max = append(p.max, awssdk.ToInt32(in.MaxResults))
	p.mu.Unlock()
	out, err := p.EC2API.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: in.Filters, VolumeIds: in.VolumeIds}, optFns...)
	if err != nil {
		return nil, err
	}
	i := 0
	if in.NextToken != nil {
		i = len(*in.NextToken)
	}
	page := &ec2.DescribeVolumesOutput{}
	if i < len(out.Volumes) {
		page.Volumes = out.Volumes[i : i+1]
	}
	if i+1 < len(out.Volumes) {
		page.NextToken = awssdk.String(strings.Repeat("x", i+1))
	}
	return page, nil
}

// TestListVolumesEveryPage: every page of DescribeVolumes is read, each
// asked of Config.PageSize (EC2 takes 5–500).
func TestListVolumesEveryPage(t *testing.T) {
	t.Parallel()
	tag := uniq("paged")
	var want []string
	for range 3 {
		want = append(want, seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, map[string]string{"paged": tag}, "", false))
	}
	e := &pagedVolumesEC2{EC2API: sdkIn(volRegion).ec2}
	cfg := fastConfig()
	cfg.PageSize = 1000
	d := newDriverIn(t, volRegion, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: e}))
	got, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindVolume}, Tags: map[string]string{"paged": tag}})
	require.NoError(t, err)
	assert.Equal(t, sorted(want...), ids(got))
	assert.Equal(t, []int32{500, 500, 500}, e.max, "three pages, each of at most 500")
}

// deniedVolumesEC2 is the EC2 client of a host whose role may describe
// instances but not volumes (ec2:DescribeVolumes is UnauthorizedOperation),
// or, with err, whose DescribeVolumes fails with err.
type deniedVolumesEC2 struct {
	awsprovider.EC2API
	err error
}

func (d deniedVolumesEC2) DescribeVolumes(context.Context, *ec2.DescribeVolumesInput, ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	if d.err != nil {
		return nil, d.err
	}
	return nil, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. User is not authorized to perform: ec2:DescribeVolumes"}
}

// TestListWithoutDescribeVolumesPermission: a host whose role lacks
// ec2:DescribeVolumes listed its instances, groups, functions and load
// balancers with List of every kind before the driver listed volumes; it
// still does, with a warning naming the IAM action. A List that asks for
// volumes (by Kinds or by an ID) fails, as does one whose DescribeVolumes
// fails otherwise than denied.
func TestListWithoutDescribeVolumesPermission(t *testing.T) {
	t.Parallel()
	inst := seeder{volRegion}.runInstances(t, 1, "t3.micro", nil)[0]
	var logs strings.Builder
	raw := sdkIn(volRegion).ec2
	d := newDriverIn(t, volRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: deniedVolumesEC2{EC2API: raw}}),
		awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	got, err := d.List(tctx(t), provider.Filter{})
	require.NoError(t, err, "a read-only List is no safety action: the kinds the host may read are listed")
	assert.Contains(t, ids(got), inst)
	assert.Contains(t, logs.String(), "ec2:DescribeVolumes")
	assert.Contains(t, logs.String(), "UnauthorizedOperation")

	for _, f := range []provider.Filter{
		{Kinds: []provider.Kind{provider.KindVolume}},
		{Kinds: []provider.Kind{provider.KindInstance, provider.KindVolume}},
		{IDs: []string{"vol-0123456789abcdef0"}},
		{IDs: []string{inst, "arn:aws:ec2:" + volRegion + ":123456789012:volume/vol-0123456789abcdef0"}},
	} {
		_, err := d.List(tctx(t), f)
		require.Error(t, err, "%+v: volumes are asked for", f)
		assert.Contains(t, err.Error(), "UnauthorizedOperation", "%+v", f)
	}

	d = newDriverIn(t, volRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: deniedVolumesEC2{EC2API: raw, err: errors.New("connection reset")}}))
	_, err = d.List(tctx(t), provider.Filter{})
	require.Error(t, err, "a failed DescribeVolumes is no denial")
	assert.Contains(t, err.Error(), "connection reset")
}

// TestQuietVolumeReadsZero: EBS publishes a volume's metrics only while
// it is attached, so a detached volume's disk_read and disk_write were
// all gaps and the detector could never read one idle. A detached
// volume's step without a datapoint now reads 0, by the rules of the
// other quiet counts, from its CreateTime on (a step starting at it reads
// 0, one starting a millisecond before it a gap), up to a step ending
// exactly PublishDelay before now, and only after the series' last
// datapoint: a gap before it is of an attached volume, which may be
// CloudWatch's outage. An attached volume keeps its gaps.
func TestQuietVolumeReadsZero(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	for _, vol := range []string{f.attached, f.detached} {
		seeder{volRegion}.putMetric(t, "AWS/EBS", "VolumeWriteBytes", "VolumeId", vol, cwtypes.StandardUnitBytes, map[time.Time]float64{
			now.Add(-9 * time.Minute): 60,
			now.Add(-6 * time.Minute): 120,
		})
	}
	cfg := fastConfig()
	cfg.PublishDelay = 3 * time.Minute
	g := math.NaN()
	q := func(id string, m provider.Metric, st provider.Statistic) provider.Query {
		return provider.Query{ResourceID: id, Metric: m, Statistic: st, Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute}
	}
	// Ten steps from now − 10m: now − 3m ends step 6.
	for _, tc := range []struct {
		name    string
		created time.Time
		q       provider.Query
		want    []float64
	}{
		{"detached, no datapoint, CreateTime on a step's start", now.Add(-8 * time.Minute), q(f.detached, provider.MetricDiskRead, provider.StatSum), []float64{g, g, 0, 0, 0, 0, 0, g, g, g}},
		{"detached, no datapoint, CreateTime a millisecond after it", now.Add(-8*time.Minute + time.Millisecond), q(f.detached, provider.MetricDiskRead, provider.StatSum), []float64{g, g, g, 0, 0, 0, 0, g, g, g}},
		{"detached, no datapoint, rate", now.Add(-time.Hour), q(f.detached, provider.MetricDiskRead, ""), []float64{0, 0, 0, 0, 0, 0, 0, g, g, g}},
		{"detached, written: zeros after the last datapoint only", now.Add(-time.Hour), q(f.detached, provider.MetricDiskWrite, provider.StatSum), []float64{g, 60, g, g, 120, 0, 0, g, g, g}},
		{"detached, written, rate", now.Add(-time.Hour), q(f.detached, provider.MetricDiskWrite, ""), []float64{g, 1, g, g, 2, 0, 0, g, g, g}},
		{"attached, written: gaps stay", now.Add(-time.Hour), q(f.attached, provider.MetricDiskWrite, provider.StatSum), []float64{g, 60, g, g, 120, g, g, g, g, g}},
		{"attached, no datapoint: gaps stay", now.Add(-time.Hour), q(f.attached, provider.MetricDiskRead, provider.StatSum), []float64{g, g, g, g, g, g, g, g, g, g}},
		{"detached, CreateTime after the window", now.Add(time.Minute), q(f.detached, provider.MetricDiskRead, provider.StatSum), []float64{g, g, g, g, g, g, g, g, g, g}},
	} {
		d, _ := f.driver(t, tc.created, cfg)
		got, err := d.QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		assertSeries(t, tc.want, got.Values, tc.name)
		reads := []provider.MetricRead{{Query: tc.q}}
		require.NoError(t, d.QueryMetrics(tctx(t), reads), tc.name)
		require.NoError(t, reads[0].Err, tc.name)
		assertSeries(t, tc.want, reads[0].Series.Values, tc.name+" (batched)")
	}
}

// TestQuietVolumeWrittenDaysAgo: a volume written to three days ago (while
// attached) and detached since reads its writes, and 0 after them, at an
// hour's step, up to the hour ending PublishDelay before now; the hours
// before its writes stay gaps.
func TestQuietVolumeWrittenDaysAgo(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	written := now.Add(-72 * time.Hour)
	seeder{volRegion}.putMetric(t, "AWS/EBS", "VolumeWriteBytes", "VolumeId", f.detached, cwtypes.StandardUnitBytes, map[time.Time]float64{
		written.Add(10 * time.Minute): 3600,
	})
	d, _ := f.driver(t, now.Add(-30*24*time.Hour), fastConfig())
	got, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: f.detached, Metric: provider.MetricDiskWrite, Start: now.Add(-96 * time.Hour), End: now, Step: time.Hour})
	require.NoError(t, err)
	require.Len(t, got.Values, 96)
	for i, v := range got.Values {
		switch {
		case i < 24:
			assert.True(t, math.IsNaN(v), "hour %d, before the writes: a gap", i)
		case i == 24:
			assert.InDelta(t, 1, v, 1e-9, "the writes' hour: 3600 bytes an hour")
		case i == 95:
			assert.True(t, math.IsNaN(v), "the last hour ends less than PublishDelay before now: a gap")
		default:
			assert.Zero(t, v, "hour %d, after the writes", i)
		}
	}
}

// failingDescribeVolumes fails every DescribeVolumes, not denied.
func failingDescribeVolumes(context.Context, *ec2.DescribeVolumesInput, ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	return nil, errors.New("connection reset")
}

// TestVolumeReadThatFailedToDescribeFails: whether a volume is detached,
// and since when, decides its zeros; a DescribeVolumes that fails fails
// the read (metrics, batched or not, and activity), never a zero, and an
// unknown volume is provider.ErrNotFound. The volume is described once
// per read, not per step or per metric.
func TestVolumeReadThatFailedToDescribeFails(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	d, e := f.driver(t, now.Add(-time.Hour), fastConfig())
	e.describe = failingDescribeVolumes
	q := provider.Query{ResourceID: f.detached, Metric: provider.MetricDiskRead, Statistic: provider.StatSum, Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute}
	_, err := d.QueryMetric(tctx(t), q)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection reset")
	reads := []provider.MetricRead{{Query: q}}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	require.Error(t, reads[0].Err)
	_, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.detached, Start: now.Add(-time.Hour), End: now})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection reset")

	d, _ = f.driver(t, now.Add(-time.Hour), fastConfig())
	unknown := "vol-0123456789abcdef0"
	_, err = d.QueryMetric(tctx(t), provider.Query{ResourceID: unknown, Metric: provider.MetricDiskRead, Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute})
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: unknown, Start: now.Add(-time.Hour), End: now})
	require.ErrorIs(t, err, provider.ErrNotFound)

	d, e = f.driver(t, now.Add(-time.Hour), fastConfig())
	q2 := q
	q2.Metric = provider.MetricDiskWrite
	reads = []provider.MetricRead{{Query: q}, {Query: q2}}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	assert.Equal(t, 1, e.count("DescribeVolumes"), "once per read of the volume")
}

// TestQuietVolumeActivity: a volume's activity is file_access, the sum
// of its VolumeReadOps and VolumeWriteOps. A detached volume without a
// datapoint counts 0 from its CreateTime on (Since, when after Start);
// one whose datapoints are all 0 (published while attached) counts 0 from
// the last one's period on; one with operations counts them, Last the
// newest. An attached volume without a datapoint is unknown (absent), and
// a quiet 0 is absent when the window ends after the real time.
func TestQuietVolumeActivity(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	created := now.Add(-2 * time.Hour)
	aq := provider.ActivityQuery{ResourceID: f.detached, Start: now.Add(-3 * time.Hour), End: now}

	d, _ := f.driver(t, created, fastConfig())
	got, err := d.Activity(tctx(t), aq)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles, Since: created}}, got, "detached, no datapoint: 0 from CreateTime")

	d, _ = f.driver(t, now.Add(-4*time.Hour), fastConfig())
	got, err = d.Activity(tctx(t), aq)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles}}, got, "created before the window: the whole window")

	late := aq
	late.End = now.Add(time.Minute)
	got, err = d.Activity(tctx(t), late)
	require.NoError(t, err)
	assert.Empty(t, got, "a window ending after the real time is unknown")

	got, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.attached, Start: aq.Start, End: now})
	require.NoError(t, err)
	assert.Empty(t, got, "attached, no datapoint: unknown")

	// Operations: read and write summed, Last the newest.
	used := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	seeder{volRegion}.putMetric(t, "AWS/EBS", "VolumeReadOps", "VolumeId", used, cwtypes.StandardUnitCount, map[time.Time]float64{now.Add(-50 * time.Minute): 5})
	seeder{volRegion}.putMetric(t, "AWS/EBS", "VolumeWriteOps", "VolumeId", used, cwtypes.StandardUnitCount, map[time.Time]float64{now.Add(-20 * time.Minute): 7})
	zeros := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	seeder{volRegion}.putMetric(t, "AWS/EBS", "VolumeReadOps", "VolumeId", zeros, cwtypes.StandardUnitCount, map[time.Time]float64{now.Add(-90 * time.Minute): 0, now.Add(-40 * time.Minute): 0})
	e := &volumeEC2{EC2API: sdkIn(volRegion).ec2, created: map[string]time.Time{used: created, zeros: created}}
	d = newDriverIn(t, volRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: e}), awsprovider.WithNow(func() time.Time { return f.now }))
	got, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: used, Start: aq.Start, End: now})
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles, Count: 12, Last: now.Add(-20 * time.Minute), Since: created}}, got, "used")
	got, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: zeros, Start: aq.Start, End: now})
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles, Since: now.Add(-40 * time.Minute)}}, got, "zeros: 0 from the last one on")
	got, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: zeros, Start: aq.Start, End: now.Add(time.Minute)})
	require.NoError(t, err)
	assert.Empty(t, got, "zeros, a window ending after the real time: unknown")

	// CreateTime at the window's End: nothing of the window is known.
	d, _ = f.driver(t, now, fastConfig())
	got, err = d.Activity(tctx(t), aq)
	require.NoError(t, err)
	assert.Empty(t, got, "created at End")
	d, _ = f.driver(t, now.Add(-time.Minute), fastConfig())
	got, err = d.Activity(tctx(t), aq)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles, Since: now.Add(-time.Minute)}}, got, "created a minute before End")
}

// TestQuietVolumeActivityReadWhole: a detached volume's quiet 0 needs
// both of the counts it sums (VolumeReadOps, VolumeWriteOps) answered
// whole, with or without datapoints of 0: one in part or not at all
// leaves the activity unknown.
func TestQuietVolumeActivityReadWhole(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	zeros := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	seeder{volRegion}.putMetric(t, "AWS/EBS", "VolumeReadOps", "VolumeId", zeros, cwtypes.StandardUnitCount, map[time.Time]float64{now.Add(-40 * time.Minute): 0})
	base := sdkIn(volRegion).cw
	for _, vol := range []string{f.detached, zeros} {
		aq := provider.ActivityQuery{ResourceID: vol, Start: now.Add(-time.Hour), End: now}
		for _, name := range []string{"VolumeReadOps", "VolumeWriteOps"} {
			for _, cw := range []oneMetricCW{
				{CloudWatchAPI: base, name: name, status: cwtypes.StatusCodePartialData},
				{CloudWatchAPI: base, name: name, drop: true},
			} {
				e := &volumeEC2{EC2API: sdkIn(volRegion).ec2, created: map[string]time.Time{vol: now.Add(-2 * time.Hour)}}
				d := newDriverIn(t, volRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: e, CloudWatch: cw}), awsprovider.WithNow(func() time.Time { return now }))
				act, err := d.Activity(tctx(t), aq)
				require.NoError(t, err, name)
				assert.Empty(t, act, "%s %s (status %q, dropped %v): unknown, not 0", vol, name, cw.status, cw.drop)
			}
		}
	}
}

// TestVolumeBackups: a volume's backups are its snapshots, newest first,
// with the verification tags, ResourceID the volume; a volume without
// snapshots has none, an unknown volume is provider.ErrNotFound.
func TestVolumeBackups(t *testing.T) {
	t.Parallel()
	s := seeder{volRegion}
	vol := s.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	other := s.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	c := sdkIn(volRegion).ec2
	snap := func(tags map[string]string) string {
		in := &ec2.CreateSnapshotInput{VolumeId: awssdk.String(vol)}
		if len(tags) > 0 {
			spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeSnapshot}
			for k, v := range tags {
				spec.Tags = append(spec.Tags, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
			}
			in.TagSpecifications = []ec2types.TagSpecification{spec}
		}
		out, err := c.CreateSnapshot(tctx(t), in)
		require.NoError(t, err)
		return awssdk.ToString(out.SnapshotId)
	}
	plain := snap(nil)
	verified := snap(map[string]string{"idlescale:verified": "restore-test", "idlescale:verified-at": "2026-01-02T03:04:05Z"})
	d := newDriverIn(t, volRegion, fastConfig())
	got, err := d.Backups(tctx(t), vol, time.Time{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	gotIDs := []string{got[0].ID, got[1].ID}
	assert.ElementsMatch(t, []string{plain, verified}, gotIDs)
	assert.False(t, got[0].Time.Before(got[1].Time), "newest first")
	for _, b := range got {
		assert.Equal(t, vol, b.ResourceID)
		if b.ID == verified {
			assert.True(t, b.Verified)
			assert.Equal(t, "restore-test", b.VerifiedBy)
			assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), b.VerifiedAt)
		} else {
			assert.False(t, b.Verified)
		}
	}
	none, err := d.Backups(tctx(t), other, time.Time{})
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = d.Backups(tctx(t), "vol-0123456789abcdef0", time.Time{})
	require.ErrorIs(t, err, provider.ErrNotFound)
}

// TestTerminateVolume: Terminate deletes a detached volume and waits for
// it to be deleted (a describe after the delete), or, with NoWait, does
// not. An attached volume is provider.ErrConflict, naming it and its
// instance, before any change; a volume gone is provider.ErrNotFound;
// Stop, Start and Resize of a volume are provider.ErrUnsupported.
func TestTerminateVolume(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	d, e := f.driver(t, f.now.Add(-time.Hour), fastConfig())

	err := d.Terminate(tctx(t), f.attached)
	require.ErrorIs(t, err, provider.ErrConflict)
	assert.Contains(t, err.Error(), f.attached)
	assert.Contains(t, err.Error(), f.instance)
	assert.Zero(t, e.count("DeleteVolume"), "no change to an attached volume")
	assert.Zero(t, e.count("TerminateInstances"))
	r, err := d.Get(tctx(t), f.attached)
	require.NoError(t, err)
	assert.Equal(t, provider.StateRunning, r.State)

	require.NoError(t, d.Terminate(tctx(t), f.detached))
	calls := e.recorded()
	require.Contains(t, calls, "DeleteVolume")
	assert.Equal(t, "DescribeVolumes", calls[len(calls)-1], "waited: a describe after the delete, %v", calls)
	_, err = d.Get(tctx(t), f.detached)
	require.ErrorIs(t, err, provider.ErrNotFound)
	err = d.Terminate(tctx(t), f.detached)
	require.ErrorIs(t, err, provider.ErrNotFound, "gone")

	cfg := fastConfig()
	cfg.NoWait = true
	other := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	d, e = f.driver(t, f.now.Add(-time.Hour), cfg)
	require.NoError(t, d.Terminate(tctx(t), "arn:aws:ec2:"+volRegion+":123456789012:volume/"+other))
	assert.Equal(t, []string{"DescribeVolumes", "DeleteVolume"}, e.recorded(), "NoWait: no wait")

	for name, op := range map[string]func() error{
		"stop":   func() error { return d.Stop(tctx(t), f.attached) },
		"start":  func() error { return d.Start(tctx(t), f.attached) },
		"resize": func() error { return d.Resize(tctx(t), f.attached, provider.Size{InstanceType: "t3.large"}) },
	} {
		err := op()
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		assert.Contains(t, err.Error(), "volume", name)
		if name != "resize" {
			// Not "cannot be ... terminated": Terminate deletes one.
			assert.Contains(t, err.Error(), "Terminate deletes a detached one", name)
		}
	}
}

// TestTerminateVolumeWhoseDeleteIsLost: DeleteVolume answering not found
// after the volume was described available (an earlier attempt whose
// reply was lost deleted it) has it gone: Terminate succeeds. Attached
// between the describe and the delete (VolumeInUse), it is
// provider.ErrConflict.
func TestTerminateVolumeWhoseDeleteIsLost(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	d, e := f.driver(t, f.now.Add(-time.Hour), fastConfig())
	e.del = func(ctx context.Context, in *ec2.DeleteVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error) {
		if _, err := sdkIn(volRegion).ec2.DeleteVolume(ctx, in, optFns...); err != nil {
			return nil, err
		}
		return nil, &smithy.GenericAPIError{Code: "InvalidVolume.NotFound", Message: "The volume '" + awssdk.ToString(in.VolumeId) + "' does not exist."}
	}
	require.NoError(t, d.Terminate(tctx(t), f.detached))
	_, err := d.Get(tctx(t), f.detached)
	require.ErrorIs(t, err, provider.ErrNotFound)

	vol := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	e.del = func(context.Context, *ec2.DeleteVolumeInput, ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "VolumeInUse", Message: "Volume " + vol + " is currently attached to i-0123456789abcdef0"}
	}
	err = d.Terminate(tctx(t), vol)
	require.ErrorIs(t, err, provider.ErrConflict)
}

// TestQuietVolumeNeedsDetached: a volume's quiet zeros need it detached
// both ways AWS says so, state available and no attachment: one in-use
// whose attachment is not shown, one available that still shows an
// attachment (detaching), and one in error keep their gaps, and their
// activity is unknown.
func TestQuietVolumeNeedsDetached(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	q := provider.Query{ResourceID: f.detached, Metric: provider.MetricDiskRead, Statistic: provider.StatSum, Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute}
	aq := provider.ActivityQuery{ResourceID: f.detached, Start: now.Add(-time.Hour), End: now}
	for _, tc := range []struct {
		name   string
		state  ec2types.VolumeState
		attach []ec2types.VolumeAttachment
	}{
		{"in-use without an attachment shown", ec2types.VolumeStateInUse, nil},
		{"available with an attachment", ec2types.VolumeStateAvailable, []ec2types.VolumeAttachment{{InstanceId: awssdk.String(f.instance), State: ec2types.VolumeAttachmentStateDetaching}}},
		{"error", ec2types.VolumeStateError, nil},
		{"creating", ec2types.VolumeStateCreating, nil},
	} {
		d, e := f.driver(t, now.Add(-time.Hour), fastConfig())
		e.describe = func(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
			out, err := e.EC2API.DescribeVolumes(ctx, in, optFns...)
			if err == nil {
				for i := range out.Volumes {
					out.Volumes[i].State, out.Volumes[i].Attachments = tc.state, tc.attach
				}
			}
			return out, err
		}
		got, err := d.QueryMetric(tctx(t), q)
		require.NoError(t, err, tc.name)
		assert.Equal(t, 10, got.Gaps(), "%s: gaps, not zeros", tc.name)
		act, err := d.Activity(tctx(t), aq)
		require.NoError(t, err, tc.name)
		assert.Empty(t, act, "%s: unknown, not unused", tc.name)
	}
	// The same volume, detached: zeros.
	d, _ := f.driver(t, now.Add(-time.Hour), fastConfig())
	got, err := d.QueryMetric(tctx(t), q)
	require.NoError(t, err)
	assert.Equal(t, 5, got.Gaps(), "detached: the steps within PublishDelay of now only")
}

// TestTerminateVolumeByState: Terminate deletes only a volume both
// available and without an attachment. One that shows an attachment
// (detaching), or is creating or in error, is provider.ErrConflict with
// no DeleteVolume; a deleted one changes nothing; a deleting one is
// waited for (with NoWait, not), with no DeleteVolume.
func TestTerminateVolumeByState(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	nowait := fastConfig()
	nowait.NoWait = true
	for _, tc := range []struct {
		name   string
		cfg    awsprovider.Config
		state  ec2types.VolumeState
		attach []ec2types.VolumeAttachment
		err    error
		calls  []string
	}{
		{"available with an attachment", fastConfig(), ec2types.VolumeStateAvailable, []ec2types.VolumeAttachment{{InstanceId: awssdk.String(f.instance), State: ec2types.VolumeAttachmentStateDetaching}}, provider.ErrConflict, []string{"DescribeVolumes"}},
		{"creating", fastConfig(), ec2types.VolumeStateCreating, nil, provider.ErrConflict, []string{"DescribeVolumes"}},
		{"error", fastConfig(), ec2types.VolumeStateError, nil, provider.ErrConflict, []string{"DescribeVolumes"}},
		{"deleted", fastConfig(), ec2types.VolumeStateDeleted, nil, nil, []string{"DescribeVolumes"}},
		{"deleting", fastConfig(), ec2types.VolumeStateDeleting, nil, nil, []string{"DescribeVolumes", "DescribeVolumes"}},
		{"deleting, NoWait", nowait, ec2types.VolumeStateDeleting, nil, nil, []string{"DescribeVolumes"}},
	} {
		d, e := f.driver(t, f.now.Add(-time.Hour), tc.cfg)
		e.describe = func(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
			out, err := e.EC2API.DescribeVolumes(ctx, in, optFns...)
			if err == nil {
				for i := range out.Volumes {
					out.Volumes[i].State, out.Volumes[i].Attachments = tc.state, tc.attach
				}
				if tc.state == ec2types.VolumeStateDeleting && len(e.recorded()) > 1 {
					out.Volumes[0].State = ec2types.VolumeStateDeleted // the waiter's poll
				}
			}
			return out, err
		}
		err := d.Terminate(tctx(t), f.detached)
		if tc.err != nil {
			require.ErrorIs(t, err, tc.err, tc.name)
			assert.Contains(t, err.Error(), f.detached, tc.name)
		} else {
			require.NoError(t, err, tc.name)
		}
		assert.Equal(t, tc.calls, e.recorded(), tc.name)
	}
	r, err := newDriverIn(t, volRegion, fastConfig()).Get(tctx(t), f.detached)
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopped, r.State, "never deleted")
}

// TestDeleteVolumeAfterALostReplyIsNotUntouched: a volume's Terminate
// whose first DeleteVolume EC2 applied but whose reply was lost, retried
// by the SDK and then throttled (or denied: a 403 says nothing of the
// first attempt), deleted the volume: its error must not match a
// sentinel that says nothing changed, as for an instance's
// TerminateInstances (TestRetriedWriteAfterALostReplyIsNotUntouched).
func TestDeleteVolumeAfterALostReplyIsNotUntouched(t *testing.T) {
	t.Parallel()
	for _, denied := range []bool{false, true} {
		vol := seeder{volRegion}.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
		hook := &lostReplyHTTP{action: "DeleteVolume", denied: denied}
		cfg := fastConfig()
		cfg.MaxAttempts = 2
		cfg.NoWait = true
		d := newDriverIn(t, volRegion, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
		err := d.Terminate(tctx(t), vol)
		require.Error(t, err, "denied %t", denied)
		assert.Equal(t, int64(2), hook.calls.Load(), "the SDK retried once")
		_, gerr := newDriverIn(t, volRegion, fastConfig()).Get(tctx(t), vol)
		require.ErrorIs(t, gerr, provider.ErrNotFound, "the first attempt was applied")
		for _, s := range untouched {
			require.NotErrorIs(t, err, s, "%v: the volume was deleted; it must not read as nothing changed", err)
		}
		assert.Contains(t, err.Error(), "may have been applied")
	}
}

// TestVolumeWithAnAttachmentIsNotStopped: a volume described available
// but with an attachment shown (detaching) is not known to be detached:
// its reads keep their gaps and Terminate refuses it
// (TestQuietVolumeNeedsDetached, TestTerminateVolumeByState), so List and
// Get read it running, not stopped, the one state the detector
// recommends deleting a volume in and the reaper acts on.
func TestVolumeWithAnAttachmentIsNotStopped(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	d, e := f.driver(t, f.now.Add(-time.Hour), fastConfig())
	e.describe = func(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
		out, err := e.EC2API.DescribeVolumes(ctx, in, optFns...)
		if err == nil {
			for i := range out.Volumes {
				out.Volumes[i].State = ec2types.VolumeStateAvailable
				out.Volumes[i].Attachments = []ec2types.VolumeAttachment{{InstanceId: awssdk.String(f.instance), VolumeId: out.Volumes[i].VolumeId, State: ec2types.VolumeAttachmentStateDetaching}}
			}
		}
		return out, err
	}
	r, err := d.Get(tctx(t), f.detached)
	require.NoError(t, err)
	assert.Equal(t, provider.StateRunning, r.State, "Get: an attachment shown, not known detached")
	got, err := d.List(tctx(t), provider.Filter{IDs: []string{f.detached}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, provider.StateRunning, got[0].State, "List")
	got, err = d.List(tctx(t), provider.Filter{IDs: []string{f.detached}, States: []provider.State{provider.StateStopped}})
	require.NoError(t, err)
	assert.Empty(t, got, "not listed stopped")
}

// TestVolumesDescribedInBatches: a batch read of many volumes describes
// them 200 to a DescribeVolumes call (a volume-id filter, so an unknown
// one is left out, not failing the call), as instances are, where every
// volume read made a call of its own: a fleet's root volumes then cost a
// DescribeVolumes call each at every sweep, against EC2's request rate.
// The reads answer as one by one: a detached volume's quiet zeros, an
// unknown volume provider.ErrNotFound, its resource as Get's.
func TestVolumesDescribedInBatches(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	now := f.now
	cfg := fastConfig()
	cfg.PublishDelay = 3 * time.Minute
	d, e := f.driver(t, now.Add(-time.Hour), cfg)
	const n = 450
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("vol-%017x", 0xabc000+i))
	}
	unknown := ids[n-1]
	var mu sync.Mutex
	var sizes []int
	e.describe = func(_ context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
		asked := in.VolumeIds // Get's, one by one
		if len(asked) == 0 {
			require.Len(t, in.Filters, 1)
			require.Equal(t, "volume-id", awssdk.ToString(in.Filters[0].Name), "a filter, which leaves an unknown volume out")
			asked = in.Filters[0].Values
			mu.Lock()
			sizes = append(sizes, len(asked))
			mu.Unlock()
		}
		out := &ec2.DescribeVolumesOutput{}
		for _, id := range asked {
			if id != unknown {
				out.Volumes = append(out.Volumes, ec2types.Volume{VolumeId: awssdk.String(id), State: ec2types.VolumeStateAvailable,
					CreateTime: awssdk.Time(now.Add(-time.Hour)), Size: awssdk.Int32(8), VolumeType: ec2types.VolumeTypeGp3})
			}
		}
		return out, nil
	}
	var reads []provider.MetricRead
	for _, id := range ids {
		for _, m := range []provider.Metric{provider.MetricDiskRead, provider.MetricDiskWrite} {
			reads = append(reads, provider.MetricRead{Query: provider.Query{ResourceID: id, Metric: m, Statistic: provider.StatSum,
				Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute}})
		}
	}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	assert.Equal(t, []int{200, 200, 50}, sizes, "each volume once, 200 a call")
	g := math.NaN()
	for _, r := range reads {
		if r.Query.ResourceID == unknown {
			require.ErrorIs(t, r.Err, provider.ErrNotFound)
			continue
		}
		require.NoError(t, r.Err, r.Query.ResourceID)
		assertSeries(t, []float64{0, 0, 0, 0, 0, 0, 0, g, g, g}, r.Series.Values, r.Query.ResourceID+" "+string(r.Query.Metric))
	}

	sizes = nil
	gets := make([]provider.ResourceRead, n)
	for i, id := range ids {
		gets[i].ID = id
	}
	require.NoError(t, d.GetResources(tctx(t), gets))
	assert.Equal(t, []int{200, 200, 50}, sizes, "each volume once, 200 a call")
	for _, r := range gets[:n-1] {
		require.NoError(t, r.Err)
		assert.Equal(t, provider.KindVolume, r.Resource.Kind)
		assert.Equal(t, provider.StateStopped, r.Resource.State)
		want, err := d.Get(tctx(t), r.ID)
		require.NoError(t, err)
		assert.Equal(t, want, r.Resource, "as Get answers")
	}
	require.ErrorIs(t, gets[n-1].Err, provider.ErrNotFound)

	// A volume has no capacity: GetCapacities describes none (no EC2
	// call spent on an answer its ID already gives).
	var calls atomic.Int32
	e.describe = func(context.Context, *ec2.DescribeVolumesInput, ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
		calls.Add(1)
		return &ec2.DescribeVolumesOutput{}, nil
	}
	caps := make([]provider.CapacityRead, 3)
	for i := range caps {
		caps[i].ID = ids[i]
	}
	require.NoError(t, d.GetCapacities(tctx(t), caps))
	assert.Zero(t, calls.Load(), "DescribeVolumes calls of GetCapacities")
	for _, r := range caps {
		assert.ErrorIs(t, r.Err, provider.ErrUnsupported, r.ID)
	}
}

// TestListVolumesByRepeatedIDs: a List naming a volume twice, in IDs
// more than a volume-id filter holds (so in two DescribeVolumes calls
// but for their being made each once), lists it once.
func TestListVolumesByRepeatedIDs(t *testing.T) {
	t.Parallel()
	f := newVolFixture(t)
	d, e := f.driver(t, f.now.Add(-time.Hour), fastConfig())
	const n = 250
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("vol-%017x", 0xdef000+i%(n-50)) // the first 50 IDs twice
	}
	e.describe = func(_ context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
		out := &ec2.DescribeVolumesOutput{}
		for _, fl := range in.Filters {
			if awssdk.ToString(fl.Name) != "volume-id" {
				continue
			}
			for _, id := range slices.Compact(slices.Sorted(slices.Values(fl.Values))) {
				out.Volumes = append(out.Volumes, ec2types.Volume{VolumeId: awssdk.String(id), State: ec2types.VolumeStateAvailable,
					CreateTime: awssdk.Time(f.now.Add(-time.Hour)), Size: awssdk.Int32(8), VolumeType: ec2types.VolumeTypeGp3})
			}
		}
		return out, nil
	}
	got, err := d.List(tctx(t), provider.Filter{IDs: ids})
	require.NoError(t, err)
	listed := map[string]int{}
	for _, r := range got {
		listed[r.ID]++
	}
	assert.Len(t, listed, n-50)
	for id, k := range listed {
		assert.Equal(t, 1, k, "%s listed %d times", id, k)
	}
}

// TestCanTerminate: the driver says, from the resource alone and with no
// call, which kinds its Terminate may delete (an instance, a volume) and
// which it never deletes (provider.ErrUnsupported, naming the kind), so
// that the reaper asks no one to approve a terminate it would refuse.
func TestCanTerminate(t *testing.T) {
	t.Parallel()
	d, err := awsprovider.New(awsprovider.Config{}, sdkConfig())
	require.NoError(t, err)
	var tc provider.TerminateChecker = d
	for _, k := range provider.Kinds() {
		err := tc.CanTerminate(provider.Resource{ID: "r-1", Kind: k, State: provider.StateRunning})
		switch k {
		case provider.KindInstance, provider.KindVolume:
			require.NoError(t, err, k)
		default:
			require.ErrorIs(t, err, provider.ErrUnsupported, k)
			assert.Contains(t, err.Error(), "never deletes a "+string(k))
		}
	}
}

// TestCanStop: the driver says, from the resource alone and with no call,
// that its Stop stops EC2 instances only (provider.ErrUnsupported, naming
// the kind, for every other), so that the reaper asks no one to approve
// the stop of an idle database it would refuse.
func TestCanStop(t *testing.T) {
	t.Parallel()
	d, err := awsprovider.New(awsprovider.Config{}, sdkConfig())
	require.NoError(t, err)
	var sc provider.StopChecker = d
	for _, k := range provider.Kinds() {
		err := sc.CanStop(provider.Resource{ID: "r-1", Kind: k, State: provider.StateRunning})
		if k == provider.KindInstance {
			require.NoError(t, err, k)
			continue
		}
		require.ErrorIs(t, err, provider.ErrUnsupported, k)
		assert.Contains(t, err.Error(), "not a "+string(k))
	}
}
