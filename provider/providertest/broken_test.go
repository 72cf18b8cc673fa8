package providertest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
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
// slice of values, every activity query answered with the first one's
// counts, and a cancelled context ignored.
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

func (b brokenBatch) Activities(ctx context.Context, reads []provider.ActivityRead) error {
	for i := range reads {
		reads[i].Counts, reads[i].Err = b.Activity(context.WithoutCancel(ctx), reads[0].Query)
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
	for _, sub := range []string{"Resources", "Capacities", "Metrics", "Activity", "Cancelled"} {
		assert.Contains(t, string(out), "--- FAIL: TestBrokenBatchChild/Batch/"+sub)
	}
	assert.Contains(t, string(out), "read 0 = i-1", "the resources answered in reverse order")
	assert.Contains(t, string(out), "read 1 (unknown ID): got error <nil>")
	assert.Contains(t, string(out), "two reads share their values")
	assert.Contains(t, string(out), "read 2 (Activity(")
	assert.Contains(t, string(out), "GetResources with a cancelled context")
}

// envBrokenContractChild makes TestBrokenContractChild run the suite
// against the drivers of brokenContracts; only TestRunCatchesBrokenContracts
// sets it, in the child process it starts.
const envBrokenContractChild = "IDLESCALE_PROVIDERTEST_BROKEN_CONTRACT_CHILD"

// brokenContract is the memory cloud with one rule of the provider
// contracts broken, and what the suite must say about it.
type brokenContract struct {
	name string
	// wrap returns the broken driver over the seeded memory cloud.
	wrap func(c *memory.Cloud) provider.Inventory
	// fails are the subtests that must fail, with a message each must
	// print.
	fails map[string]string
	// passes are subtests that must still pass: the suite blames the
	// rule that is broken, not everything.
	passes []string
	// fixture, when set, changes the seeded subject (the broken driver
	// wraps its Provider afterwards).
	fixture func(t *testing.T, s *providertest.Subject)
}

// brokenContracts are the drivers TestRunCatchesBrokenContracts feeds the
// suite, one broken rule each.
var brokenContracts = []brokenContract{
	{
		// The reaper asks a person to approve a stop CanStop allows: one
		// that Stop then refuses was approved for nothing.
		name: "CanStopAllowsWhatStopRefuses",
		wrap: func(c *memory.Cloud) provider.Inventory {
			return stopChecker{c, func(provider.Resource) error { return nil }}
		},
		fails: map[string]string{
			"Actuator/Checkers": `CanStop("asg") allows it, but Stop refuses it`,
		},
		passes: []string{"Actuator/StopStartIdempotent"},
	},
	{
		name: "CanStopRefusesAnInstance",
		wrap: func(c *memory.Cloud) provider.Inventory {
			return stopChecker{c, func(r provider.Resource) error {
				return fmt.Errorf("%w: never", provider.ErrUnsupported)
			}}
		},
		fails: map[string]string{
			"Actuator/Checkers": `CanStop("i-1") refuses a fixture instance the suite's Stop acts on`,
		},
		passes: []string{"Actuator/StopStartIdempotent"},
	},
	{
		name: "CanStopRefusesWithoutUnsupported",
		wrap: func(c *memory.Cloud) provider.Inventory {
			return stopChecker{c, func(r provider.Resource) error {
				if err := c.CanStop(r); err != nil {
					return errors.New("no")
				}
				return nil
			}}
		},
		fails: map[string]string{
			"Actuator/Checkers": `CanStop("asg"): no, want nil or an error matching unsupported`,
		},
	},
	{
		// A terminate CanTerminate refuses must be one Terminate
		// refuses: otherwise a reaper never acts on what the driver does.
		name: "CanTerminateRefusesWhatTerminateDoes",
		wrap: func(c *memory.Cloud) provider.Inventory {
			return terminateChecker{c, func(r provider.Resource) error {
				if r.Kind == provider.KindGroup {
					return fmt.Errorf("%w: never a group", provider.ErrUnsupported)
				}
				return nil
			}}
		},
		fails: map[string]string{
			"Actuator/Checkers": `CanTerminate("asg") refuses (unsupported: never a group), but Terminate answers <nil>`,
		},
		passes: []string{"Actuator/Terminate"},
	},
	{
		// A stop refused as unsupported must change nothing: a reaper
		// that reads ErrUnsupported as nothing done refunds its budget
		// and releases the approval of a volume the driver detached.
		name:    "StopRefusedButDetaches",
		wrap:    func(c *memory.Cloud) provider.Inventory { return stopRefusedButDetaches{c} },
		fixture: withVolumes,
		fails: map[string]string{
			"Actuator/Checkers": `after a Stop refused as unsupported, "vol-in-use" is stopped, want running as listed`,
		},
		passes: []string{"Actuator/StopStartIdempotent"},
	},
	{
		// Not broken: a driver that still lists a deleted volume (one
		// deleted with the instance it was the root of), terminated, as
		// EC2 does for a while, and answers a call on it with
		// ErrNotFound. The checks pass over a fixture resource that is
		// gone: there is nothing to stop or terminate.
		name: "ChecksPassOverADeletedFixtureResource",
		wrap: func(c *memory.Cloud) provider.Inventory { return deletedNotFound{c} },
		fixture: func(t *testing.T, s *providertest.Subject) {
			c := s.Provider.(*memory.Cloud)
			require.NoError(t, c.Add(provider.Resource{ID: "vol-deleted", Kind: provider.KindVolume, State: provider.StateTerminated}))
			s.AttachedVolume = "vol-deleted"
		},
		passes: []string{"Actuator/Checkers"},
	},
	{
		// Not broken: a fixture whose activity window is longer than a
		// year. The window before it that must hold no events is then
		// the same length, ending where it starts (a year back would
		// overlap it).
		name: "ActivityWindowOfMoreThanAYear",
		wrap: func(c *memory.Cloud) provider.Inventory { return c },
		fixture: func(t *testing.T, s *providertest.Subject) {
			s.ActivityQuery.Start = s.ActivityQuery.End.AddDate(0, 0, -400)
		},
		passes: []string{"ActivitySource/Activity"},
	},
	{
		name:    "TerminateDeletesAnAttachedVolume",
		wrap:    func(c *memory.Cloud) provider.Inventory { return deletesAttachedVolume{c} },
		fixture: withVolumes,
		fails: map[string]string{
			"Actuator/TerminateVolume": `Terminate(attached volume): got error <nil>, want one matching conflict`,
		},
		passes: []string{"Actuator/Terminate"},
	},
	{
		name:    "TerminateKeepsADetachedVolume",
		wrap:    func(c *memory.Cloud) provider.Inventory { return keepsDetachedVolume{c} },
		fixture: withVolumes,
		fails: map[string]string{
			"Actuator/TerminateVolume": `after Terminate and Settle, volume state = stopped, want terminated (or not found)`,
		},
		passes: []string{"Actuator/Terminate"},
	},
	{
		name: "ListFirstIDOnly",
		wrap: func(c *memory.Cloud) provider.Inventory { return firstIDOnly{c} },
		fails: map[string]string{
			"Inventory/FilterSemantics": `List(IDs: any may match) = [i-1]: listed [], which do not match the filter; did not list fixture resources [i-2], which do`,
		},
		passes: []string{"Inventory/ListAll", "Inventory/Get"},
	},
	{
		name: "ListIgnoresRegionEnvironmentTypes",
		wrap: func(c *memory.Cloud) provider.Inventory { return ignoresPlaceFilters{c} },
		fails: map[string]string{
			"Inventory/FilterSemantics": `List(Region: none has it) = [asg fn i-1 i-2]: listed [asg fn i-1 i-2], which do not match the filter`,
		},
		passes: []string{"Inventory/ListFilters"},
	},
	{
		name: "ListTagNeedsItsValue",
		wrap: func(c *memory.Cloud) provider.Inventory { return tagNeedsValue{c} },
		fails: map[string]string{
			"Inventory/FilterSemantics": `List(Tags: an empty value matches any value) = []: listed [], which do not match the filter; did not list fixture resources [i-1], which do`,
		},
		passes: []string{"Inventory/ListFilters"},
	},
	{
		name: "ListDropsInvalidFilterFields",
		wrap: func(c *memory.Cloud) provider.Inventory { return lenientFilter{c} },
		fails: map[string]string{
			"Inventory/InvalidInput": `List(IDs=["has space"]): got error <nil>, want one matching invalid argument`,
		},
		passes: []string{"Inventory/ListFilters", "Inventory/FilterSemantics"},
	},
	{
		name: "ListSharesTags",
		wrap: func(c *memory.Cloud) provider.Inventory {
			return &sharedListTags{Cloud: c, tags: map[string]map[string]string{}}
		},
		fails: map[string]string{
			"Inventory/ReturnsCopies": `changing a resource List returned changed the provider's copy of "i-1"`,
		},
		passes: []string{"Inventory/ListAll", "Inventory/FilterSemantics"},
	},
	{
		name: "QueryDropsPartialStep",
		wrap: func(c *memory.Cloud) provider.Inventory { return floorSteps{c} },
		fails: map[string]string{
			"MetricsSource/Grid": `QueryMetric grid = start 2026-03-02 08:00:00 +0000 UTC step 20m0s len 11, want start 2026-03-02 08:00:00 +0000 UTC step 20m0s len 12`,
		},
		passes: []string{"MetricsSource/Statistics", "MetricsSource/Errors", "Batch/Metrics"},
	},
	{
		name: "QueryCoarsensTooManySteps",
		wrap: func(c *memory.Cloud) provider.Inventory { return coarsensLongQueries{c} },
		fails: map[string]string{
			"MetricsSource/Errors": `QueryMetric with more than MaxQueryPoints steps: got error <nil>, want one matching invalid argument`,
		},
		passes: []string{"MetricsSource/Grid"},
	},
	{
		// Stop and Start were checked to leave the other instance
		// alone only at the end, after the Start had started it again.
		name: "StopStopsEveryInstance",
		wrap: func(c *memory.Cloud) provider.Inventory { return actsOnEveryInstance{c} },
		fails: map[string]string{
			"Actuator/StopStartIdempotent": `after Stop("i-1"), "i-2" is stopping, want running: Stop and Start act on the resource they name alone`,
			"Actuator/Terminate":           `after Terminate("i-2"), "i-1" is terminated, want running: Terminate acts on the resource it names alone`,
		},
		passes: []string{"Actuator/Errors", "Inventory/Get"},
	},
	{
		name: "StopOfTerminatedSucceeds",
		wrap: func(c *memory.Cloud) provider.Inventory { return stopTerminatedSucceeds{c} },
		fails: map[string]string{
			"Actuator/Terminate": `Stop(terminated): got error <nil>, want one matching conflict`,
		},
		passes: []string{"Actuator/StopStartIdempotent", "Actuator/Errors"},
	},
	{
		name: "CapacityOfInstanceNotFound",
		wrap: func(c *memory.Cloud) provider.Inventory { return instanceNotAGroupNotFound{c} },
		fails: map[string]string{
			"Scaler/Errors": `Capacity(instance): got error not found: memory: capacity "i-1": unsupported: a instance has no capacity, want one matching unsupported`,
		},
		passes: []string{"Scaler/SetCapacity", "Batch/Capacities"},
	},
	{
		name: "BatchCapacityOfInstanceNotFound",
		wrap: func(c *memory.Cloud) provider.Inventory { return batchInstanceNotFound{c} },
		fails: map[string]string{
			"Batch/Capacities": `read 2 (instance): got error not found:`,
		},
		passes: []string{"Scaler/Errors", "Batch/Resources"},
	},
	{
		// The suite looked for shared tags between the reads of
		// Instances[1] only, which need carry no tags (the fixture's i-2
		// has none), so it could not fail.
		name: "BatchSharesTags",
		wrap: func(c *memory.Cloud) provider.Inventory { return batchSharesTags{c} },
		fails: map[string]string{
			"Batch/Resources": `two reads of one resource share their tags: each read must be a copy`,
		},
		passes: []string{"Batch/Capacities", "Inventory/ReturnsCopies"},
	},
	{
		name: "BatchDropsTags",
		wrap: func(c *memory.Cloud) provider.Inventory { return batchDropsTags{c} },
		fails: map[string]string{
			"Batch/Resources": `read 2 ("i-1") differs from what Get returns in [tags]`,
		},
		passes: []string{"Batch/Capacities", "Batch/Metrics"},
	},
	{
		name: "WritesIgnoreCancelledContext",
		wrap: func(c *memory.Cloud) provider.Inventory { return writesIgnoreCancel{c} },
		fails: map[string]string{
			"Context/Cancelled": `SetCapacity with a cancelled context changed the spec from {Min:1 Max:4 Desired:2} to {Min:1 Max:5 Desired:3}`,
		},
		passes: []string{"Actuator/Terminate", "Scaler/SetCapacity", "Resizer/Resize"},
	},
	{
		name: "ListByIDsIgnoresCancelledContext",
		wrap: func(c *memory.Cloud) provider.Inventory { return listByIDsIgnoresCancel{c} },
		fails: map[string]string{
			"Context/Cancelled": `List(IDs) with a cancelled context: got error <nil>, want one matching context canceled`,
		},
		passes: []string{"Inventory/ListFilters", "Inventory/FilterSemantics"},
	},
	{
		// The suite called Start with a cancelled context on a running
		// instance only, where it changes nothing anyway.
		name: "StartIgnoresCancelledContext",
		wrap: func(c *memory.Cloud) provider.Inventory { return startIgnoresCancel{c} },
		fails: map[string]string{
			"Context/Cancelled": `Start with a cancelled context changed the state to running`,
		},
		passes: []string{"Actuator/StopStartIdempotent", "Actuator/Terminate"},
	},
	{
		name: "BackupsWithoutID",
		wrap: func(c *memory.Cloud) provider.Inventory { return backupsWithoutID{c} },
		fails: map[string]string{
			"BackupCatalog/Backups": `Backups returned an invalid backup`,
		},
		passes: []string{"Inventory/ListAll"},
	},
	{
		name: "QueryCarriesValuesOver",
		wrap: func(c *memory.Cloud) provider.Inventory { return forwardFill{c} },
		fails: map[string]string{
			"MetricsSource/StepsStandAlone": `in the whole range but NaN asked alone: a step's value must reduce its own samples only`,
			// The minimum carried into the hole is not that of its halves.
			"MetricsSource/Statistics": `step 5: min is 0.3, want 0.5, the smallest of the minima of its halves (10m0s each)`,
		},
		passes: []string{"MetricsSource/Grid", "MetricsSource/GapsNotZeros", "Batch/Metrics"},
	},
	{
		name: "UtilizationInPercent",
		wrap: func(c *memory.Cloud) provider.Inventory { return percentUtilization{c} },
		fails: map[string]string{
			"MetricsSource/Grid":            `QueryMetric value 0 of cpu is 44.99`,
			"MetricsSource/StepsStandAlone": `utilizations are fractions in [0, 1]`,
			"Batch/Metrics":                 `utilizations are fractions in [0, 1]`,
		},
		passes: []string{"MetricsSource/GapsNotZeros", "MetricsSource/Statistics"},
	},
	{
		name: "ActivityLastOfAllTime",
		wrap: func(c *memory.Cloud) provider.Inventory { return lastOfAllTime{c} },
		fails: map[string]string{
			"ActivitySource/Activity": `Activity logins: last event at 2026-03-02 12:00:00 +0000 UTC, outside the window [2026-03-01 12:00:00 +0000 UTC, 2026-03-02 12:00:00 +0000 UTC)`,
		},
		passes: []string{"Context/Cancelled"},
	},
	{
		name: "ActivitySinceAfterEnd",
		wrap: func(c *memory.Cloud) provider.Inventory { return sinceAfterEnd{c} },
		fails: map[string]string{
			"ActivitySource/Activity": `Activity logins: counted since 2026-03-02 12:00:00.001 +0000 UTC, after the window's end 2026-03-02 12:00:00 +0000 UTC`,
		},
		passes: []string{"Context/Cancelled"},
	},
	{
		name: "ActivityLastBeforeSince",
		wrap: func(c *memory.Cloud) provider.Inventory { return lastBeforeSince{c} },
		fails: map[string]string{
			"ActivitySource/Activity": `Activity logins: last event at 2026-03-02 11:00:00 +0000 UTC, before the count begins (Since 2026-03-02 11:59:59.999 +0000 UTC)`,
		},
		passes: []string{"Context/Cancelled"},
	},
	{
		name: "BackupsOldestFirst",
		wrap: func(c *memory.Cloud) provider.Inventory { return backupsOldestFirst{c} },
		fails: map[string]string{
			"BackupCatalog/Backups": `Backups must be newest first; 2026-03-02 11:00:00 +0000 UTC after 2026-03-02 09:00:00 +0000 UTC`,
		},
		passes: []string{"Inventory/ListAll"},
	},
	{
		name: "ActivityUnsorted",
		wrap: func(c *memory.Cloud) provider.Inventory { return activityReversed{c} },
		fails: map[string]string{
			"ActivitySource/Activity": `Activity must be sorted by kind without repeats; logins then api_calls`,
		},
		passes: []string{"Context/Cancelled"},
	},
	{
		name: "ActivityLastWithoutCount",
		wrap: func(c *memory.Cloud) provider.Inventory { return lastWithoutCount{c} },
		fails: map[string]string{
			"ActivitySource/Activity": `Activity api_calls: no events, but the last at 2026-03-02 11:00:00 +0000 UTC (Last is zero when there was none in the window)`,
		},
		passes: []string{"Context/Cancelled"},
	},
	{
		name: "ActivityCountsAllTime",
		wrap: func(c *memory.Cloud) provider.Inventory { return countsAllTime{c} },
		fails: map[string]string{
			"ActivitySource/Activity": `Activity("i-1", [2025-03-01T12:00:00Z, 2025-03-02T12:00:00Z)): logins counted 1 (last 0001-01-01 00:00:00 +0000 UTC); the window holds none of the fixture's events`,
		},
		passes: []string{"Context/Cancelled"},
	},
	{
		name: "BatchRefusesEmpty",
		wrap: func(c *memory.Cloud) provider.Inventory { return refusesEmptyBatch{c} },
		fails: map[string]string{
			"Batch/Capacities": `GetCapacities(nil): unexpected error: GetCapacities: no reads`,
			"Batch/Metrics":    `QueryMetrics(nil): unexpected error: QueryMetrics: no reads`,
		},
		passes: []string{"Batch/Resources", "Batch/Cancelled"},
	},
	{
		name: "GetWithoutTags",
		wrap: func(c *memory.Cloud) provider.Inventory { return getWithoutTags{c} },
		fails: map[string]string{
			"Inventory/ListAgreesWithGet": `List(IDs) and Get return different resources for "i-1": fields [tags] differ`,
		},
		passes: []string{"Inventory/Get", "Inventory/ListFilters", "Batch/Resources"},
	},
	{
		name: "ResizeIgnoresFieldsOfOtherKinds",
		wrap: func(c *memory.Cloud) provider.Inventory { return resizeDropsForeignFields{c} },
		fails: map[string]string{
			"Resizer/Errors": `Resize({InstanceType:m5.large VCPU:0 MemoryMiB:256 Timeout:10s}) of a function: got error <nil>, want one matching invalid argument`,
		},
		passes: []string{"Resizer/Resize"},
	},
	{
		name: "CountIsMean",
		wrap: func(c *memory.Cloud) provider.Inventory { return countIsMean{c} },
		fails: map[string]string{
			"MetricsSource/Statistics": `step 0: count is 0.4499999999999999`,
		},
		passes: []string{"MetricsSource/Grid", "Batch/Metrics"},
	},
	{
		name: "MeanForEveryStatistic",
		wrap: func(c *memory.Cloud) provider.Inventory { return meanOnly{c} },
		fails: map[string]string{
			"MetricsSource/Statistics": `want 0.55, the largest of the maxima of its halves (10m0s each)`,
		},
		passes: []string{"MetricsSource/Grid", "MetricsSource/StepsStandAlone", "Batch/Metrics"},
	},
	{
		name: "ClosedSteps",
		wrap: func(c *memory.Cloud) provider.Inventory { return closedSteps{c} },
		fails: map[string]string{
			"MetricsSource/HalfOpenSteps": `step 0: count is 5, want 6, the sum of the counts of its halves (10m0s each)`,
		},
		passes: []string{"MetricsSource/Grid", "MetricsSource/Statistics", "MetricsSource/StepsStandAlone", "Batch/Metrics"},
	},
	{
		name: "StepsEndInclusive",
		wrap: func(c *memory.Cloud) provider.Inventory { return endInclusiveSteps{c} },
		fails: map[string]string{
			"MetricsSource/StepEnds": `QueryMetric("i-1" cpu mean, [2026-03-02T07:40:00Z, 2026-03-02T08:00:00Z) step 20m0s) = 0.3, want a gap; the range ends at FirstSample`,
		},
		// One sample late everywhere, and consistent with itself: every
		// other check of the metrics passes.
		passes: []string{"MetricsSource/Grid", "MetricsSource/Statistics", "MetricsSource/GapsNotZeros",
			"MetricsSource/StepsStandAlone", "MetricsSource/HalfOpenSteps", "Batch/Metrics"},
	},
	{
		name: "PartialStepReadWhole",
		wrap: func(c *memory.Cloud) provider.Inventory { return partialStepWhole{c} },
		// An odd number of steps (11 of 20 minutes) of memory, sampled
		// every 5 minutes from Start, and past End a sample larger than
		// any in the range: twice the step read over the whole range
		// would see it in its last, partial step.
		fixture: func(t *testing.T, s *providertest.Subject) {
			q := &s.MetricQuery
			q.Metric, q.End = provider.MetricMemory, q.Start.Add(11*q.Step)
			var samples []provider.Sample
			for k := range 48 {
				v := 0.3 + float64(k%4)/10
				if at := q.Start.Add(time.Duration(k) * 5 * time.Minute); at.After(q.End) {
					v = 0.95
				}
				samples = append(samples, provider.Sample{Time: q.Start.Add(time.Duration(k) * 5 * time.Minute), Value: v})
			}
			require.NoError(t, s.Provider.(*memory.Cloud).AddSamples("i-1", provider.MetricMemory, samples...))
		},
		fails: map[string]string{
			"MetricsSource/StepEnds": `QueryMetric("i-1" memory mean, [2026-03-02T07:40:00Z, 2026-03-02T08:00:00Z) step 40m0s) = 0.44999999999999996, want a gap`,
		},
		// The statistics are checked inside the range: an odd number of
		// steps reads nothing past End.
		passes: []string{"MetricsSource/Grid", "MetricsSource/Statistics", "MetricsSource/StepsStandAlone",
			"MetricsSource/HalfOpenSteps", "Batch/Metrics"},
	},
	{
		// A failing call is named with its arguments: the host author
		// reading the failure knows which call failed, on which resource
		// and window.
		name: "QueryFailsOnOneStep",
		wrap: func(c *memory.Cloud) provider.Inventory { return failsOnOneStep{c} },
		fails: map[string]string{
			"MetricsSource/StepsStandAlone": `QueryMetric("i-1" cpu mean, [2026-03-02T08:00:00Z, 2026-03-02T08:20:00Z) step 20m0s): unexpected error: one step: backend down`,
		},
		passes: []string{"MetricsSource/Grid", "MetricsSource/Statistics"},
	},
	{
		name: "EmptyIDNotFound",
		wrap: func(c *memory.Cloud) provider.Inventory { return emptyIDNotFound{c} },
		fails: map[string]string{
			"Scaler/Errors":           `Capacity(""): got error not found: "", want one matching invalid argument`,
			"Resizer/Errors":          `Resize(""): got error not found: "", want one matching invalid argument`,
			"BackupCatalog/Backups":   `Backups(""): got error not found: "", want one matching invalid argument`,
			"ActivitySource/Activity": `Activity(""): got error not found: "", want one matching invalid argument`,
		},
		passes: []string{"Scaler/SetCapacity", "Batch/Capacities", "Actuator/Errors"},
	},
	{
		name: "ReadyCountsRemovedInstances",
		wrap: func(c *memory.Cloud) provider.Inventory { return &readyCountsRemoved{Cloud: c, high: map[string]int{}} },
		fails: map[string]string{
			"Scaler/SetCapacity": `after scaling in, Capacity("asg") = {CapacitySpec:{Min:0 Max:5 Desired:2} Current:2 Ready:3} is invalid`,
		},
		passes: []string{"Scaler/Errors"},
	},
	{
		name: "ZeroIsStopped",
		wrap: func(c *memory.Cloud) provider.Inventory { return zeroIsStopped{c} },
		fails: map[string]string{
			"Scaler/SetCapacity": `SetCapacity({Min:0 Max:5 Desired:2}) from zero: conflict: the group is stopped`,
		},
		passes: []string{"Scaler/Errors", "Batch/Capacities"},
	},
	{
		name: "BatchReadsGroupsWithoutPolicies",
		wrap: func(c *memory.Cloud) provider.Inventory { return batchWithoutPolicies{c} },
		fails: map[string]string{
			"Batch/Resources": `read 5 ("asg") differs from what Get returns in [scaled_by]`,
		},
		passes: []string{"Inventory/ListAgreesWithGet", "Inventory/Get", "Batch/Capacities"},
	},
	{
		name: "ResizeIgnoresVCPU",
		wrap: func(c *memory.Cloud) provider.Inventory { return resizeIgnoresVCPU{c} },
		fixture: func(t *testing.T, s *providertest.Subject) {
			c := s.Provider.(*memory.Cloud)
			require.NoError(t, c.Add(provider.Resource{ID: "pod", Kind: provider.KindInstance, Size: provider.Size{VCPU: 0.25, MemoryMiB: 128}}))
			s.ResizeID, s.ValidSize, s.InvalidSize = "pod", provider.Size{VCPU: 0.5, MemoryMiB: 256}, provider.Size{InstanceType: "not-in-the-catalogue"}
		},
		fails: map[string]string{
			"Resizer/Resize": `after Resize, vcpu = 0.25, want 0.5`,
		},
		passes: []string{"Resizer/Errors"},
	},
	{
		name: "MetricNotHeldIsNotFound",
		wrap: func(c *memory.Cloud) provider.Inventory { return customNotFound{c} },
		fails: map[string]string{
			"MetricsSource/MetricNotHeld": `QueryMetric(custom/IdlescaleProvidertest/absent) = not found: no series custom/IdlescaleProvidertest/absent of "i-1"; a metric the source does not have is ErrUnsupported or a series of gaps`,
		},
		passes: []string{"MetricsSource/Grid", "MetricsSource/Errors"},
	},
}

// resizeIgnoresVCPU resizes an instance's memory but not its vCPUs, as
// a driver that sets a container's memory and forgets its CPU would: the
// scaling engine then never sees the size it asked for, and rolls every
// such resize back.
type resizeIgnoresVCPU struct{ *memory.Cloud }

func (b resizeIgnoresVCPU) Resize(ctx context.Context, id string, size provider.Size) error {
	if r, err := b.Get(ctx, id); err == nil && size.InstanceType == "" && size.VCPU != 0 {
		size.VCPU = r.Size.VCPU
	}
	return b.Cloud.Resize(ctx, id, size)
}

// batchWithoutPolicies names the scaling policy of a group in List and
// Get (provider.Resource.ScaledBy) but reads groups in GetResources
// without their policies, as a driver whose batch read skips the extra
// call would: the scaling Autoscaler, which reads its targets in
// batches, would then plan changes that the policy undoes.
type batchWithoutPolicies struct{ *memory.Cloud }

const groupPolicy = "Auto Scaling policy cpu (TargetTrackingScaling)"

func withPolicy(r provider.Resource) provider.Resource {
	if r.Kind == provider.KindGroup {
		r.ScaledBy = groupPolicy
	}
	return r
}

func (b batchWithoutPolicies) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := b.Cloud.Get(ctx, id)
	return withPolicy(r), err
}

func (b batchWithoutPolicies) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := b.Cloud.List(ctx, f)
	for i := range rs {
		rs[i] = withPolicy(rs[i])
	}
	return rs, err
}

// readyCountsRemoved keeps counting as ready the instances a scale in
// removed (the most it has seen ready), as a driver that counts a group's
// healthy instances, leaving or not, would: its Ready exceeds Current
// after a scale in, which never settles for a scaling engine.
type readyCountsRemoved struct {
	*memory.Cloud
	mu   sync.Mutex
	high map[string]int
}

func (b *readyCountsRemoved) Capacity(ctx context.Context, id string) (provider.Capacity, error) {
	c, err := b.Cloud.Capacity(ctx, id)
	if err != nil {
		return c, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.high[id] = max(b.high[id], c.Ready)
	c.Ready = b.high[id]
	return c, nil
}

// zeroIsStopped takes a group scaled to zero for stopped and refuses to
// scale it out again (ErrConflict), as a driver that maps a desired
// capacity of zero onto a stop would.
type zeroIsStopped struct{ *memory.Cloud }

func (b zeroIsStopped) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	if c, err := b.Capacity(ctx, id); err == nil && c.Desired == 0 && want.Desired > 0 {
		return fmt.Errorf("%w: the group is stopped", provider.ErrConflict)
	}
	return b.Cloud.SetCapacity(ctx, id, want)
}

// customNotFound answers a custom metric it has no series of with
// ErrNotFound, as if the resource did not exist.
type customNotFound struct{ *memory.Cloud }

func (b customNotFound) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Metric.IsCustom() && q.Validate() == nil {
		return provider.Series{}, fmt.Errorf("%w: no series %s of %q", provider.ErrNotFound, q.Metric, q.ResourceID)
	}
	return b.Cloud.QueryMetric(ctx, q)
}

// emptyIDNotFound looks an empty ID up and does not find it, instead of
// refusing it, in Capacity, SetCapacity, Resize, Backups and Activity.
type emptyIDNotFound struct{ *memory.Cloud }

var errEmptyNotFound = fmt.Errorf("%w: %q", provider.ErrNotFound, "")

func (b emptyIDNotFound) Capacity(ctx context.Context, id string) (provider.Capacity, error) {
	if id == "" {
		return provider.Capacity{}, errEmptyNotFound
	}
	return b.Cloud.Capacity(ctx, id)
}

func (b emptyIDNotFound) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	if id == "" {
		return errEmptyNotFound
	}
	return b.Cloud.SetCapacity(ctx, id, want)
}

func (b emptyIDNotFound) Resize(ctx context.Context, id string, size provider.Size) error {
	if id == "" {
		return errEmptyNotFound
	}
	return b.Cloud.Resize(ctx, id, size)
}

func (b emptyIDNotFound) Backups(ctx context.Context, id string, since time.Time) ([]provider.Backup, error) {
	if id == "" {
		return nil, errEmptyNotFound
	}
	return b.Cloud.Backups(ctx, id, since)
}

func (b emptyIDNotFound) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	if q.ResourceID == "" {
		return nil, errEmptyNotFound
	}
	return b.Cloud.Activity(ctx, q)
}

// countIsMean answers StatCount with the mean, in QueryMetric and
// QueryMetrics alike, as a driver whose mapping of statistics falls back
// to the mean would.
type countIsMean struct{ *memory.Cloud }

func meanForCount(q *provider.Query) {
	if q.Statistic == provider.StatCount {
		q.Statistic = provider.StatMean
	}
}

func (b countIsMean) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	meanForCount(&q)
	return b.Cloud.QueryMetric(ctx, q)
}

func (b countIsMean) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	queries := make([]provider.Query, len(reads))
	for i := range reads {
		queries[i] = reads[i].Query
		meanForCount(&reads[i].Query)
	}
	err := b.Cloud.QueryMetrics(ctx, reads)
	for i := range reads {
		reads[i].Query = queries[i]
	}
	return err
}

// meanOnly answers every statistic with the mean, but count and last,
// which it does not have (ErrUnsupported), in QueryMetric and
// QueryMetrics alike, as a driver over a backend that keeps averages only
// would: its minima and maxima are the means, so that min ≤ mean ≤ max
// holds everywhere, and a short peak never shows in a max.
type meanOnly struct{ *memory.Cloud }

var errMeanOnly = fmt.Errorf("averages only: %w", provider.ErrUnsupported)

func (b meanOnly) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Statistic == provider.StatCount || q.Statistic == provider.StatLast {
		return provider.Series{}, errMeanOnly
	}
	if q.Statistic.Validate() == nil {
		q.Statistic = provider.StatMean
	}
	return b.Cloud.QueryMetric(ctx, q)
}

func (b meanOnly) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	if err := ctx.Err(); err != nil {
		for i := range reads {
			reads[i].Err = err
		}
		return err
	}
	for i := range reads {
		reads[i].Series, reads[i].Err = b.QueryMetric(ctx, reads[i].Query)
	}
	return nil
}

// closedSteps reduces in step k the samples of [start, end] instead of
// [start, end), as a driver querying its store with SQL's BETWEEN would:
// a sample on the boundary of two steps is in both, in QueryMetric and
// QueryMetrics alike.
type closedSteps struct{ *memory.Cloud }

func (b closedSteps) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if err := q.Validate(); err != nil {
		return b.Cloud.QueryMetric(ctx, q)
	}
	out := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step}
	for k := range q.Steps() {
		one := q // one step of a nanosecond more: its end is in it
		one.Start = q.Start.Add(time.Duration(k) * q.Step)
		one.Step++
		one.End = one.Start.Add(one.Step)
		s, err := b.Cloud.QueryMetric(ctx, one)
		if err != nil {
			return provider.Series{}, err
		}
		out.Values = append(out.Values, s.Values[0])
	}
	return out, nil
}

func (b closedSteps) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	if err := ctx.Err(); err != nil {
		for i := range reads {
			reads[i].Err = err
		}
		return err
	}
	for i := range reads {
		reads[i].Series, reads[i].Err = b.QueryMetric(ctx, reads[i].Query)
	}
	return nil
}

// resizeDropsForeignFields ignores the fields of a size that the
// resource's kind does not have, instead of refusing the size.
type resizeDropsForeignFields struct{ *memory.Cloud }

func (b resizeDropsForeignFields) Resize(ctx context.Context, id string, size provider.Size) error {
	if r, err := b.Get(ctx, id); err == nil {
		if r.Kind == provider.KindFunction {
			size.InstanceType = ""
		} else {
			size.Timeout = 0
		}
	}
	return b.Cloud.Resize(ctx, id, size)
}

// getWithoutTags reads single resources, alone and in batches, without
// their tags, as a driver whose Get calls an API that returns none
// (EC2 DescribeInstanceStatus) would, while List has them.
type getWithoutTags struct{ *memory.Cloud }

func (b getWithoutTags) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := b.Cloud.Get(ctx, id)
	r.Tags = nil
	return r, err
}

func (b getWithoutTags) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	err := b.Cloud.GetResources(ctx, reads)
	for i := range reads {
		reads[i].Resource.Tags = nil
	}
	return err
}

// refusesEmptyBatch fails a capacity or metric batch without reads, as a
// backend that refuses an empty request (GetMetricData without queries)
// would, instead of making no call.
type refusesEmptyBatch struct{ *memory.Cloud }

func (b refusesEmptyBatch) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	if len(reads) == 0 {
		return errors.New("GetCapacities: no reads")
	}
	return b.Cloud.GetCapacities(ctx, reads)
}

func (b refusesEmptyBatch) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	if len(reads) == 0 {
		return errors.New("QueryMetrics: no reads")
	}
	return b.Cloud.QueryMetrics(ctx, reads)
}

// lastOfAllTime reports as the last event of each kind the latest ever
// seen (here: the query's end), not the latest in the window.
type lastOfAllTime struct{ *memory.Cloud }

func (b lastOfAllTime) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	as, err := b.Cloud.Activity(ctx, q)
	for i := range as {
		as[i].Last = q.End
	}
	return as, err
}

// backupsOldestFirst reports backups oldest first.
type backupsOldestFirst struct{ *memory.Cloud }

func (b backupsOldestFirst) Backups(ctx context.Context, id string, since time.Time) ([]provider.Backup, error) {
	bs, err := b.Cloud.Backups(ctx, id, since)
	slices.Reverse(bs)
	return bs, err
}

// activityReversed reports the counts in reverse order of kind.
type activityReversed struct{ *memory.Cloud }

func (b activityReversed) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	as, err := b.Cloud.Activity(ctx, q)
	slices.Reverse(as)
	return as, err
}

// lastWithoutCount gives every count the latest event of any kind, also
// to a kind without events in the window.
type lastWithoutCount struct{ *memory.Cloud }

func (b lastWithoutCount) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	as, err := b.Cloud.Activity(ctx, q)
	var last time.Time
	for _, a := range as {
		if a.Last.After(last) {
			last = a.Last
		}
	}
	for i := range as {
		as[i].Last = last
	}
	return as, err
}

// countsAllTime counts every event it keeps, whatever the window, and
// cannot tell the last one's time (Last zero), as a driver that reads a
// counter's total instead of its increase over the window would.
type countsAllTime struct{ *memory.Cloud }

func (b countsAllTime) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	if q.Validate() == nil {
		q.Start, q.End = q.Start.AddDate(-100, 0, 0), q.End.AddDate(100, 0, 0)
	}
	as, err := b.Cloud.Activity(ctx, q)
	for i := range as {
		as[i].Last = time.Time{}
	}
	return as, err
}

// sinceAfterEnd says each count begins after the window it was asked.
type sinceAfterEnd struct{ *memory.Cloud }

func (b sinceAfterEnd) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	as, err := b.Cloud.Activity(ctx, q)
	for i := range as {
		as[i].Since = q.End.Add(time.Millisecond)
	}
	return as, err
}

// lastBeforeSince says each count begins a millisecond before the
// window's end, after the last event it reports.
type lastBeforeSince struct{ *memory.Cloud }

func (b lastBeforeSince) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	as, err := b.Cloud.Activity(ctx, q)
	for i := range as {
		as[i].Since = q.End.Add(-time.Millisecond)
	}
	return as, err
}

// percentUtilization answers utilizations in percent, as CloudWatch
// reports CPUUtilization, in QueryMetric and QueryMetrics alike.
type percentUtilization struct{ *memory.Cloud }

func percent(s provider.Series) {
	if s.Metric.IsUtilization() {
		for i := range s.Values {
			s.Values[i] *= 100
		}
	}
}

func (b percentUtilization) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	s, err := b.Cloud.QueryMetric(ctx, q)
	percent(s)
	return s, err
}

func (b percentUtilization) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	err := b.Cloud.QueryMetrics(ctx, reads)
	for _, r := range reads {
		percent(r.Series)
	}
	return err
}

// forwardFill answers a step without samples with the value of the step
// before it, in QueryMetric and QueryMetrics alike, as a driver relying on
// a backend's lookback window would.
type forwardFill struct{ *memory.Cloud }

func fill(values []float64) {
	for i := 1; i < len(values); i++ {
		if provider.IsGap(values[i]) {
			values[i] = values[i-1]
		}
	}
}

func (b forwardFill) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	s, err := b.Cloud.QueryMetric(ctx, q)
	fill(s.Values)
	return s, err
}

func (b forwardFill) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	err := b.Cloud.QueryMetrics(ctx, reads)
	for _, r := range reads {
		fill(r.Series.Values)
	}
	return err
}

// actsOnEveryInstance stops, starts or terminates, with the instance it
// is asked to, every other instance of the same state, as a driver that
// selects what it acts on by a filter matching too much (a label
// selector, an ID prefix) would.
type actsOnEveryInstance struct{ *memory.Cloud }

func (b actsOnEveryInstance) each(ctx context.Context, id string, act func(context.Context, string) error) error {
	if err := act(ctx, id); err != nil {
		return err
	}
	r, err := b.Get(ctx, id)
	if err != nil {
		return nil
	}
	others, err := b.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	if err != nil {
		return nil
	}
	for _, o := range others {
		if o.ID != id && o.State != r.State {
			_ = act(ctx, o.ID)
		}
	}
	return nil
}

func (b actsOnEveryInstance) Stop(ctx context.Context, id string) error {
	return b.each(ctx, id, b.Cloud.Stop)
}

func (b actsOnEveryInstance) Start(ctx context.Context, id string) error {
	return b.each(ctx, id, b.Cloud.Start)
}

func (b actsOnEveryInstance) Terminate(ctx context.Context, id string) error {
	return b.each(ctx, id, b.Cloud.Terminate)
}

// stopChecker is the memory cloud with another CanStop.
type stopChecker struct {
	*memory.Cloud
	can func(provider.Resource) error
}

func (b stopChecker) CanStop(r provider.Resource) error { return b.can(r) }

// deletedNotFound answers Stop and Terminate of a terminated resource
// with ErrNotFound: it was deleted, though still listed.
type deletedNotFound struct{ *memory.Cloud }

func (b deletedNotFound) gone(ctx context.Context, id string) error {
	if r, err := b.Get(ctx, id); err == nil && r.State == provider.StateTerminated {
		return fmt.Errorf("%w: %q was deleted", provider.ErrNotFound, id)
	}
	return nil
}

func (b deletedNotFound) Stop(ctx context.Context, id string) error {
	if err := b.gone(ctx, id); err != nil {
		return err
	}
	return b.Cloud.Stop(ctx, id)
}

func (b deletedNotFound) Terminate(ctx context.Context, id string) error {
	if err := b.gone(ctx, id); err != nil {
		return err
	}
	return b.Cloud.Terminate(ctx, id)
}

// stopTerminatedSucceeds answers Stop of a terminated instance with nil,
// as if it were stopped, instead of ErrConflict.
type stopTerminatedSucceeds struct{ *memory.Cloud }

func (b stopTerminatedSucceeds) Stop(ctx context.Context, id string) error {
	if err := b.Cloud.Stop(ctx, id); !errors.Is(err, provider.ErrConflict) {
		return err
	}
	return nil
}

// instanceNotAGroupNotFound answers Capacity of an instance with
// ErrNotFound ("no such group") instead of ErrUnsupported.
type instanceNotAGroupNotFound struct{ *memory.Cloud }

func (b instanceNotAGroupNotFound) Capacity(ctx context.Context, id string) (provider.Capacity, error) {
	c, err := b.Cloud.Capacity(ctx, id)
	if errors.Is(err, provider.ErrUnsupported) {
		err = fmt.Errorf("%w: %s", provider.ErrNotFound, err.Error())
	}
	return c, err
}

// batchInstanceNotFound is instanceNotAGroupNotFound in GetCapacities
// only: the batch answers an instance otherwise than Capacity does.
type batchInstanceNotFound struct{ *memory.Cloud }

func (b batchInstanceNotFound) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	err := b.Cloud.GetCapacities(ctx, reads)
	for i, r := range reads {
		if errors.Is(r.Err, provider.ErrUnsupported) {
			reads[i].Err = fmt.Errorf("%w: %s", provider.ErrNotFound, r.Err.Error())
		}
	}
	return err
}

// batchSharesTags answers the reads of one resource in a batch with one
// tags map, as a batch that looks each ID up once in a cache it does not
// copy from would.
type batchSharesTags struct{ *memory.Cloud }

func (b batchSharesTags) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	err := b.Cloud.GetResources(ctx, reads)
	first := map[string]map[string]string{}
	for i, r := range reads {
		if tags, ok := first[r.ID]; ok {
			reads[i].Resource.Tags = tags
		} else if r.Resource.Tags != nil {
			first[r.ID] = r.Resource.Tags
		}
	}
	return err
}

// batchDropsTags answers GetResources without the resources' tags, as a
// batch API that returns fewer fields than the single read would.
type batchDropsTags struct{ *memory.Cloud }

func (b batchDropsTags) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	err := b.Cloud.GetResources(ctx, reads)
	for i := range reads {
		reads[i].Resource.Tags = nil
	}
	return err
}

// writesIgnoreCancel carries out Terminate, SetCapacity and Resize after
// the caller's context ended.
type writesIgnoreCancel struct{ *memory.Cloud }

func (b writesIgnoreCancel) Terminate(ctx context.Context, id string) error {
	return b.Cloud.Terminate(context.WithoutCancel(ctx), id)
}

func (b writesIgnoreCancel) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	return b.Cloud.SetCapacity(context.WithoutCancel(ctx), id, want)
}

func (b writesIgnoreCancel) Resize(ctx context.Context, id string, size provider.Size) error {
	return b.Cloud.Resize(context.WithoutCancel(ctx), id, size)
}

// startIgnoresCancel starts an instance after the caller's context
// ended, and then says that it ended.
type startIgnoresCancel struct{ *memory.Cloud }

func (b startIgnoresCancel) Start(ctx context.Context, id string) error {
	if err := b.Cloud.Start(context.WithoutCancel(ctx), id); err != nil {
		return err
	}
	return ctx.Err()
}

// listByIDsIgnoresCancel looks the IDs of a filter up after the caller's
// context ended, as a driver whose lookup of a few IDs takes another path
// than its scan, one that never reads the context, would.
type listByIDsIgnoresCancel struct{ *memory.Cloud }

func (b listByIDsIgnoresCancel) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	if len(f.IDs) > 0 {
		ctx = context.WithoutCancel(ctx)
	}
	return b.Cloud.List(ctx, f)
}

// backupsWithoutID reports backups without their IDs.
type backupsWithoutID struct{ *memory.Cloud }

func (b backupsWithoutID) Backups(ctx context.Context, id string, since time.Time) ([]provider.Backup, error) {
	bs, err := b.Cloud.Backups(ctx, id, since)
	for i := range bs {
		bs[i].ID = ""
	}
	return bs, err
}

// firstIDOnly lists by the first of several IDs only.
type firstIDOnly struct{ *memory.Cloud }

func (b firstIDOnly) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	f.IDs = f.IDs[:min(len(f.IDs), 1)]
	return b.Cloud.List(ctx, f)
}

// ignoresPlaceFilters drops the Region, Environment and InstanceTypes of
// a filter, as a driver whose backend cannot filter by them and forgets to.
type ignoresPlaceFilters struct{ *memory.Cloud }

func (b ignoresPlaceFilters) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	f.Region, f.Environment, f.InstanceTypes = "", "", nil
	return b.Cloud.List(ctx, f)
}

// tagNeedsValue reads a tag with an empty value in a filter as "the tag's
// value is empty" (a label selector "key="), not as "any value".
type tagNeedsValue struct{ *memory.Cloud }

func (b tagNeedsValue) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	tags := f.Tags
	f.Tags = nil
	all, err := b.Cloud.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := []provider.Resource{}
	for _, r := range all {
		keep := true
		for k, v := range tags {
			if got, ok := r.Tags[k]; !ok || got != v {
				keep = false
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	return out, nil
}

// lenientFilter drops the parts of a filter that Filter.Validate refuses
// other than kinds and states, instead of refusing the filter.
type lenientFilter struct{ *memory.Cloud }

func (b lenientFilter) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	f.IDs = slices.DeleteFunc(slices.Clone(f.IDs), func(id string) bool { return provider.ValidateID(id) != nil })
	f.InstanceTypes = slices.DeleteFunc(slices.Clone(f.InstanceTypes), func(t string) bool { return t == "" })
	f.Tags = maps.Clone(f.Tags)
	delete(f.Tags, "")
	return b.Cloud.List(ctx, f)
}

// sharedListTags returns the same tags map for a resource from every List,
// as a driver with a cache it does not copy from would.
type sharedListTags struct {
	*memory.Cloud
	mu   sync.Mutex
	tags map[string]map[string]string
}

func (b *sharedListTags) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := b.Cloud.List(ctx, f)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, r := range rs {
		if m, ok := b.tags[r.ID]; ok {
			rs[i].Tags = m
			continue
		}
		if r.Tags == nil {
			rs[i].Tags = map[string]string{}
		}
		b.tags[r.ID] = rs[i].Tags
	}
	return rs, err
}

// TestBrokenContractChild is the child process of
// TestRunCatchesBrokenContracts. Run normally (without
// envBrokenContractChild) it checks nothing and passes.
func TestBrokenContractChild(t *testing.T) {
	if os.Getenv(envBrokenContractChild) != "1" {
		return
	}
	for _, bc := range brokenContracts {
		t.Run(bc.name, func(t *testing.T) {
			providertest.Run(t, func(t *testing.T) providertest.Subject {
				s := newMemorySubject(t)
				if bc.fixture != nil {
					bc.fixture(t, &s)
				}
				s.Provider = bc.wrap(s.Provider.(*memory.Cloud))
				return s
			})
		})
	}
}

// TestRunCatchesBrokenContracts runs the suite against every driver of
// brokenContracts in a child process and checks that the subtests of the
// rule each breaks fail, saying what is wrong, and that some others pass.
func TestRunCatchesBrokenContracts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenContractChild$", "-test.count=1", "-test.timeout=90s", "-test.v")
	cmd.Env = append(os.Environ(), envBrokenContractChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the suite must fail on broken drivers; output:\n%s", out)
	for _, bc := range brokenContracts {
		for sub, msg := range bc.fails {
			if !strings.Contains(string(out), "--- FAIL: TestBrokenContractChild/"+bc.name+"/"+sub+" ") {
				t.Errorf("%s must fail %s", bc.name, sub)
			}
			if !strings.Contains(string(out), msg) {
				t.Errorf("%s: %s must say %q", bc.name, sub, msg)
			}
		}
		for _, sub := range bc.passes {
			if !strings.Contains(string(out), "--- PASS: TestBrokenContractChild/"+bc.name+"/"+sub+" ") {
				t.Errorf("%s must still pass %s", bc.name, sub)
			}
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}

// endInclusiveSteps reduces in step k the samples of (start, end]
// instead of [start, end), as a driver querying its store with start < t
// ≤ end would, in QueryMetric and QueryMetrics alike: every step one
// sample late, the first sample of a range left out and one at its end
// taken in.
type endInclusiveSteps struct{ *memory.Cloud }

func (b endInclusiveSteps) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if err := q.Validate(); err != nil {
		return b.Cloud.QueryMetric(ctx, q)
	}
	late := q // the memory cloud's [start, end) a nanosecond later is (start, end]
	late.Start, late.End = q.Start.Add(1), q.End.Add(1)
	s, err := b.Cloud.QueryMetric(ctx, late)
	s.Start = q.Start
	return s, err
}

func (b endInclusiveSteps) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	return readEach(ctx, reads, b.QueryMetric)
}

// partialStepWhole answers a range that is not a whole number of steps
// with its partial last step read whole, past End, as a driver that
// rounds End up to the step (a backend's period) would, in QueryMetric
// and QueryMetrics alike.
type partialStepWhole struct{ *memory.Cloud }

func (b partialStepWhole) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Validate() == nil {
		q.End = q.Start.Add(time.Duration(q.Steps()) * q.Step)
	}
	return b.Cloud.QueryMetric(ctx, q)
}

func (b partialStepWhole) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	return readEach(ctx, reads, b.QueryMetric)
}

// failsOnOneStep fails every query of one step.
type failsOnOneStep struct{ *memory.Cloud }

func (b failsOnOneStep) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Validate() == nil && q.Steps() == 1 {
		return provider.Series{}, errors.New("one step: backend down")
	}
	return b.Cloud.QueryMetric(ctx, q)
}

// readEach answers a batch of metric reads one QueryMetric call each, the
// batch failing as a whole with a cancelled context.
func readEach(ctx context.Context, reads []provider.MetricRead, query func(context.Context, provider.Query) (provider.Series, error)) error {
	if err := ctx.Err(); err != nil {
		for i := range reads {
			reads[i].Err = err
		}
		return err
	}
	for i := range reads {
		reads[i].Series, reads[i].Err = query(ctx, reads[i].Query)
	}
	return nil
}

// floorSteps answers a range that is not a whole number of steps without
// its partial last step.
type floorSteps struct{ *memory.Cloud }

func (b floorSteps) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if q.Step > 0 && q.End.After(q.Start) {
		q.End = q.Start.Add(q.End.Sub(q.Start) / q.Step * q.Step)
	}
	return b.Cloud.QueryMetric(ctx, q)
}

// coarsensLongQueries answers a query of more than MaxQueryPoints steps
// with a coarser step instead of refusing it.
type coarsensLongQueries struct{ *memory.Cloud }

func (b coarsensLongQueries) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if !q.Start.IsZero() && q.Steps() > provider.MaxQueryPoints {
		q.Step = q.End.Sub(q.Start)/provider.MaxQueryPoints + 1
	}
	return b.Cloud.QueryMetric(ctx, q)
}

// withVolumes adds an attached (running) and a detached (stopped) volume
// to the subject, its AttachedVolume and DetachedVolume.
func withVolumes(t *testing.T, s *providertest.Subject) {
	c := s.Provider.(*memory.Cloud)
	require.NoError(t, c.Add(provider.Resource{ID: "vol-in-use", Kind: provider.KindVolume},
		provider.Resource{ID: "vol-available", Kind: provider.KindVolume, State: provider.StateStopped}))
	s.AttachedVolume, s.DetachedVolume = "vol-in-use", "vol-available"
}

// deletesAttachedVolume detaches an attached volume and deletes it, where
// Terminate must refuse it with ErrConflict and change nothing.
type deletesAttachedVolume struct{ *memory.Cloud }

func (b deletesAttachedVolume) Terminate(ctx context.Context, id string) error {
	if r, err := b.Get(ctx, id); err == nil && r.Kind == provider.KindVolume && r.State == provider.StateRunning {
		r.State = provider.StateStopped
		if err := b.Update(r); err != nil {
			return err
		}
	}
	return b.Cloud.Terminate(ctx, id)
}

// terminateChecker is the memory cloud with a CanTerminate.
type terminateChecker struct {
	*memory.Cloud
	can func(provider.Resource) error
}

func (b terminateChecker) CanTerminate(r provider.Resource) error { return b.can(r) }

// stopRefusedButDetaches answers Stop of an attached volume with the
// memory cloud's ErrUnsupported, as CanStop says, but detaches it first.
type stopRefusedButDetaches struct{ *memory.Cloud }

func (b stopRefusedButDetaches) Stop(ctx context.Context, id string) error {
	if r, err := b.Get(ctx, id); err == nil && r.Kind == provider.KindVolume && r.State == provider.StateRunning {
		r.State = provider.StateStopped
		if err := b.Update(r); err != nil {
			return err
		}
	}
	return b.Cloud.Stop(ctx, id)
}

// keepsDetachedVolume answers Terminate of a detached volume with nil but
// does not delete it.
type keepsDetachedVolume struct{ *memory.Cloud }

func (b keepsDetachedVolume) Terminate(ctx context.Context, id string) error {
	if r, err := b.Get(ctx, id); err == nil && r.Kind == provider.KindVolume && r.State == provider.StateStopped {
		return nil
	}
	return b.Cloud.Terminate(ctx, id)
}
