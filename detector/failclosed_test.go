package detector_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestReadErrorBlocksAction: a quiet instance is stopped; the same
// instance with a memory read at 90 % is not, and neither is it when its
// memory read failed: the failed read could have shown it at work, so the
// utilization, which reads memory, is unknown. A failed read of a metric
// the verdict does not read (network_in, which only the evidence bounds)
// leaves the verdict idle but blocks the action, and so does an activity
// read that failed. (A review found both let the stop through, and a later
// one that the memory read's failure left the verdict idle.)
func TestReadErrorBlocksAction(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cpu := days(14, quiet)
	r := res("r", cpu.Start)
	quietV, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu}})
	require.NoError(t, err)
	require.Equal(t, detector.ActionStop, quietV.Action, "the baseline: %v", quietV.Explain())

	mem := cpu.Clone()
	mem.Metric = provider.MetricMemory
	for i := range mem.Values {
		mem.Values[i] = 0.9
	}
	busy, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu, mem}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, busy.Action, "memory read busy")

	denied := errors.New("AccessDenied on CWAgent")
	failed, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu},
		MetricErrors: []detector.MetricError{{Metric: provider.MetricMemory, Err: denied}}})
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, failed.State, "the utilization reads memory: %v", failed.Explain())
	assert.Equal(t, detector.ActionNone, failed.Action, "memory read failed: %v", failed.Explain())
	assert.Contains(t, failed.Explain(), "utilization: reading memory failed: AccessDenied on CWAgent")

	failed, err = ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu},
		MetricErrors: []detector.MetricError{{Metric: provider.MetricNetworkIn, Err: denied}}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, failed.State, "the verdict itself stands")
	assert.Equal(t, detector.ActionNone, failed.Action, "network_in read failed: %v", failed.Explain())
	assert.Contains(t, failed.Explain(), "ensemble: reading network_in failed (AccessDenied on CWAgent): no action, its data could show use")

	act, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu}, ActivityErr: denied})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, act.Action, "activity read failed: %v", act.Explain())
	assert.Contains(t, act.Explain(), "ensemble: reading activity failed (AccessDenied on CWAgent): no action, its data could show use")
	assert.Zero(t, act.MonthlySavings)
}

// awsLike answers as the AWS driver does for an instance: metrics without
// a CloudWatch mapping (network and disk utilization) are unsupported,
// memory (no CloudWatch agent) has no data, CPU is 2 % and the traffic in
// and out is given, and so are the disk reads and writes when disk is
// set (else they have no data: an instance without EBS, or older than
// the Nitro system).
type awsLike struct {
	traffic float64
	disk    *float64
}

func (a awsLike) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	if _, ok := awsprovider.Mapping(provider.KindInstance, q.Metric); !ok {
		return provider.Series{}, provider.ErrUnsupported
	}
	out := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	for i := range out.Values {
		switch q.Metric {
		case provider.MetricCPU:
			out.Values[i] = 0.02
		case provider.MetricNetworkIn, provider.MetricNetworkOut:
			out.Values[i] = a.traffic
		case provider.MetricDiskRead, provider.MetricDiskWrite:
			out.Values[i] = provider.Gap
			if a.disk != nil {
				out.Values[i] = *a.disk
			}
		default:
			out.Values[i] = provider.Gap
		}
	}
	return out, nil
}

type oneInventory struct{ r provider.Resource }

func (o oneInventory) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return []provider.Resource{o.r}, nil
}

func (o oneInventory) Get(context.Context, string) (provider.Resource, error) { return o.r, nil }

// TestDefaultEnsembleReadsTrafficOnAWS: on the metrics the AWS driver has
// for an instance (CPU, traffic in and out; no network or disk
// utilization), the default ensemble stops a quiet instance whose traffic
// is an agent's (1 kB/s) and not a proxy at 2 % CPU moving 80 MB/s. (A
// review found it judged such an instance on its CPU alone.)
func TestDefaultEnsembleReadsTrafficOnAWS(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	assert.Subset(t, ens.Needs().Metrics, []provider.Metric{provider.MetricNetworkIn, provider.MetricNetworkOut})
	r := res("i-0123456789abcdef0", tEnd.Add(-60*24*time.Hour))
	for _, tt := range []struct {
		traffic float64
		want    detector.Action
	}{{1e3, detector.ActionStop}, {80e6, detector.ActionNone}, {150e3, detector.ActionNone}} {
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: awsLike{traffic: tt.traffic}}, ens, detector.ScanConfig{Now: tEnd})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		v := rep.Verdicts[0]
		assert.Equal(t, tt.want, v.Action, "traffic %g B/s: %v", tt.traffic, v.Explain())
	}
}

// TestDefaultEnsembleReadsDiskOnAWS: the default ensemble stops a quiet
// instance (2 % CPU, an agent's 1 kB/s of traffic) whose disks are as
// quiet, but not one at the same CPU and traffic that reads and writes
// 80 MB/s (a restore, a copy, a batch job fed from its own disk), nor one
// at 150 kB/s (above the p99 bound, 100 kB/s). Without disk data it is
// judged as before, on CPU and traffic. A scan and a Tracker that read
// maxima, which the driver refuses for a counter, read the mean instead.
// (A review found such an instance stopped on its CPU and traffic alone.)
func TestDefaultEnsembleReadsDiskOnAWS(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	assert.Subset(t, ens.Needs().Metrics, []provider.Metric{provider.MetricDiskRead, provider.MetricDiskWrite})
	r := res("i-0123456789abcdef0", tEnd.Add(-60*24*time.Hour))
	disk := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		disk *float64
		want detector.Action
	}{{nil, detector.ActionStop}, {disk(1e3), detector.ActionStop}, {disk(99e3), detector.ActionStop}, {disk(80e6), detector.ActionNone}, {disk(150e3), detector.ActionNone}} {
		name := "no disk data"
		if tt.disk != nil {
			name = fmt.Sprintf("disk %g B/s", *tt.disk)
		}
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: awsLike{traffic: 1e3, disk: tt.disk}}, ens, detector.ScanConfig{Now: tEnd})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		v := rep.Verdicts[0]
		assert.Equal(t, tt.want, v.Action, "%s: %v", name, v.Explain())
		if tt.want == detector.ActionNone {
			assert.Regexp(t, `(?m)^evidence: disk_write p99 \S+ bytes/s over the last 14d reaches the stop bound 1e\+05 bytes/s$`, strings.Join(v.Explain(), "\n"), "%s: the reason names the disk", name)
		}

		src := awsStat{awsLike{traffic: 1e3, disk: tt.disk}}
		rep, err = detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: src}, ens, detector.ScanConfig{Now: tEnd, Statistic: provider.StatMax})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		assert.Equal(t, tt.want, rep.Verdicts[0].Action, "scan of maxima, %s: %v", name, rep.Verdicts[0].Explain())
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{Statistic: provider.StatMax}, &detector.MemoryStateStore{})
		require.NoError(t, err)
		for _, now := range []time.Time{tEnd.Add(-time.Hour), tEnd} { // a full read, then an incremental one
			v, rd, err := tr.Detect(t.Context(), src, nil, r, now)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.Action, "tracker at %s (full %v), %s: %v", now, rd.Full, name, v.Explain())
		}
	}
}

// awsStat is awsLike refusing, as the AWS driver does for a counter
// (NetworkIn/Out, EBSReadBytes/EBSWriteBytes), a statistic other than the
// mean, sum or count.
type awsStat struct{ awsLike }

func (a awsStat) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	switch q.Metric {
	case provider.MetricNetworkIn, provider.MetricNetworkOut, provider.MetricDiskRead, provider.MetricDiskWrite:
		switch q.Statistic {
		case "", provider.StatMean, provider.StatSum, provider.StatCount:
		default:
			return provider.Series{}, provider.ErrUnsupported
		}
	}
	return a.awsLike.QueryMetric(ctx, q)
}

// TestTrafficReadAsMeanWhenStatisticRefused: a scan, and a Tracker, that
// read maxima still check the traffic of an AWS instance: the driver
// refuses the maximum of a counter, and the mean is read instead, so the
// 80 MB/s proxy is not stopped. (A review found the refusal read as no
// data, which let the evidence skip the traffic bounds.)
func TestTrafficReadAsMeanWhenStatisticRefused(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	r := res("i-0123456789abcdef0", tEnd.Add(-60*24*time.Hour))
	for _, traffic := range []float64{80e6, 1e3} {
		src := awsStat{awsLike{traffic: traffic}}
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: src}, ens,
			detector.ScanConfig{Now: tEnd, Statistic: provider.StatMax})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		want := map[bool]detector.Action{true: detector.ActionNone, false: detector.ActionStop}[traffic > 1e6]
		assert.Equal(t, want, rep.Verdicts[0].Action, "scan, traffic %g: %v", traffic, rep.Verdicts[0].Explain())

		tr, err := detector.NewTracker(ens, detector.TrackerConfig{Statistic: provider.StatMax}, &detector.MemoryStateStore{})
		require.NoError(t, err)
		for _, now := range []time.Time{tEnd.Add(-time.Hour), tEnd} { // a full read, then an incremental one
			v, rd, err := tr.Detect(t.Context(), src, nil, r, now)
			require.NoError(t, err)
			assert.Equal(t, want, v.Action, "tracker at %s (full %v), traffic %g: %v", now, rd.Full, traffic, v.Explain())
		}
	}
}

// TestDeadAgentAfterABlipIsNotStopped: 15 days at 2 % CPU, one step at
// 15 % (above the 10 % idle line, below the 20 % peak bound), then the
// agent dies and the last 65 minutes are zero-filled. Nothing real is
// known about the machine for over an hour (more than MaxStaleness, 30m):
// the default Ensemble's verdict is Unknown and recommends nothing. (A
// review found it recommended a stop at 0.995.)
func TestDeadAgentAfterABlipIsNotStopped(t *testing.T) {
	t.Parallel()
	start := t0
	n := 15 * 288
	s := synth("r", start, 5*time.Minute, n, func(i int) float64 {
		switch {
		case i >= n-13:
			return 0
		case i == n-14:
			return 0.15
		}
		return 0.02
	})
	now := s.End()
	e, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	v, err := e.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", start.Add(-time.Hour)), Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State, "%.3f: %v", v.Confidence, v.Explain())
	assert.Equal(t, detector.ActionNone, v.Action, "%s %.3f: %v", v.State, v.Confidence, v.Explain())
	assert.True(t, hasReason(v, detector.ReasonSuspectZeros), v.Explain())
}
