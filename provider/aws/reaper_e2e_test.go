package aws_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// reaperRegion holds the reaper's end-to-end tests' resources: no other
// test's List sees them, nor do they see another test's.
const reaperRegion = "eu-north-1"

// reaperEnv is the whole idle-reaping chain on the real AWS driver: the
// driver (over the volumeEC2 wrapper, which rewrites the volumes'
// CreateTime and counts DeleteVolume) as the reaper's Inventory, Metrics,
// Activity and Actuator, the built-in ensemble, and a safety engine with
// the built-in rules (the backup rule on the driver's Backups) and
// approvals.
type reaperEnv struct {
	ec2       *volumeEC2
	driver    *awsprovider.Driver
	approvals *approval.Manager
	reaper    *reaper.Reaper
}

// newReaperEnv returns the chain over the volumes tagged e2e=tag, whose
// CreateTime reads created.
func newReaperEnv(t *testing.T, tag string, created map[string]time.Time) *reaperEnv {
	t.Helper()
	e := &reaperEnv{ec2: &volumeEC2{EC2API: sdkIn(reaperRegion).ec2, created: created}}
	// The driver's real clock is the one the reaper's now is read from
	// (clock.Real): its quiet counts are relative to it.
	cw := splitCW{CloudWatchAPI: sdkIn(reaperRegion).cw, chunk: 24 * time.Hour}
	e.driver = newDriverIn(t, reaperRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: e.ec2, CloudWatch: cw}))
	var err error
	e.approvals, err = approval.New(approval.Config{}, approval.NewMemoryStore())
	require.NoError(t, err)
	history := &safety.MemoryHistory{}
	// No business hours: the real time of day must not change the
	// outcome.
	rules, err := safety.Builtin(safety.BuiltinConfig{BusinessHours: safety.BusinessHoursConfig{Hours: "none"}},
		safety.BuiltinSources{Backups: e.driver, History: history})
	require.NoError(t, err)
	engine, err := safety.New(safety.Config{}, rules, safety.WithApprovals(e.approvals))
	require.NoError(t, err)
	ensemble, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	fleet := reaper.Fleet{Inventory: e.driver, Metrics: e.driver, Activity: e.driver, Actuator: e.driver}
	e.reaper, err = reaper.New(reaper.Config{
		Execute:        true,
		Actions:        []detector.Action{detector.ActionTerminate},
		Filter:         provider.Filter{Kinds: []provider.Kind{provider.KindVolume}, Tags: map[string]string{"e2e": tag}},
		VerifyInterval: 50 * time.Millisecond,
		VerifyTimeout:  time.Minute,
	}, fleet, ensemble, engine, reaper.WithApprovals(e.approvals), reaper.WithHistory(history))
	require.NoError(t, err)
	return e
}

// splitCW is moto's CloudWatch asked chunk at a time: a GetMetricData
// whose range is longer than chunk, and every query of which is a metric
// whose period divides chunk, is asked as consecutive calls of chunk (the
// last up to its EndTime), and their answers are merged by query, in the
// order ScanBy asks. Each period lies in one chunk, so the answer is the
// one moto gives the whole range. moto filters every datapoint of the
// region in the range for every period of every query: a 28-day read at
// 5 minutes over the attached volume's 15 days of datapoints took about
// 27 s a run; CloudWatch reads it in one call.
type splitCW struct {
	awsprovider.CloudWatchAPI
	chunk time.Duration
}

func (s splitCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	start, end := awssdk.ToTime(in.StartTime), awssdk.ToTime(in.EndTime)
	split := in.NextToken == nil && end.Sub(start) > s.chunk
	for _, q := range in.MetricDataQueries {
		if q.MetricStat == nil || s.chunk%(time.Duration(awssdk.ToInt32(q.MetricStat.Period))*time.Second) != 0 {
			split = false
		}
	}
	if !split {
		return s.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
	}
	type point struct {
		at time.Time
		v  float64
	}
	merged := map[string]*cwtypes.MetricDataResult{}
	points := map[string][]point{}
	var order []string
	for from, to := start, start; from.Before(end); from = to {
		// The last chunk runs to EndTime; one shorter than a second is
		// the one before's (moto reads the times to the second and
		// refuses a StartTime equal to EndTime: a run within a second
		// after a step of the wall clock made one).
		if to = from.Add(s.chunk); !to.Before(end.Add(-time.Second)) {
			to = end
		}
		part := *in
		part.StartTime, part.EndTime = awssdk.Time(from), awssdk.Time(to)
		out, err := s.CloudWatchAPI.GetMetricData(ctx, &part, optFns...)
		if err != nil {
			return nil, err
		}
		if out.NextToken != nil {
			return nil, fmt.Errorf("splitCW: moto paged a chunk")
		}
		for _, r := range out.MetricDataResults {
			id := awssdk.ToString(r.Id)
			if _, ok := merged[id]; !ok {
				order = append(order, id)
				merged[id] = &cwtypes.MetricDataResult{Id: r.Id, Label: r.Label, StatusCode: r.StatusCode}
			} else if r.StatusCode != cwtypes.StatusCodeComplete {
				merged[id].StatusCode = r.StatusCode
			}
			for i := range min(len(r.Timestamps), len(r.Values)) {
				points[id] = append(points[id], point{r.Timestamps[i], r.Values[i]})
			}
		}
	}
	out := &cloudwatch.GetMetricDataOutput{}
	for _, id := range order {
		ps := points[id]
		slices.SortFunc(ps, func(a, b point) int {
			if in.ScanBy == cwtypes.ScanByTimestampAscending {
				return a.at.Compare(b.at)
			}
			return b.at.Compare(a.at) // CloudWatch's default: descending
		})
		r := merged[id]
		for _, p := range ps {
			r.Timestamps, r.Values = append(r.Timestamps, p.at), append(r.Values, p.v)
		}
		out.MetricDataResults = append(out.MetricDataResults, *r)
	}
	return out, nil
}

// requests returns the approval requests made for volume id.
func (e *reaperEnv) requests(t *testing.T, id string) []approval.Request {
	t.Helper()
	reqs, err := e.approvals.List(tctx(t), approval.Filter{ResourceID: id})
	require.NoError(t, err)
	return reqs
}

// run runs the reaper once at the real time.
func (e *reaperEnv) run(t *testing.T) reaper.Report {
	t.Helper()
	rep, err := e.reaper.RunOnce(tctx(t), time.Now().UTC())
	require.NoError(t, err)
	return rep
}

// verifiedSnapshot takes a snapshot of volume vol tagged verified (by a
// restore test, at no stated time: the backup rule then counts it
// verified).
func verifiedSnapshot(t *testing.T, vol string) string {
	t.Helper()
	out, err := sdkIn(reaperRegion).ec2.CreateSnapshot(tctx(t), &ec2.CreateSnapshotInput{
		VolumeId: awssdk.String(vol),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{
			{Key: awssdk.String("idlescale:verified"), Value: awssdk.String("restore-test")},
		}}},
	})
	require.NoError(t, err)
	return awssdk.ToString(out.SnapshotId)
}

// every returns value at every step from start up to end, excluded.
func every(start, end time.Time, step time.Duration, value float64) map[time.Time]float64 {
	out := map[time.Time]float64{}
	for at := start; at.Before(end); at = at.Add(step) {
		out[at] = value
	}
	return out
}

// putZeros writes the datapoints of metric name of volume vol, 50 a
// call: moto parses a call's members in a time that grows faster than
// their number (500 a call, seeder.putMetric's, took 18 s for 8,640).
func putZeros(t *testing.T, name, vol string, points map[time.Time]float64) {
	t.Helper()
	var data []cwtypes.MetricDatum
	for at, v := range points {
		data = append(data, cwtypes.MetricDatum{
			MetricName: awssdk.String(name),
			Dimensions: []cwtypes.Dimension{{Name: awssdk.String("VolumeId"), Value: awssdk.String(vol)}},
			Timestamp:  awssdk.Time(at), Value: awssdk.Float64(v), Unit: cwtypes.StandardUnitBytes,
		})
	}
	cw := sdkIn(reaperRegion).cw
	for lo := 0; lo < len(data); lo += 50 {
		_, err := cw.PutMetricData(tctx(t), &cloudwatch.PutMetricDataInput{Namespace: awssdk.String("AWS/EBS"), MetricData: data[lo:min(lo+50, len(data))]})
		require.NoError(t, err)
	}
}

// volumeGone reports whether EC2 no longer has volume id, or has it
// deleted.
func volumeGone(t *testing.T, id string) bool {
	t.Helper()
	out, err := sdkIn(reaperRegion).ec2.DescribeVolumes(tctx(t), &ec2.DescribeVolumesInput{
		Filters: []ec2types.Filter{{Name: awssdk.String("volume-id"), Values: []string{id}}},
	})
	require.NoError(t, err)
	for _, v := range out.Volumes {
		if awssdk.ToString(v.VolumeId) == id && v.State != ec2types.VolumeStateDeleted {
			return false
		}
	}
	return true
}

// hasReason reports whether v has a reason of code for action.
func hasReason(v *detector.Verdict, code detector.ReasonCode, action detector.Action) bool {
	for _, why := range v.Reasons {
		if why.Code == code && why.Action == action {
			return true
		}
	}
	return false
}

// TestReaperDeletesAnUnusedDetachedVolume: the whole chain on the real
// AWS driver (moto) deletes an unused detached EBS volume, and nothing
// else. Three volumes created 60 days ago, each with a fresh verified
// snapshot: (unused) detached, never attached, no datapoint at all (the
// driver's quiet counts read it 0); (written) detached, written once 20
// days ago; (attached) attached to a running instance, with no I/O. The
// unused one is recommended for termination and an approval is asked
// for; once approved, the next run deletes it (one DeleteVolume) and
// verifies it gone. The written one is idle and kept for its write, the
// attached one kept as attached; neither asks for an approval.
func TestReaperDeletesAnUnusedDetachedVolume(t *testing.T) {
	t.Parallel()
	s := seeder{reaperRegion}
	tag := uniq("e2e")
	tags := map[string]string{"e2e": tag}
	inst := s.runInstances(t, 1, "t3.micro", nil)[0]
	unused := s.createVolume(t, 8, ec2types.VolumeTypeGp3, tags, inst, false)
	written := s.createVolume(t, 8, ec2types.VolumeTypeGp3, tags, inst, false)
	attached := s.createVolume(t, 8, ec2types.VolumeTypeGp3, tags, inst, true)
	now := time.Now().UTC().Truncate(5 * time.Minute)
	writtenAt := now.Add(-20 * 24 * time.Hour)
	s.putMetric(t, "AWS/EBS", "VolumeWriteBytes", "VolumeId", written, cwtypes.StandardUnitBytes, map[time.Time]float64{writtenAt: 4096})
	s.putMetric(t, "AWS/EBS", "VolumeWriteOps", "VolumeId", written, cwtypes.StandardUnitCount, map[time.Time]float64{writtenAt: 1})
	// The attached volume publishes (as on a Nitro instance) zeros: 2
	// days every 5 minutes, for the utilization's 24 hours (an idle
	// verdict, whose reasons say why it gets no action). Its 14 and 28
	// days of evidence are not needed: an attached volume is never
	// recommended for termination, whatever its data.
	zeros := every(now.Add(-2*24*time.Hour), now.Add(-10*time.Minute), 5*time.Minute, 0)
	for _, m := range []string{"VolumeReadBytes", "VolumeWriteBytes"} {
		putZeros(t, m, attached, zeros)
	}
	for _, vol := range []string{unused, written, attached} {
		verifiedSnapshot(t, vol)
	}
	created := now.Add(-60 * 24 * time.Hour)
	e := newReaperEnv(t, tag, map[string]time.Time{unused: created, written: created, attached: created})

	rep := e.run(t)
	rec, ok := rep.Record(unused)
	require.True(t, ok, "unused listed")
	require.NotNil(t, rec.Verdict, "%v", rec.Errors)
	require.Equal(t, detector.ActionTerminate, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	require.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, "%s %v", rec.Reason, rec.Errors)
	require.NotEmpty(t, rec.ApprovalID)

	rec, ok = rep.Record(written)
	require.True(t, ok, "written listed")
	require.NotNil(t, rec.Verdict, "%v", rec.Errors)
	assert.Equal(t, detector.Idle, rec.Verdict.State, "%v", rec.Verdict.Explain())
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	// Kept for its write 20 days ago: its VolumeWriteOps is a file_access
	// event in the terminate's 28 days, and its VolumeWriteBytes their
	// peak.
	used := false
	for _, why := range rec.Verdict.Reasons {
		if why.Code == detector.ReasonUsed && why.Action == detector.ActionTerminate && why.Kind == provider.ActivityFiles {
			used = true
			assert.InDelta(t, 1.0, why.Value, 0, "one write")
		}
	}
	assert.True(t, used, "used: %v", rec.Verdict.Explain())
	assert.True(t, hasReason(rec.Verdict, detector.ReasonPeak, detector.ActionTerminate), "the write's peak: %v", rec.Verdict.Explain())
	assert.Empty(t, rec.ApprovalID, "written: nothing to approve")

	rec, ok = rep.Record(attached)
	require.True(t, ok, "attached listed")
	require.NotNil(t, rec.Verdict, "%v", rec.Errors)
	assert.Equal(t, provider.StateRunning, rec.Resource.State)
	assert.Equal(t, detector.ActionNone, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.True(t, hasReason(rec.Verdict, detector.ReasonAttached, detector.ActionTerminate), "%v", rec.Verdict.Explain())
	assert.Empty(t, rec.ApprovalID, "attached: nothing to approve")
	assert.Zero(t, e.ec2.count("DeleteVolume"), "nothing deleted before the approval")

	pending, _ := rep.Record(unused)
	_, err := e.approvals.Approve(tctx(t), pending.ApprovalID, "bob", time.Now().UTC(), "")
	require.NoError(t, err)
	rep = e.run(t)
	rec, ok = rep.Record(unused)
	require.True(t, ok, "unused listed again")
	assert.Equal(t, safety.ActionTerminate, rec.Action)
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, "%s %v", rec.Reason, rec.Errors)
	assert.True(t, rec.Verified, "verified")
	assert.Equal(t, provider.StateTerminated, rec.FinalState)
	assert.Equal(t, pending.ApprovalID, rec.ApprovalID)
	assert.Equal(t, 1, e.ec2.count("DeleteVolume"), "one DeleteVolume: %v", e.ec2.recorded())
	assert.True(t, volumeGone(t, unused), "unused deleted")
	for _, id := range []string{written, attached} {
		rec, ok := rep.Record(id)
		require.True(t, ok, id)
		assert.NotEqual(t, reaper.OutcomeActed, rec.Outcome, "%s: %s", id, rec.Reason)
		assert.Empty(t, rec.ApprovalID, "%s: nothing to approve", id)
		assert.Empty(t, e.requests(t, id), "%s: no approval requested", id)
		assert.False(t, volumeGone(t, id), "%s kept", id)
	}
	assert.Len(t, e.requests(t, unused), 1, "one request, approved and executed")
}

// TestReaperKeepsAVolumeWithoutABackup: the unused detached volume of
// TestReaperDeletesAnUnusedDetachedVolume without a snapshot is not
// deleted: the backup rule blocks the terminate, the record says a
// recent verified backup is needed, and no approval is asked for (a
// blocked decision is not one to approve).
func TestReaperKeepsAVolumeWithoutABackup(t *testing.T) {
	t.Parallel()
	s := seeder{reaperRegion}
	tag := uniq("e2e")
	vol := s.createVolume(t, 8, ec2types.VolumeTypeGp3, map[string]string{"e2e": tag}, "", false)
	e := newReaperEnv(t, tag, map[string]time.Time{vol: time.Now().UTC().Add(-60 * 24 * time.Hour)})

	for run := range 2 {
		rep := e.run(t)
		rec, ok := rep.Record(vol)
		require.True(t, ok, "listed")
		require.NotNil(t, rec.Verdict, "%v", rec.Errors)
		require.Equal(t, detector.ActionTerminate, rec.Verdict.Action, "%v", rec.Verdict.Explain())
		assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome, "run %d: %s %v", run, rec.Reason, rec.Errors)
		assert.Contains(t, rec.BlockedBy, "backup", "run %d", run)
		require.NotNil(t, rec.Decision, "run %d", run)
		var why string
		for _, res := range rec.Decision.Results {
			if res.Rule == "backup" {
				assert.Equal(t, safety.Block, res.Outcome, "run %d", run)
				why = res.Reason
			}
		}
		assert.Equal(t, "no complete verified backup within 24h0m0s", why, "run %d: the backup rule says why", run)
		assert.Contains(t, rec.Reason, "no complete verified backup", "run %d: the record says why", run)
		assert.Empty(t, rec.ApprovalID, "run %d: no approval asked for", run)
	}
	assert.Empty(t, e.requests(t, vol), "no approval requested: a blocked decision is not one to approve")
	assert.Zero(t, e.ec2.count("DeleteVolume"))
	assert.False(t, volumeGone(t, vol), "kept")
}

// chunksCW records the ranges splitCW asks.
type chunksCW struct {
	awsprovider.CloudWatchAPI
	ranges [][2]time.Time
}

func (c *chunksCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	c.ranges = append(c.ranges, [2]time.Time{awssdk.ToTime(in.StartTime), awssdk.ToTime(in.EndTime)})
	return &cloudwatch.GetMetricDataOutput{}, nil
}

// TestSplitCWChunks: splitCW asks consecutive chunks that cover the range
// exactly, none shorter than a second (moto refuses a StartTime and an
// EndTime in the same second), whatever fraction of a second the range
// ends on.
func TestSplitCWChunks(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 7, 35, 0, 0, time.UTC)
	q := cwtypes.MetricDataQuery{Id: awssdk.String("q0"), MetricStat: &cwtypes.MetricStat{Period: awssdk.Int32(300)}}
	for _, tail := range []time.Duration{0, 400 * time.Millisecond, time.Second, 90 * time.Minute} {
		rec := &chunksCW{}
		end := start.Add(2*24*time.Hour + tail)
		_, err := splitCW{CloudWatchAPI: rec, chunk: 24 * time.Hour}.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
			StartTime: awssdk.Time(start), EndTime: awssdk.Time(end), MetricDataQueries: []cwtypes.MetricDataQuery{q}})
		require.NoError(t, err)
		require.NotEmpty(t, rec.ranges)
		assert.Equal(t, start, rec.ranges[0][0], "tail %s", tail)
		assert.Equal(t, end, rec.ranges[len(rec.ranges)-1][1], "tail %s", tail)
		for i, r := range rec.ranges {
			assert.GreaterOrEqual(t, r[1].Sub(r[0]), time.Second, "tail %s: chunk %d %v", tail, i, r)
			if i > 0 {
				assert.Equal(t, rec.ranges[i-1][1], r[0], "tail %s: consecutive", tail)
			}
		}
	}
}
