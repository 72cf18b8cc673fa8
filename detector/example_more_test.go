package detector_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

func ExampleScan() {
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	mock := clock.NewMock()
	mock.Set(now.Add(-14 * 24 * time.Hour))
	cloud, err := memory.New(memory.Config{}, memory.WithClock(mock))
	if err != nil {
		panic(err)
	}
	for id, level := range map[string]float64{"i-idle": 0.01, "i-busy": 0.6} {
		if err := cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance, HourlyCost: 0.2}); err != nil {
			panic(err)
		}
		vals := make([]float64, 14*288) // two weeks: the evidence a stop needs
		for i := range vals {
			vals[i] = level
		}
		if err := cloud.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: now.Add(-14 * 24 * time.Hour), Step: 5 * time.Minute, Values: vals}); err != nil {
			panic(err)
		}
	}
	mock.Set(now)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		panic(err)
	}
	rep, err := detector.Scan(context.Background(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, detector.ScanConfig{Now: now})
	if err != nil {
		panic(err)
	}
	for _, v := range rep.Verdicts {
		fmt.Printf("%s %s %.2f %s $%.2f/month\n", v.ResourceID, v.State, v.Confidence, v.Action, v.MonthlySavings)
	}
	// Output:
	// i-busy not_idle 1.00 none $0.00/month
	// i-idle idle 1.00 stop $146.10/month
}

func ExampleTrain() {
	// A tiny labelled set: idle and busy resources, one day of CPU each.
	now := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	var examples []detector.Example
	for i := range 12 {
		idle := i%2 == 0
		level := 0.02 + 0.003*float64(i)
		if !idle {
			level = 0.3 + 0.05*float64(i)
		}
		id := fmt.Sprintf("r%d", i)
		examples = append(examples, detector.Example{
			Input: detector.Input{Now: now, Resource: provider.Resource{ID: id, Kind: provider.KindInstance}, Series: []provider.Series{flat(id, now, 2, func(k int) float64 { return level * (1 + 0.1*noise(k+i)) })}},
			Idle:  idle,
		})
	}
	// CPU alone: the model is told to read no traffic, or it would have
	// no opinion on traffic that was never measured.
	m, err := detector.Train(context.Background(), examples, detector.ModelConfig{IgnoreNetwork: true})
	if err != nil {
		panic(err)
	}
	scores, err := m.Evaluate(context.Background(), examples)
	if err != nil {
		panic(err)
	}
	fmt.Printf("precision=%.2f recall=%.2f auc=%.2f\n", scores.Precision, scores.Recall, scores.AUC)
	var saved bytes.Buffer
	if err := m.Save(&saved); err != nil {
		panic(err)
	}
	loaded, err := detector.LoadModel(&saved)
	if err != nil {
		panic(err)
	}
	v, err := loaded.Detect(context.Background(), examples[0].Input)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.State)
	// Output:
	// precision=1.00 recall=1.00 auc=1.00
	// idle
}

func ExampleNewTrustedAdvisor() {
	now := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	// Five quiet days, then nine busy ones: "4 of 14 days" still flags it.
	cpu := flat("i-1", now, 14, func(k int) float64 {
		if k < 5*288 {
			return 0.02
		}
		return 0.6
	})
	in := detector.Input{Now: now, Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{VCPU: 2}}, Series: []provider.Series{cpu}}
	cfg := detector.PresetConfig{IgnoreNetwork: true}
	for _, newRule := range []func(detector.PresetConfig) (*detector.Preset, error){detector.NewTrustedAdvisor, detector.NewGCPIdleVM, detector.NewAzureAdvisor} {
		rule, err := newRule(cfg)
		if err != nil {
			panic(err)
		}
		v, err := rule.Detect(context.Background(), in)
		if err != nil {
			panic(err)
		}
		fmt.Println(rule.Name(), v.State)
	}
	// Output:
	// trusted_advisor idle
	// gcp_idle_vm not_idle
	// azure_advisor not_idle
}

func ExampleNewGCPIdleVM() {
	now := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	in := detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "vm-1", Kind: provider.KindInstance, Size: provider.Size{VCPU: 4}},
		Series: []provider.Series{
			flat("vm-1", now, 14, func(int) float64 { return 0.005 }), // 0.02 vCPU of 4
		},
	}
	gcp, err := detector.NewGCPIdleVM(detector.PresetConfig{IgnoreNetwork: true})
	if err != nil {
		panic(err)
	}
	v, err := gcp.Detect(context.Background(), in)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.State)
	// Output: idle
}

func ExampleNewAzureAdvisor() {
	// The VMs have no network utilization series: drop that condition.
	azure, err := detector.NewAzureAdvisor(detector.PresetConfig{IgnoreNetwork: true})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	for _, level := range []float64{0.015, 0.025} { // a steady 1.5 % and 2.5 % of CPU for 7 days
		in := detector.Input{Now: now, Resource: provider.Resource{ID: "vm-1", Kind: provider.KindInstance}, Series: []provider.Series{flat("vm-1", now, 7, func(int) float64 { return level })}}
		v, err := azure.Detect(context.Background(), in)
		if err != nil {
			panic(err)
		}
		fmt.Println(v.State, v.Explain())
	}
	// Output:
	// idle [azure_advisor: cpu p95 1.50% below 3.00% over 7d azure_advisor: cpu max 1.50% below 2.00% over 3d]
	// not_idle [azure_advisor: cpu p95 2.50% below 3.00% over 7d azure_advisor: cpu max 2.50% at or above 2.00% over 3d]
}

func ExampleCrossValidate() {
	now := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	var examples []detector.Example
	for i := range 20 {
		idle := i%2 == 0
		level := 0.01 + 0.002*float64(i)
		if !idle {
			level = 0.25 + 0.03*float64(i)
		}
		id := fmt.Sprintf("r%02d", i)
		examples = append(examples, detector.Example{
			Input: detector.Input{Now: now, Resource: provider.Resource{ID: id, Kind: provider.KindInstance}, Series: []provider.Series{flat(id, now, 2, func(k int) float64 { return level * (1 + 0.2*noise(k*7+i)) })}},
			Idle:  idle,
		})
	}
	folds, pooled, err := detector.CrossValidate(context.Background(), examples, 4, 1, detector.ModelConfig{IgnoreNetwork: true})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d folds, pooled f1=%.2f auc=%.2f\n", len(folds), pooled.F1, pooled.AUC)
	// Output: 4 folds, pooled f1=1.00 auc=1.00
}
