package providertest_test

import (
	"context"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/providertest"
)

// TestMemoryConformance is ExampleRun as a test, so that the example's code
// runs on every `make test`.
func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, newMemorySubject)
}

// A driver's test file calls Run with a factory that returns a freshly
// seeded provider and names its fixture. This is how provider/memory does
// it; an AWS driver would create the instances in moto and wait in Settle.
func ExampleRun() {
	var t *testing.T // the *testing.T of a TestXxx function
	providertest.Run(t, newMemorySubject)
}

func newMemorySubject(t *testing.T) providertest.Subject {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	mock := bclock.NewMock()
	mock.Set(now)
	c, err := memory.New(memory.Config{}, memory.WithClock(mock))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Add(
		provider.Resource{ID: "i-1", Kind: provider.KindInstance, Tags: map[string]string{"suite": "first"}},
		provider.Resource{ID: "i-2", Kind: provider.KindInstance},
		provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 128, Timeout: time.Second}},
	))
	must(c.AddGroup(provider.Resource{ID: "asg"}, provider.CapacitySpec{Min: 1, Max: 4, Desired: 2}))
	for i := range 48 {
		if i >= 20 && i < 24 {
			continue // a hole: step 5 of MetricQuery has no samples
		}
		must(c.AddSamples("i-1", provider.MetricCPU, provider.Sample{Time: now.Add(time.Duration(i-48) * 5 * time.Minute), Value: 0.3 + float64(i%4)/10}))
	}
	// Two backups and two kinds of activity, one without events, so that
	// the order of each and a count's Last can be wrong.
	must(c.AddBackup(provider.Backup{ID: "snap", ResourceID: "i-1", Time: now.Add(-time.Hour), Complete: true},
		provider.Backup{ID: "snap-0", ResourceID: "i-1", Time: now.Add(-3 * time.Hour), Complete: true}))
	must(c.RecordActivity("i-1", provider.ActivityLogins, now.Add(-time.Hour), 1))
	must(c.TrackActivity("i-1", provider.ActivityAPICalls))
	return providertest.Subject{
		Provider:      c,
		Instances:     []string{"i-1", "i-2"},
		Tag:           [2]string{"suite", "first"},
		Group:         "asg",
		ResizeID:      "fn",
		ValidSize:     provider.Size{MemoryMiB: 256, Timeout: 10 * time.Second},
		InvalidSize:   provider.Size{MemoryMiB: 64, Timeout: 10 * time.Second},
		MetricQuery:   provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: now.Add(-4 * time.Hour), End: now, Step: 20 * time.Minute},
		FirstSample:   now.Add(-4 * time.Hour), // the first of the samples above
		BackupID:      "i-1",
		ActivityQuery: provider.ActivityQuery{ResourceID: "i-1", Start: now.Add(-24 * time.Hour), End: now},
		Settle: func(context.Context) error {
			mock.Add(time.Hour)
			return nil
		},
	}
}
