package detector_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// flat returns a cpu series of days·288 five-minute steps ending at end.
func flat(id string, end time.Time, days int, f func(i int) float64) provider.Series {
	n := days * 288
	return synth(id, end.Add(-time.Duration(n)*5*time.Minute), 5*time.Minute, n, f)
}

func ExampleNewUtilization() {
	u, err := detector.NewUtilization(detector.UtilizationConfig{}) // CPU < 10 % over 24 h, held 1 h
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	in := detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance},
		Series:   []provider.Series{flat("i-1", now, 1, func(int) float64 { return 0.03 })},
	}
	v, err := u.Detect(context.Background(), in)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.State, v.Explain()[0])
	// Output: idle utilization: cpu mean 3.00% below 10.00% over 24h
}

func ExampleNewActivity() {
	a, err := detector.NewActivity(detector.ActivityConfig{}) // idle after 30 min quiet
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	v, err := a.Detect(context.Background(), detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance},
		Activity: []provider.ActivityCount{
			{Kind: provider.ActivityLogins, Count: 2, Last: now.Add(-10 * time.Minute)},
			{Kind: provider.ActivityAPICalls},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s score=%.2f: %s\n", v.State, v.Score, v.Explain()[0])
	// Output: not_idle score=0.49: activity: 2 logins events in the last 30m0s
}

func ExampleNewSchedule() {
	s, err := detector.NewSchedule(detector.ScheduleConfig{})
	if err != nil {
		panic(err)
	}
	// Two weeks of an office server: busy 08:00–18:00 on weekdays.
	now := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC) // a Monday
	series := flat("web", now, 14, func(i int) float64 {
		t := now.Add(-14 * 24 * time.Hour).Add(time.Duration(i) * 5 * time.Minute)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday && t.Hour() >= 8 && t.Hour() < 18 {
			return 0.6
		}
		return 0.02
	})
	in := detector.Input{Now: now.Add(3 * time.Hour), Resource: provider.Resource{ID: "web", Kind: provider.KindInstance}, Series: []provider.Series{series}}
	in.Now = now // Monday 00:00: an idle hour
	v, err := s.Detect(context.Background(), in)
	if err != nil {
		panic(err)
	}
	p, err := s.Learn(in)
	if err != nil {
		panic(err)
	}
	off := p.Propose(2 * time.Hour)
	fmt.Println(v.State)
	for _, w := range off.Windows {
		fmt.Println(w)
	}
	fmt.Printf("saves %.0f%% of the week\n", 100*off.SavedShare)
	// Output:
	// idle
	// Mon 18:00 → Tue 08:00 (14h)
	// Tue 18:00 → Wed 08:00 (14h)
	// Wed 18:00 → Thu 08:00 (14h)
	// Thu 18:00 → Fri 08:00 (14h)
	// Fri 18:00 → Mon 08:00 (62h)
	// saves 70% of the week
}

func ExampleNewEnsemble() {
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}) // weights 0.3/0.3/0.2/0.2, act above 0.8
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	v, err := ens.Detect(context.Background(), detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "i-idle", Kind: provider.KindInstance, HourlyCost: 0.10, LaunchTime: now.Add(-30 * 24 * time.Hour)},
		Series:   []provider.Series{flat("i-idle", now, 14, func(i int) float64 { return 0.01 })},
		Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s confidence=%.2f action=%s saves $%.2f/month\n", v.State, v.Confidence, v.Action, v.MonthlySavings)
	for _, c := range v.Signals {
		fmt.Printf("  %-11s %-8s weight=%.3f score=%.2f\n", c.Signal, c.State, c.Weight, c.Score)
	}
	// Output:
	// idle confidence=1.00 action=stop saves $73.05/month
	//   utilization idle     weight=0.375 score=1.00
	//   activity    idle     weight=0.375 score=1.00
	//   schedule    idle     weight=0.250 score=1.00
}

func ExampleFunc() {
	// A custom signal: resources tagged keep=true are never idle.
	keep := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		if in.Resource.Tags["keep"] == "true" {
			return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle, Score: 0}, nil
		}
		return detector.Verdict{ResourceID: in.Resource.ID}, nil // unknown: no opinion
	})
	v, err := keep.Detect(context.Background(), detector.Input{Now: time.Now(), Resource: provider.Resource{ID: "db", Kind: provider.KindDatabase, Tags: map[string]string{"keep": "true"}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.State)
	// Output: not_idle
}

// An idle machine that ran a nightly job once, twelve days ago: the verdict
// is idle (its last day is quiet), but the job's peak forbids a stop, and
// the reasons show what a person checks before stopping it.
func ExampleEvidenceConfig() {
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}) // default evidence: see EvidenceConfig
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC) // a Monday
	cpu := flat("i-etl", now, 14, func(i int) float64 {
		if i >= 38*12 && i < 38*12+6 { // Wednesday 02:00–02:30, twelve days ago (the series starts Monday 12:00)
			return 0.85
		}
		return 0.01
	})
	v, err := ens.Detect(context.Background(), detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "i-etl", Kind: provider.KindInstance, HourlyCost: 0.34},
		Series:   []provider.Series{cpu},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s, action %s\n", v.State, v.Action)
	for _, why := range v.Explain() {
		if strings.HasPrefix(why, "evidence:") {
			fmt.Println(why)
		}
	}
	// Output:
	// idle, action none
	// evidence: cpu over the last 14d (100% covered): mean 1.13%, p95 1.00%, p99 1.00%, max 85.00%
	// evidence: 1 of 168 hours of the week are busy or held a peak (Wed 02:00–03:00): the week is 99% idle, stop needs 100%
	// evidence: cpu p99 1.00% over the last 14d is below the stop bound 10.00%
	// evidence: cpu max 85.00% over the last 14d reaches the stop bound 20.00%
	// evidence: no hour of the week is busy every week: an off-hours schedule has nothing to follow
}
