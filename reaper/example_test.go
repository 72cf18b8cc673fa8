package reaper_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

// exampleCloud returns an in-memory cloud on the wall clock whose instances
// stop at once, with an idle and a busy instance launched a month ago, two
// weeks of CPU samples each (the evidence a stop needs) and a fresh
// verified backup.
func exampleCloud() *memory.Cloud {
	cloud, err := memory.New(memory.Config{StopDelay: time.Nanosecond})
	if err != nil {
		log.Fatal(err)
	}
	now := cloud.Now()
	for id, cpu := range map[string]float64{"i-idle": 0.01, "i-busy": 0.7} {
		if err := cloud.Add(provider.Resource{
			ID: id, Kind: provider.KindInstance, Environment: "staging", HourlyCost: 0.096,
			Size: provider.Size{InstanceType: "m5.large"}, LaunchTime: now.Add(-30 * 24 * time.Hour),
		}); err != nil {
			log.Fatal(err)
		}
		var samples []provider.Sample
		for at := now.Add(-14 * 24 * time.Hour); !at.After(now); at = at.Add(5 * time.Minute) {
			samples = append(samples, provider.Sample{Time: at, Value: cpu})
		}
		if err := cloud.AddSamples(id, provider.MetricCPU, samples...); err != nil {
			log.Fatal(err)
		}
		if err := cloud.AddBackup(provider.Backup{ID: "snap-" + id, ResourceID: id, Time: now.Add(-time.Hour), Complete: true, Verified: true}); err != nil {
			log.Fatal(err)
		}
	}
	return cloud
}

// exampleEngine returns the built-in safety rules over cloud's backups,
// without business hours so that the examples give the same answer at any
// time of day.
func exampleEngine(cloud *memory.Cloud) *safety.Engine {
	rules, err := safety.Builtin(safety.BuiltinConfig{BusinessHours: safety.BusinessHoursConfig{Hours: "none"}},
		safety.BuiltinSources{Backups: cloud, History: &safety.MemoryHistory{}})
	if err != nil {
		log.Fatal(err)
	}
	engine, err := safety.New(safety.Config{}, rules)
	if err != nil {
		log.Fatal(err)
	}
	return engine
}

func ExampleNew() {
	cloud := exampleCloud()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		log.Fatal(err)
	}
	r, err := reaper.New(reaper.Config{Execute: true},
		reaper.Fleet{Inventory: cloud, Metrics: cloud, Actuator: cloud},
		ens, exampleEngine(cloud))
	if err != nil {
		log.Fatal(err)
	}
	rep, err := r.RunOnce(context.Background(), cloud.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range rep.Records {
		fmt.Println(rec)
	}
	fmt.Printf("realised savings: %.2f/month\n", rep.Totals.RealisedMonthlySavings)
	// Output:
	// i-busy: skipped: verdict not_idle, no action recommended (confidence 1.00)
	// i-idle: acted (stop): stop verified
	// realised savings: 70.13/month
}

func ExampleReaper_RunOnce() {
	cloud := exampleCloud()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		log.Fatal(err)
	}
	// The zero Config is a dry run: nothing is changed.
	r, err := reaper.New(reaper.Config{}, reaper.Fleet{Inventory: cloud, Metrics: cloud}, ens, exampleEngine(cloud))
	if err != nil {
		log.Fatal(err)
	}
	rep, err := r.RunOnce(context.Background(), cloud.Now())
	if err != nil {
		log.Fatal(err)
	}
	idle, _ := rep.Record("i-idle")
	fmt.Println(idle.Outcome, idle.Action, idle.Decision.Summary())
	stops := 0
	for _, m := range cloud.Mutations() {
		if m.Op == memory.OpStop {
			stops++
		}
	}
	fmt.Printf("would save %.2f/month; stops so far: %d\n", rep.Totals.EstimatedMonthlySavings, stops)
	// Output:
	// would_act stop allowed
	// would save 70.13/month; stops so far: 0
}

func ExampleSizerFunc() {
	smaller := map[string]string{"m5.xlarge": "m5.large", "m5.large": "t3.large"}
	sizer := reaper.SizerFunc(func(_ context.Context, r provider.Resource) (provider.Size, error) {
		to, ok := smaller[r.Size.InstanceType]
		if !ok {
			return provider.Size{}, fmt.Errorf("no smaller size for %q: %w", r.Size.InstanceType, provider.ErrUnsupported)
		}
		return provider.Size{InstanceType: to}, nil
	})
	size, err := sizer.TargetSize(context.Background(), provider.Resource{ID: "i-1", Size: provider.Size{InstanceType: "m5.xlarge"}})
	fmt.Println(size.InstanceType, err)
	_, err = sizer.TargetSize(context.Background(), provider.Resource{ID: "i-2", Size: provider.Size{InstanceType: "t3.nano"}})
	fmt.Println(err)
	// Output:
	// m5.large <nil>
	// no smaller size for "t3.nano": unsupported
}

func ExampleReaper_Run() {
	cloud := exampleCloud()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := reaper.New(reaper.Config{Interval: 15 * time.Minute},
		reaper.Fleet{Inventory: cloud, Metrics: cloud}, ens, exampleEngine(cloud),
		reaper.WithObserver(reaper.ObserverFuncs{
			Record: func(rec reaper.Record) { fmt.Println(rec.ResourceID, rec.Outcome) },
			// A host would keep running; this example stops after the first run.
			Report: func(reaper.Report, error) { cancel() },
		}))
	if err != nil {
		log.Fatal(err)
	}
	err = r.Run(ctx)
	fmt.Println(err)
	// Output:
	// i-busy skipped
	// i-idle would_act
	// <nil>
}

func ExampleSelect() {
	cfg := reaper.Config{MinConfidence: 0.9, Actions: []detector.Action{detector.ActionStop, detector.ActionDownsize}}
	for _, v := range []detector.Verdict{
		{ResourceID: "i-1", State: detector.Idle, Action: detector.ActionStop, Confidence: 0.95},
		{ResourceID: "i-2", State: detector.Idle, Action: detector.ActionStop, Confidence: 0.85},
		{ResourceID: "i-3", State: detector.NotIdle, Action: detector.ActionDownsize, Confidence: 0.9},
		{ResourceID: "i-4", State: detector.Idle, Action: detector.ActionTerminate, Confidence: 0.99},
	} {
		sel, err := reaper.Select(cfg, v)
		if err != nil {
			log.Fatal(err)
		}
		if sel.Skip != "" {
			fmt.Printf("%s: skip: %s\n", v.ResourceID, sel.Skip)
			continue
		}
		fmt.Printf("%s: propose %s\n", v.ResourceID, sel.Action)
	}
	// Output:
	// i-1: propose stop
	// i-2: skip: confidence 0.85 below 0.90
	// i-3: propose resize
	// i-4: skip: action terminate not allowed by config
}

// stagingOnly is a host's own gate: it lets the safety engine decide for
// staging resources and blocks every other one.
type stagingOnly struct{ next reaper.Gate }

func (g stagingOnly) Check(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	if d, err := g.refuse(p); err != nil {
		return d, err
	}
	return g.next.Check(ctx, p)
}

func (g stagingOnly) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	if d, err := g.refuse(p); err != nil {
		return d, err
	}
	return g.next.Evaluate(ctx, p)
}

// refuse blocks p unless its resource is in staging.
func (stagingOnly) refuse(p safety.Proposal) (safety.Decision, error) {
	if p.Resource.Environment == "staging" {
		return safety.Decision{}, nil
	}
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Outcome: safety.Block,
		Blocking: []safety.Result{{Rule: "staging-only", Outcome: safety.Block, Reason: "not a staging resource"}}}
	return d, d.Err()
}

func ExampleGate() {
	cloud := exampleCloud()
	if err := cloud.Add(provider.Resource{ID: "i-prod", Kind: provider.KindInstance, Environment: "production",
		LaunchTime: cloud.Now().Add(-30 * 24 * time.Hour)}); err != nil {
		log.Fatal(err)
	}
	// A detector that finds every resource idle.
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Action: detector.ActionStop, Confidence: 1}, nil
	})
	gate := stagingOnly{next: exampleEngine(cloud)}
	r, err := reaper.New(reaper.Config{}, reaper.Fleet{Inventory: cloud, Metrics: cloud}, det, gate)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := r.RunOnce(context.Background(), cloud.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range rep.Records {
		fmt.Println(rec.ResourceID, rec.Outcome, rec.BlockedBy)
	}
	// Output:
	// i-busy would_act []
	// i-idle would_act []
	// i-prod blocked [staging-only]
}
