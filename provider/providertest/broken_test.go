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
