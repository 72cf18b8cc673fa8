package providertest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/providertest"
)

// envBrokenChild makes TestBrokenDriverChild run the suite against a
// driver whose every call fails; only TestRunReportsBrokenDriver sets it,
// in the child process it starts.
const envBrokenChild = "IDLESCALE_PROVIDERTEST_BROKEN_CHILD"

// brokenInventory fails every call.
type brokenInventory struct{}

var errBroken = errors.New("broken driver")

func (brokenInventory) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return nil, errBroken
}

func (brokenInventory) Get(context.Context, string) (provider.Resource, error) {
	return provider.Resource{}, errBroken
}

// TestBrokenDriverChild is the child process of TestRunReportsBrokenDriver.
// Run normally (without envBrokenChild) it checks nothing and passes.
func TestBrokenDriverChild(t *testing.T) {
	if os.Getenv(envBrokenChild) != "1" {
		return
	}
	providertest.Run(t, func(*testing.T) providertest.Subject {
		return providertest.Subject{Provider: brokenInventory{}, Instances: []string{"i-1", "i-2"}}
	})
}

// TestRunReportsBrokenDriver runs the Concurrency subtest against a driver
// whose every call fails, in a child process, and checks that the suite
// fails and reports the errors rather than hanging (a bounded error
// channel once blocked the workers when more than 32 calls failed).
func TestRunReportsBrokenDriver(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenDriverChild$/^Concurrency$", "-test.count=1", "-test.timeout=30s", "-test.v")
	cmd.Env = append(os.Environ(), envBrokenChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the suite must fail on a broken driver; output:\n%s", out)
	assert.NotContains(t, string(out), "test timed out", "the suite hung on a broken driver")
	assert.Contains(t, string(out), "concurrent use: list: broken driver")
	assert.Contains(t, string(out), "concurrent use: get: broken driver")
	assert.Contains(t, string(out), "--- FAIL: TestBrokenDriverChild/Concurrency")
}

// envBrokenBatchChild makes TestBrokenBatchChild run the batch subtests
// against a driver whose batch reads are wrong; only
// TestRunReportsBrokenBatch sets it, in the child process it starts.
const envBrokenBatchChild = "IDLESCALE_PROVIDERTEST_BROKEN_BATCH_CHILD"

// brokenBatch is the memory cloud with batch reads that break the
// contract: resources answered in reverse order, an unknown group read as
// a zero capacity without an error, every query answered with one shared
// slice of values, and a cancelled context ignored.
type brokenBatch struct{ *memory.Cloud }

func (b brokenBatch) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	for i := range reads {
		reads[i].Resource, reads[i].Err = b.Get(context.WithoutCancel(ctx), reads[len(reads)-1-i].ID)
	}
	return nil
}

func (b brokenBatch) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	for i := range reads {
		c, err := b.Capacity(context.WithoutCancel(ctx), reads[i].ID)
		if errors.Is(err, provider.ErrNotFound) {
			err = nil
		}
		reads[i].Capacity, reads[i].Err = c, err
	}
	return nil
}

func (b brokenBatch) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	var shared []float64
	for i := range reads {
		s, err := b.QueryMetric(context.WithoutCancel(ctx), reads[i].Query)
		if err == nil {
			shared = append(shared[:0], s.Values...)
			s.Values = shared
		}
		reads[i].Series, reads[i].Err = s, err
	}
	return nil
}

// TestBrokenBatchChild is the child process of TestRunReportsBrokenBatch.
// Run normally (without envBrokenBatchChild) it checks nothing and passes.
func TestBrokenBatchChild(t *testing.T) {
	if os.Getenv(envBrokenBatchChild) != "1" {
		return
	}
	providertest.Run(t, func(t *testing.T) providertest.Subject {
		s := newMemorySubject(t)
		s.Provider = brokenBatch{s.Provider.(*memory.Cloud)}
		return s
	})
}

// TestRunReportsBrokenBatch runs the batch subtests against a driver whose
// batch reads break the contract, in a child process, and checks that each
// subtest fails and says what was wrong.
func TestRunReportsBrokenBatch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenBatchChild$/^Batch$", "-test.count=1", "-test.timeout=30s", "-test.v")
	cmd.Env = append(os.Environ(), envBrokenBatchChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the suite must fail on a broken batch driver; output:\n%s", out)
	for _, sub := range []string{"Resources", "Capacities", "Metrics", "Cancelled"} {
		assert.Contains(t, string(out), "--- FAIL: TestBrokenBatchChild/Batch/"+sub)
	}
	assert.Contains(t, string(out), "read 0 = i-1", "the resources answered in reverse order")
	assert.Contains(t, string(out), "read 1 (unknown ID): got error <nil>")
	assert.Contains(t, string(out), "two reads share their values")
	assert.Contains(t, string(out), "GetResources with a cancelled context")
}
