package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
)

// readmeRun is the time of the quickstart run the README shows: a Friday
// evening, outside business hours. The traces end at the time of the run,
// so what depends on the time of the week (the business-hours rule, the
// hours the evidence names) is pinned by running at it.
var readmeRun = time.Date(2026, 12, 4, 22, 51, 0, 0, time.UTC)

func TestQuickstartRuns(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "report.json")
	dir := filepath.Join(t.TempDir(), "report")
	var buf, bar bytes.Buffer
	require.NoError(t, run(t.Context(), &buf, options{fleet: defaultFleet(), root: repoRoot(), out: out, window: 14 * 24 * time.Hour,
		reportDir: dir, progress: &bar, policy: defaultPolicy(), traffic: defaultTraffic(), now: readmeRun}))
	text := buf.String()
	assert.NotEmpty(t, bar.String(), "a progress bar on a terminal")
	assert.Contains(t, text, "9 resources on the in-memory cloud")
	assert.Contains(t, text, "i-0c6585a")
	// What the README shows of this run, line by line.
	for _, line := range []string{
		"\nidle resources: 4 of 9, recommended actions save $231 a month\n",
		"\n  i-0c6585a  confidence 1.00  action stop  saves $140/month\n",
		"\n  i-0fe7f93  confidence 0.92  action none  saves $0/month\n",
		"      - evidence: 52 of 168 hours of the week are busy or held a peak (Mon 14:00–17:00, ",
		"the week is 69% idle, stop needs 100%\n",
		"      - evidence: only 79% of the week's hours are regularly idle or busy; an off-hours schedule needs 90%\n",
		"\nreaper dry run at Fri 22:51 UTC: 1 would act, 0 need approval, 2 blocked, 6 skipped\n",
		"\n  stop i-0c6585a: would_act\n      dry run: would stop\n",
		"\n  33 scale-outs, 37 scale-ins; 139 ready instance-hours, 21 of 1440 minutes over capacity\n",
		// The day's peak needs 14 instances at 60 % CPU, above the
		// policy's max: the fixed group compared is the max, and says so.
		"\n  a fixed group of 12, the policy's max (the peak needs 14 at 60% CPU), would use 288 instance-hours (108% more)\n",
		"\nalerts raised: 8\n",
	} {
		assert.Contains(t, text, line)
	}

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep Report
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Len(t, rep.Resources, 9)
	byID := map[string]Row{}
	for _, r := range rep.Resources {
		byID[r.Resource.ID] = r
		assert.Greater(t, r.Coverage, 0.99, "%s: every trace covers the two weeks", r.Resource.ID)
	}
	// The real traces keep their character after the replay.
	assert.Less(t, byID["i-0c6585a"].CPUMax, 0.02, "c6585a is idle")
	assert.Greater(t, byID["db-0825cc2"].CPUMean, 0.8, "825cc2 is saturated")
	assert.Greater(t, byID["i-077c1ca"].CPUMax, 0.95, "77c1ca has its burst")
	require.NotNil(t, byID["asg-web"].Capacity)
	assert.Equal(t, 4, byID["asg-web"].Capacity.Desired)

	// The detector flags the truly idle instances and spares the busy ones.
	for _, id := range []string{"i-0c6585a", "i-024ae8d"} {
		v := byID[id].Verdict
		assert.Equal(t, detector.Idle, v.State, id)
		assert.Greater(t, v.Confidence, 0.8, id)
		assert.Equal(t, detector.ActionStop, v.Action, id)
		assert.Positive(t, v.MonthlySavings, id)
		// A stop saves what the resource costs a month, and no more: the
		// $/MONTH column and the saving count the same hours a month.
		assert.InDelta(t, byID[id].MonthlyUSD, v.MonthlySavings, 1e-9, "%s: a stop saves the monthly cost", id)
	}
	for _, id := range []string{"db-0825cc2", "i-05f5533", "i-0ac20cd", "asg-web"} {
		assert.Equal(t, detector.NotIdle, byID[id].Verdict.State, id)
	}
	// Every stop is for a machine whose two weeks never reached the peak
	// bound (20 % CPU); the nightly ETL and the build agent, which run
	// jobs at up to 100 %, are never stopped, whatever their last day.
	stops := 0
	for _, r := range rep.Resources {
		if r.Verdict.Action == detector.ActionStop || r.Verdict.Action == detector.ActionTerminate {
			stops++
			assert.Less(t, r.CPUMax, 0.2, "%s is stopped: its 14-day max must be low", r.Resource.ID)
		}
	}
	assert.Equal(t, 3, stops, "c6585a, 24ae8d and 53ea38")
	for _, id := range []string{"i-077c1ca", "i-0fe7f93"} {
		assert.Contains(t, []detector.Action{detector.ActionNone, detector.ActionSchedule}, byID[id].Verdict.Action, id)
	}
	var savings float64
	for _, v := range rep.Idle {
		savings += v.MonthlySavings
	}
	assert.InDelta(t, savings, rep.Savings, 1e-9)
	assert.Contains(t, text, "idle resources:")

	// The reaper ran dry: nothing changed, and every recommended stop went
	// through the safety engine.
	rr := rep.Reaper
	assert.True(t, rr.DryRun)
	assert.Zero(t, rr.Totals.Acted)
	assert.Len(t, rr.Records, 9)
	ftp, ok := rr.Record("i-024ae8d")
	require.True(t, ok)
	assert.Equal(t, reaper.OutcomeBlocked, ftp.Outcome, "legacy-ftp has no verified backup")
	assert.Contains(t, ftp.BlockedBy, "backup")
	relay, ok := rr.Record("i-053ea38")
	require.True(t, ok)
	require.NotNil(t, relay.Decision)
	assert.False(t, relay.Decision.Allowed, "a production monitoring instance is never stopped without approval")
	assert.True(t, relay.Decision.ApprovalRequired)
	db, ok := rr.Record("db-0825cc2")
	require.True(t, ok)
	assert.Empty(t, db.Action, "a busy database is not acted on")
	assert.Contains(t, text, "reaper dry run at")

	// The monitor: alerts raised, and the report with its charts and the
	// events in the directory named at the end.
	assert.Contains(t, text, "alerts raised:")
	assert.Contains(t, text, "firing high_cpu/db-0825cc2", "the saturated database's CPU is above 90%")
	assert.Contains(t, text, "firing safety_block/i-024ae8d")
	assert.Contains(t, text, "firing idle_found/i-0c6585a")
	assert.Contains(t, text, "report with charts written to "+dir)
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	for _, chart := range []string{"utilization", "idle", "safety", "savings"} {
		assert.Contains(t, string(html), `<figure id="chart-`+chart+`"><svg`, chart)
		_, err := os.Stat(filepath.Join(dir, chart+".svg"))
		require.NoError(t, err)
		_, err = os.Stat(filepath.Join(dir, chart+".json"))
		require.NoError(t, err)
	}
	assert.Contains(t, string(html), "i-0c6585a")
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	evs, err := monitor.ReadEvents(f)
	require.NoError(t, err)
	kinds := map[monitor.Kind]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	assert.Equal(t, 9, kinds[monitor.KindVerdict], "one verdict per resource")
	assert.Equal(t, 2, kinds[monitor.KindBlocked], "i-024ae8d and i-053ea38: no backup")
	assert.Equal(t, 1, kinds[monitor.KindAction], "the dry run's one would-act")
	var mrep report.Report
	data, err = os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &mrep))
	assert.Equal(t, 9, mrep.Totals.Resources)
	assert.Equal(t, 4, mrep.Totals.Idle)
	assert.InDelta(t, rep.Savings, mrep.Totals.EstimatedMonthlySavings, 1e-6)
	assert.Zero(t, mrep.Totals.RealisedSavings, "a dry run realises nothing")

	// The simulated day of autoscaling asg-web on its real traffic: the
	// group follows demand, mostly within capacity, for far fewer
	// instance-hours than a group sized for the peak; every step is in
	// the log and the report.
	assert.Contains(t, text, "autoscaling asg-web through the last 24h0m0s")
	assert.Contains(t, string(html), `<figure id="chart-capacity-asg-web"><svg`)
	assert.Positive(t, kinds[monitor.KindScalingPlan])
	assert.Positive(t, kinds[monitor.KindScalingStep])
	assert.Positive(t, kinds[monitor.KindVerification])
	require.Len(t, mrep.Scaling, 1)
	sc := mrep.Scaling[0]
	assert.Equal(t, "asg-web", sc.ResourceID)
	assert.Greater(t, sc.Steps, 4, "up in the day, down at night")
	assert.Equal(t, 1440, sc.DemandSteps, "one demand step a minute")
	assert.Less(t, sc.SLOViolations, 1440/20, "within capacity at least 95% of the minutes")
	assert.GreaterOrEqual(t, sc.MinCapacity, 2)
	assert.LessOrEqual(t, sc.MaxCapacity, 12)
	assert.Less(t, sc.CapacityHours, 12.0*24, "fewer instance-hours than the maximum group")
	assert.InDelta(t, sc.CapacityHours*0.096, sc.Cost, 1e-6)
}

// Inside business hours (Mon-Fri 09:00-18:00 UTC, the built-in rule's
// default) the safety engine blocks every stop, the one the README shows
// would act on too.
func TestQuickstartInBusinessHours(t *testing.T) {
	t.Parallel()
	monday := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "report.json")
	var buf bytes.Buffer
	require.NoError(t, run(t.Context(), &buf, options{fleet: defaultFleet(), root: repoRoot(), out: out, window: 14 * 24 * time.Hour,
		reportDir: t.TempDir(), now: monday}))
	text := buf.String()
	assert.Contains(t, text, "\nidle resources: 4 of 9, recommended actions save $231 a month\n", "the verdicts do not depend on the hour")
	assert.Contains(t, text, "\nreaper dry run at Mon 10:00 UTC: 0 would act, 0 need approval, 3 blocked, 6 skipped\n")
	assert.Contains(t, text, "\n  stop i-0c6585a: blocked\n      blocked: business_hours: inside business hours Mon-Fri 09:00-18:00 (UTC), local time Mon 10:00 UTC\n")

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep Report
	require.NoError(t, json.Unmarshal(data, &rep))
	assert.Equal(t, monday, rep.Now)
	batch, ok := rep.Reaper.Record("i-0c6585a")
	require.True(t, ok)
	assert.Equal(t, reaper.OutcomeBlocked, batch.Outcome)
	assert.Contains(t, batch.BlockedBy, "business_hours")
}

func TestAutoscaleDay(t *testing.T) {
	t.Parallel()
	mon, err := newMonitor(options{reportDir: t.TempDir()}, nil)
	require.NoError(t, err)
	defer mon.close()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	res, err := autoscaleDay(t.Context(), mon, now, defaultTraffic(), defaultPolicy())
	require.NoError(t, err)
	assert.Equal(t, 1440, res.minutes)
	assert.Len(t, res.demand.Values, 1440)
	assert.Positive(t, res.outs)
	assert.Positive(t, res.ins)
	assert.Less(t, res.readyHours, res.fixedHours, "autoscaling uses less than a fixed group sized for the peak")
	assert.Less(t, res.overloaded, 1440/20)
	evs, err := mon.log.Query(monitor.Query{Source: monitor.SourceScaling})
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	for _, e := range evs {
		assert.False(t, e.Time.Before(now.Add(-day)), "the day ends at now")
		assert.False(t, e.Time.After(now.Add(15*time.Minute)))
	}

	_, err = autoscaleDay(t.Context(), mon, now, filepath.Join(t.TempDir(), "missing.csv"), defaultPolicy())
	require.Error(t, err)
	bad := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("targets: [{id: asg-web, min: 5, max: 2, strategies: [{type: hpa}]}]\n"), 0o600))
	_, err = autoscaleDay(t.Context(), mon, now, defaultTraffic(), bad)
	require.ErrorIs(t, err, provider.ErrInvalid, "min above max is refused at load")
}

// Without a terminal the progress bar writes nothing.
func TestQuickstartQuietWithoutTerminal(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	assert.Nil(t, progressOut(f), "a file is not a terminal")
	var buf bytes.Buffer
	require.NoError(t, run(t.Context(), &buf, options{fleet: defaultFleet(), root: repoRoot(), window: 24 * time.Hour, reportDir: t.TempDir(), now: readmeRun}))
	assert.NotContains(t, buf.String(), "quickstart [", "no bar in the output")
}

func TestQuickstartBadFleet(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "fleet.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("resources: [{id: x, kind: zeppelin}]\n"), 0o600))
	err := run(t.Context(), &bytes.Buffer{}, options{fleet: bad, window: time.Hour, reportDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "zeppelin")
}

// A resource without CPU data has no mean, p95 or maximum: the table shows
// "-" and the JSON report leaves the fields out, instead of failing to
// encode NaN.
func TestQuickstartResourceWithoutData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet.yaml")
	require.NoError(t, os.WriteFile(fleet, []byte("resources:\n  - {id: i-quiet, kind: instance, name: no-agent}\n"), 0o600))
	out := filepath.Join(dir, "report.json")
	var buf bytes.Buffer
	require.NoError(t, run(t.Context(), &buf, options{fleet: fleet, out: out, window: 24 * time.Hour, reportDir: filepath.Join(dir, "r"), now: readmeRun}))
	assert.Contains(t, buf.String(), "i-quiet")

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var raw struct {
		Resources []map[string]json.RawMessage `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(data, &raw))
	require.Len(t, raw.Resources, 1)
	for _, k := range []string{"cpu_mean", "cpu_p95", "cpu_max"} {
		assert.NotContains(t, raw.Resources[0], k, "no data, no %s", k)
	}
	assert.Contains(t, raw.Resources[0], "coverage")
	var rep Report
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Len(t, rep.Resources, 1)
	assert.True(t, provider.IsGap(rep.Resources[0].CPUMax), "an absent statistic reads back as a gap, not 0")
}

// The built-in fleet's traces lie outside its directory: without a root
// that holds them the fleet is refused, and a root must hold the fleet.
func TestQuickstartFleetReadsOnlyItsRoot(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), &bytes.Buffer{}, options{fleet: defaultFleet(), window: time.Hour, reportDir: t.TempDir()})
	require.ErrorIs(t, err, provider.ErrInvalid)
	err = run(t.Context(), &bytes.Buffer{}, options{fleet: defaultFleet(), root: t.TempDir(), window: time.Hour, reportDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not inside -root")
}
