// Package providertest checks that a driver keeps the contracts of the
// provider package's capability interfaces, like testing/slogtest does for
// slog handlers. Every driver runs it in its own tests:
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, func(t *testing.T) providertest.Subject {
//			p := newSeededDriver(t) // a fresh, seeded provider
//			return providertest.Subject{Provider: p, Instances: []string{"i-1", "i-2"}, ...}
//		})
//	}
//
// The suite calls the factory once per subtest, so subtests may change what
// they get. Capabilities the driver does not implement (found by type
// assertion) are skipped with a message naming the interface; fixture
// fields left empty skip the subtests that need them, also with a message.
//
// # What the suite checks
//
// Inventory: List returns valid resources sorted by ID, the fixture's among
// them; List(f) returns the resources f.Match accepts, every one it lists
// matching f and every fixture resource that matches listed, for filters
// made of IDs, kinds, states, regions, environments, instance types and
// tags, alone and together (every set field must match, any element of a
// slice may, a tag with an empty value matches any value of its key);
// Get returns the fixture's running instances and ErrNotFound for an
// unknown ID; malformed IDs and every filter Filter.Validate refuses
// (unknown kinds and states, malformed IDs, empty tag keys, empty
// instance types) return ErrInvalid; what Get and List return are copies
// the caller may change; List and Get return the same resource for an ID
// (every field Resource.ChangedFrom compares, and the state).
//
// MetricsSource: QueryMetric answers on the query's grid (Start, Step,
// ⌈(End−Start)/Step⌉ values, a range that is not a whole number of steps
// included), labelled with the query's resource and metric, finite or
// gaps, a utilization's in [0, 1] (a fraction, not a percent); min ≤ mean
// ≤ max and, where the driver has them (ErrUnsupported skips one), last
// in [min, max] and count a whole number ≥ 1, with gaps in the same steps
// in every statistic; a step's min and max the smallest and largest of
// those of its halves (unless the driver refuses half the step with
// ErrInvalid or ErrUnsupported) and of twice the step those of its two
// steps (over the whole pairs of steps of the range: nothing past End is
// read), so that a driver answering min or max with the mean fails; a
// step's count the sum of its halves' (a step holds [start, end): a
// sample on a boundary is in the later step only); at Subject.FirstSample,
// a sample with none in the step before it, a step starting there holds
// the sample and one ending there does not, nor a partial last step
// ending there (so that steps of (start, end], one sample late
// everywhere, fail); a range without data is all gaps, not zeros; each
// step asked alone has the value or gap it has in the whole range
// (nothing carried over from other steps); a metric the source does not
// have for the resource is ErrUnsupported or all gaps (not ErrNotFound,
// not zeros); every query Query.Validate
// refuses (step 0, end at or before start, zero start, more than
// MaxQueryPoints steps, an unknown metric or statistic, an empty or
// malformed resource ID) returns ErrInvalid, an unknown resource
// ErrNotFound.
//
// Actuator: Stop and Start are idempotent in every state they lead to and
// leave the other instance alone (running, while the one stopped is
// stopped too); Terminate is final and idempotent, leaves the other
// instance alone, and Start and Stop of a terminated instance return
// ErrConflict and change nothing; unknown IDs return ErrNotFound, empty ones ErrInvalid.
//
// Scaler: SetCapacity sets the spec, and Current and Ready follow it after
// Settle (every Capacity valid, settled at the spec: Current = Ready =
// Desired), scaling out, in, to zero and out from zero; specs CapacitySpec.Validate refuses return ErrInvalid and change
// nothing; an unknown group returns ErrNotFound, an empty ID ErrInvalid
// and an instance ErrUnsupported, from Capacity and from SetCapacity,
// which changes nothing.
//
// Resizer: Resize sets the size (as Get reads it: the instance type, or
// the vCPUs and memory without one, and the timeout) and is idempotent; an invalid size
// (InvalidSize, one Size.Validate refuses, or ValidSize with a field the
// resource's kind does not have: an instance type for a function, a
// timeout for anything else) returns ErrInvalid and changes nothing; an
// unknown ID returns ErrNotFound, an empty one ErrInvalid.
//
// BackupCatalog: valid backups of the resource, newest first, since
// inclusive; ErrNotFound for an unknown resource, ErrInvalid for an empty
// ID. ActivitySource: valid counts sorted by kind, each one's last event
// (when known) inside the window, not before the count's Since and only
// with a count, and no Since after the window's end; a window a year
// before the fixture's holds no events (every count 0, or absent);
// ErrInvalid for an empty window or resource ID, ErrNotFound for an
// unknown resource.
//
// Context: a cancelled context fails every call, reads and writes, with
// context.Canceled, and the writes (Stop, Start, Terminate, SetCapacity,
// Resize) change nothing (Start asked of a stopped instance).
//
// Batch reads: every read answered in place exactly as the single call
// answers it (the whole resource, the group's and the resource to resize's
// too, the whole capacity, the same grid and values, the same activity
// counts), with the single call's error sentinel; reads may repeat, and
// share nothing; an empty batch is no call and no error; a cancelled
// context fails the call and every read.
//
// Concurrency: List, Get, QueryMetric, GetResources and Stop called from
// several goroutines at once all succeed.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Subject is a freshly seeded driver and the fixture the suite may use.
type Subject struct {
	// Provider is the driver. It must implement provider.Inventory; the
	// other capabilities are checked when it implements them.
	Provider provider.Inventory

	// Instances are the IDs of at least two running instances that can be
	// started, stopped and terminated. Instances[0] alone carries the tag
	// Tag. Required.
	Instances []string
	// Tag is a tag key and value that Instances[0] carries and no other
	// fixture resource does. Default: none (the tag filter test is skipped).
	Tag [2]string

	// Group is the ID of a group whose max capacity is at least its desired
	// capacity + 1, for Scaler tests.
	Group string

	// ResizeID is a resource that accepts ValidSize and refuses
	// InvalidSize with provider.ErrInvalid, for Resizer tests. InvalidSize
	// must be valid for provider.Size.Validate but outside the driver's
	// limits (for example a function with 64 MiB of memory), so the check
	// reaches the driver.
	ResizeID    string
	ValidSize   provider.Size
	InvalidSize provider.Size

	// MetricQuery is a query of a resource, metric and range that hold data
	// at the query's step, for MetricsSource tests. The range should span at
	// least 4 steps. A step of it without samples (a hole in the data) lets
	// the suite check that the driver answers it with a gap, not a value
	// carried over from another step.
	MetricQuery provider.Query
	// FirstSample is the time of a sample of MetricQuery's resource and
	// metric with none in the MetricQuery.Step before it: the time of the
	// first sample, or of the first after a hole of at least a step. It
	// lets the suite check the ends of a step, which nothing else in a
	// driver's answers shows (a source whose steps are (start, end] answers
	// every other check consistently, one sample late): a step starting at
	// FirstSample holds that sample, a step ending at it does not, nor a
	// partial last step ending at it. Default: zero (the check is skipped
	// with a message).
	FirstSample time.Time

	// BackupID is a resource with at least one backup, for BackupCatalog
	// tests.
	BackupID string

	// AttachedVolume is a volume attached to an instance (running, see
	// provider.State), for Actuator tests: the driver lists it running,
	// and Terminate refuses it with provider.ErrConflict and changes
	// nothing, as the clouds refuse to delete a disk in use; the
	// detector and the reaper rely on both. DetachedVolume is a detached
	// one (stopped), which Terminate deletes: Get then reads it
	// terminated or not found, and Terminate again changes nothing (nil,
	// or, not found, provider.ErrNotFound). Default: none (the check is
	// skipped; the driver then lists no volume, or Terminate refuses
	// every one).
	AttachedVolume, DetachedVolume string

	// ActivityQuery is a query of a resource with activity, for
	// ActivitySource tests.
	ActivityQuery provider.ActivityQuery

	// Settle makes pending transitions finish: it advances a fake clock, or
	// waits (with ctx) for the backend. Required when the driver implements
	// Actuator or Scaler.
	Settle func(ctx context.Context) error
}

// unknownID is an ID no fixture uses.
const unknownID = "idlescale-providertest-does-not-exist"

// Run runs the conformance suite against the subjects made by newSubject,
// one fresh subject per subtest.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s Subject)
	}{
		{"Inventory/ListAll", testListAll},
		{"Inventory/ListFilters", testListFilters},
		{"Inventory/FilterSemantics", testFilterSemantics},
		{"Inventory/Get", testGet},
		{"Inventory/ListAgreesWithGet", testListAgreesWithGet},
		{"Inventory/InvalidInput", testInventoryInvalid},
		{"Inventory/ReturnsCopies", testReturnsCopies},
		{"MetricsSource/Grid", testMetricsGrid},
		{"MetricsSource/Statistics", testMetricsStatistics},
		{"MetricsSource/GapsNotZeros", testMetricsGaps},
		{"MetricsSource/StepsStandAlone", testMetricsStepsStandAlone},
		{"MetricsSource/HalfOpenSteps", testMetricsHalfOpenSteps},
		{"MetricsSource/StepEnds", testMetricsStepEnds},
		{"MetricsSource/MetricNotHeld", testMetricNotHeld},
		{"MetricsSource/Errors", testMetricsErrors},
		{"Actuator/StopStartIdempotent", testStopStart},
		{"Actuator/Terminate", testTerminate},
		{"Actuator/TerminateVolume", testTerminateVolume},
		{"Actuator/Errors", testActuatorErrors},
		{"Actuator/Checkers", testCheckers},
		{"Scaler/SetCapacity", testSetCapacity},
		{"Scaler/Errors", testScalerErrors},
		{"Resizer/Resize", testResize},
		{"Resizer/Errors", testResizeErrors},
		{"BackupCatalog/Backups", testBackups},
		{"ActivitySource/Activity", testActivity},
		{"Batch/Resources", testBatchResources},
		{"Batch/Capacities", testBatchCapacities},
		{"Batch/Metrics", testBatchMetrics},
		{"Batch/Activity", testBatchActivity},
		{"Batch/Cancelled", testBatchCancelled},
		{"Context/Cancelled", testCancelled},
		{"Concurrency", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSubject(t)
			if s.Provider == nil {
				t.Fatal("providertest: Subject.Provider is nil")
			}
			if len(s.Instances) < 2 {
				t.Fatalf("providertest: Subject.Instances needs at least 2 IDs, got %d", len(s.Instances))
			}
			tt.fn(t, s)
		})
	}
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// must turns a (value, error) result into a function that fails the test
// on error, naming the call (call and args, formatted as by fmt.Sprintf):
// must(p.Get(ctx, id))(t, "Get(%q)", id).
func must[T any](v T, err error) func(t *testing.T, call string, args ...any) T {
	return func(t *testing.T, call string, args ...any) T {
		t.Helper()
		noErr(t, err, call, args...)
		return v
	}
}

// noErr fails the test if err is set, naming the call (call and args,
// formatted as by fmt.Sprintf), so that a host author reading the failure
// knows which call failed with which arguments.
func noErr(t *testing.T, err error, call string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", fmt.Sprintf(call, args...), err)
	}
}

// list calls inv.List(ctx, f), failing the test on error.
func list(ctx context.Context, t *testing.T, inv provider.Inventory, f provider.Filter) []provider.Resource {
	t.Helper()
	return must(inv.List(ctx, f))(t, "List(%s)", filterString(f))
}

// filterString describes the set fields of f, briefly: "IDs=[i-1]
// Kinds=[instance]", or "no filter".
func filterString(f provider.Filter) string {
	var parts []string
	add := func(name string, set bool, v any) {
		if set {
			parts = append(parts, fmt.Sprintf("%s=%v", name, v))
		}
	}
	add("IDs", len(f.IDs) > 0, f.IDs)
	add("Kinds", len(f.Kinds) > 0, f.Kinds)
	add("States", len(f.States) > 0, f.States)
	add("Region", f.Region != "", f.Region)
	add("Environment", f.Environment != "", f.Environment)
	add("InstanceTypes", len(f.InstanceTypes) > 0, f.InstanceTypes)
	add("Tags", len(f.Tags) > 0, f.Tags)
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, " ")
}

// queryCall describes a QueryMetric call of q, briefly: the resource, the
// metric and statistic, the window and the step.
func queryCall(q provider.Query) string {
	st := q.Statistic
	if st == "" {
		st = provider.StatMean
	}
	return fmt.Sprintf("QueryMetric(%q %s %s, [%s, %s) step %s)", q.ResourceID, q.Metric, st,
		q.Start.Format(time.RFC3339Nano), q.End.Format(time.RFC3339Nano), q.Step)
}

// activityCall describes an Activity call of q: the resource and the
// window.
func activityCall(q provider.ActivityQuery) string {
	return fmt.Sprintf("Activity(%q, [%s, %s))", q.ResourceID, q.Start.Format(time.RFC3339Nano), q.End.Format(time.RFC3339Nano))
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
	}
}

func testListAll(t *testing.T, s Subject) {
	got := list(ctxOf(t), t, s.Provider, provider.Filter{})
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = r.ID
		if err := r.Validate(); err != nil {
			t.Errorf("List returned an invalid resource %q: %v", r.ID, err)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("List must sort by ID; got %v", ids)
	}
	for _, id := range s.Instances {
		if !slices.Contains(ids, id) {
			t.Errorf("List did not return fixture instance %q", id)
		}
	}
}

func testListFilters(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	got := list(ctx, t, s.Provider, provider.Filter{IDs: s.Instances[:1]})
	if len(got) != 1 || got[0].ID != s.Instances[0] {
		t.Errorf("List(IDs=%v) = %v, want exactly that instance", s.Instances[:1], idsOf(got))
	}
	got = list(ctx, t, s.Provider, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	for _, r := range got {
		if r.Kind != provider.KindInstance {
			t.Errorf("List(Kinds=instance) returned %q of kind %s", r.ID, r.Kind)
		}
	}
	if !containsAll(idsOf(got), s.Instances) {
		t.Errorf("List(Kinds=instance) = %v, missing fixture instances %v", idsOf(got), s.Instances)
	}
	got = list(ctx, t, s.Provider, provider.Filter{States: []provider.State{provider.StateTerminated}, IDs: s.Instances})
	if len(got) != 0 {
		t.Errorf("List(States=terminated) returned running fixture instances %v", idsOf(got))
	}
	if s.Tag[0] != "" {
		got = list(ctx, t, s.Provider, provider.Filter{Tags: map[string]string{s.Tag[0]: s.Tag[1]}})
		if len(got) != 1 || got[0].ID != s.Instances[0] {
			t.Errorf("List(Tags=%s:%s) = %v, want only %q", s.Tag[0], s.Tag[1], idsOf(got), s.Instances[0])
		}
	}
	got = list(ctx, t, s.Provider, provider.Filter{IDs: []string{unknownID}})
	if len(got) != 0 {
		t.Errorf("List(IDs=unknown) = %v, want none", idsOf(got))
	}
}

func testGet(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	for _, id := range s.Instances {
		r := must(s.Provider.Get(ctx, id))(t, "Get(%q)", id)
		if r.ID != id {
			t.Errorf("Get(%q).ID = %q", id, r.ID)
		}
		if r.Kind != provider.KindInstance || r.State != provider.StateRunning {
			t.Errorf("Get(%q) = kind %s state %s, want a running instance", id, r.Kind, r.State)
		}
	}
	_, err := s.Provider.Get(ctx, unknownID)
	wantErr(t, err, provider.ErrNotFound, "Get(unknown)")
}

// testListAgreesWithGet checks that List and Get return the same resource
// for an ID: every field Resource.ChangedFrom compares, and the state. A
// caller that lists, decides and re-reads with Get before it acts (the
// reaper, the shard sweep) takes any difference for a change of the
// resource and never acts on it.
func testListAgreesWithGet(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	fixture := fixtureIDs(s)
	listed := list(ctx, t, s.Provider, provider.Filter{IDs: fixture})
	all := list(ctx, t, s.Provider, provider.Filter{})
	for _, id := range fixture {
		got := must(s.Provider.Get(ctx, id))(t, "Get(%q)", id)
		for name, rs := range map[string][]provider.Resource{"List(IDs)": listed, "List": all} {
			i := slices.IndexFunc(rs, func(r provider.Resource) bool { return r.ID == id })
			if i < 0 {
				t.Errorf("%s did not return fixture resource %q", name, id)
				continue
			}
			if diff := got.ChangedFrom(rs[i]); len(diff) > 0 || got.State != rs[i].State {
				t.Errorf("%s and Get return different resources for %q: fields %v differ (state %s and %s)", name, id, diff, rs[i].State, got.State)
			}
		}
	}
}

func testInventoryInvalid(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	for _, id := range []string{"", "has space", "tab\tid"} {
		_, err := s.Provider.Get(ctx, id)
		wantErr(t, err, provider.ErrInvalid, fmt.Sprintf("Get(%q)", id))
	}
	_, err := s.Provider.List(ctx, provider.Filter{Kinds: []provider.Kind{"spaceship"}})
	wantErr(t, err, provider.ErrInvalid, "List(Kinds=spaceship)")
	_, err = s.Provider.List(ctx, provider.Filter{States: []provider.State{"melting"}})
	wantErr(t, err, provider.ErrInvalid, "List(States=melting)")
	// Every filter Filter.Validate refuses, not only bad kinds and states.
	_, err = s.Provider.List(ctx, provider.Filter{IDs: []string{s.Instances[0], "has space"}})
	wantErr(t, err, provider.ErrInvalid, `List(IDs=["has space"])`)
	_, err = s.Provider.List(ctx, provider.Filter{Tags: map[string]string{"": "x"}})
	wantErr(t, err, provider.ErrInvalid, "List(Tags with an empty key)")
	_, err = s.Provider.List(ctx, provider.Filter{InstanceTypes: []string{""}})
	wantErr(t, err, provider.ErrInvalid, `List(InstanceTypes=[""])`)
}

func testReturnsCopies(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	id := s.Instances[0]
	r := must(s.Provider.Get(ctx, id))(t, "Get(%q)", id)
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	r.Tags["providertest-mutated"] = "yes"
	r.Name = "mutated"
	again := must(s.Provider.Get(ctx, id))(t, "Get(%q)", id)
	if _, ok := again.Tags["providertest-mutated"]; ok || again.Name == "mutated" {
		t.Errorf("changing a returned resource changed the provider's copy of %q", id)
	}
	// List returns copies too: changing what one List returned changes
	// neither the next List nor Get.
	listed := list(ctx, t, s.Provider, provider.Filter{IDs: []string{id}})
	if len(listed) != 1 {
		t.Fatalf("List(IDs=[%q]) = %v, want that resource", id, idsOf(listed))
	}
	if listed[0].Tags == nil {
		listed[0].Tags = map[string]string{}
	}
	listed[0].Tags["providertest-mutated-list"] = "yes"
	listed[0].Name = "mutated-list"
	relisted := list(ctx, t, s.Provider, provider.Filter{IDs: []string{id}})
	again = must(s.Provider.Get(ctx, id))(t, "Get(%q)", id)
	for _, r := range append(relisted, again) {
		if _, ok := r.Tags["providertest-mutated-list"]; ok || r.Name == "mutated-list" {
			t.Errorf("changing a resource List returned changed the provider's copy of %q", id)
			break
		}
	}
}

// fixtureIDs returns the IDs of the fixture's resources: the instances,
// the group and the resource to resize, each once.
func fixtureIDs(s Subject) []string {
	ids := slices.Clone(s.Instances)
	for _, id := range []string{s.Group, s.ResizeID} {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// testFilterSemantics checks List against Filter.Match, the documented
// semantics of a Filter: every set field must match (AND), any element of
// a slice field may (OR), a tag with an empty value matches any value of
// its key. For each filter, every resource List returns must match it, and
// every fixture resource (read with Get) that matches must be listed and
// no other; the result is sorted by ID. The filters are made from the
// fixture's own kinds, states, tags, regions, environments and instance
// types, and from values no resource has.
func testFilterSemantics(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	fixture := fixtureIDs(s)
	res := make(map[string]provider.Resource, len(fixture))
	for _, id := range fixture {
		res[id] = must(s.Provider.Get(ctx, id))(t, "Get(%q)", id)
	}
	first := res[s.Instances[0]]
	const absent = "idlescale-providertest-absent"
	type namedFilter struct {
		name string
		f    provider.Filter
	}
	filters := []namedFilter{
		{"IDs: any may match", provider.Filter{IDs: s.Instances}},
		{"IDs: an unknown one among them", provider.Filter{IDs: []string{unknownID, s.Instances[1]}}},
		{"Kinds: any may match", provider.Filter{IDs: fixture, Kinds: []provider.Kind{provider.KindGroup, provider.KindInstance}}},
		{"Kinds and IDs: both must match", provider.Filter{IDs: s.Instances, Kinds: []provider.Kind{provider.KindGroup, provider.KindFunction}}},
		{"States: any may match", provider.Filter{IDs: fixture, States: []provider.State{provider.StateStopped, provider.StateRunning}}},
		{"States and IDs: both must match", provider.Filter{IDs: fixture, States: []provider.State{provider.StateStopped, provider.StatePending}}},
		{"Region: none has it", provider.Filter{Region: absent}},
		{"Environment: none has it", provider.Filter{Environment: absent}},
		{"InstanceTypes: none has it", provider.Filter{InstanceTypes: []string{absent}}},
		{"Tags: none has the key", provider.Filter{Tags: map[string]string{absent: ""}}},
	}
	if first.Region != "" {
		filters = append(filters,
			namedFilter{"Region", provider.Filter{Region: first.Region}},
			namedFilter{"Region and IDs: both must match", provider.Filter{IDs: fixture, Region: first.Region, Kinds: []provider.Kind{first.Kind}}})
	}
	if first.Environment != "" {
		filters = append(filters,
			namedFilter{"Environment", provider.Filter{Environment: first.Environment}},
			namedFilter{"Environment and Region: both must match", provider.Filter{Environment: first.Environment, Region: absent}})
	}
	if it := first.Size.InstanceType; it != "" {
		filters = append(filters, namedFilter{"InstanceTypes: any may match", provider.Filter{InstanceTypes: []string{absent, it}}})
	}
	if s.Tag[0] != "" {
		k, v := s.Tag[0], s.Tag[1]
		filters = append(filters,
			namedFilter{"Tags: an empty value matches any value", provider.Filter{Tags: map[string]string{k: ""}}},
			namedFilter{"Tags: another value", provider.Filter{Tags: map[string]string{k: v + "-" + absent}}},
			namedFilter{"Tags: every key must match", provider.Filter{Tags: map[string]string{k: v, absent: ""}}},
			namedFilter{"Tags and Kinds: both must match", provider.Filter{Tags: map[string]string{k: v}, Kinds: []provider.Kind{provider.KindFunction, provider.KindVolume}}},
			namedFilter{"Tags and States: both must match", provider.Filter{Tags: map[string]string{k: v}, States: []provider.State{first.State}}})
	}
	for _, nf := range filters {
		got := list(ctx, t, s.Provider, nf.f)
		ids := idsOf(got)
		if !slices.IsSorted(ids) {
			t.Errorf("List(%s) must sort by ID; got %v", nf.name, ids)
		}
		var unmatched, missing []string
		for _, r := range got {
			if !nf.f.Match(r) {
				unmatched = append(unmatched, r.ID)
			}
		}
		for _, id := range fixture {
			if nf.f.Match(res[id]) && !slices.Contains(ids, id) {
				missing = append(missing, id)
			}
		}
		if len(unmatched) > 0 || len(missing) > 0 {
			t.Errorf("List(%s) = %v: listed %v, which do not match the filter; did not list fixture resources %v, which do",
				nf.name, ids, unmatched, missing)
		}
	}
}

func metricsSource(t *testing.T, s Subject) (provider.MetricsSource, provider.Query) {
	t.Helper()
	src, ok := s.Provider.(provider.MetricsSource)
	if !ok {
		t.Skip("driver does not implement provider.MetricsSource")
	}
	if s.MetricQuery.ResourceID == "" {
		t.Skip("Subject.MetricQuery is not set")
	}
	return src, s.MetricQuery
}

func testMetricsGrid(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	got := must(src.QueryMetric(ctxOf(t), q))(t, "%s", queryCall(q))
	checkGrid(t, got, q)
	if got.Coverage() == 0 {
		t.Errorf("QueryMetric(%+v) returned only gaps; the fixture says it holds data", q)
	}
	// Twice the step: half as many steps, same start.
	q2 := q
	q2.Step *= 2
	got2 := must(src.QueryMetric(ctxOf(t), q2))(t, "%s", queryCall(q2))
	checkGrid(t, got2, q2)
	// A range that is not a whole number of steps ends with a partial
	// step: ⌈(End−Start)/Step⌉ values, the last one shorter.
	q3 := q
	q3.End = q.End.Add(-q.Step / 2)
	got3 := must(src.QueryMetric(ctxOf(t), q3))(t, "%s", queryCall(q3))
	checkGrid(t, got3, q3)
}

func checkGrid(t *testing.T, got provider.Series, q provider.Query) {
	t.Helper()
	if !got.Start.Equal(q.Start) || got.Step != q.Step || got.Len() != q.Steps() {
		t.Errorf("QueryMetric grid = start %s step %s len %d, want start %s step %s len %d",
			got.Start, got.Step, got.Len(), q.Start, q.Step, q.Steps())
	}
	if got.ResourceID != q.ResourceID || got.Metric != q.Metric {
		t.Errorf("QueryMetric labels = %q/%s, want %q/%s", got.ResourceID, got.Metric, q.ResourceID, q.Metric)
	}
	outside := -1 // the first utilization outside [0, 1]
	for i, v := range got.Values {
		if math.IsInf(v, 0) {
			t.Errorf("QueryMetric value %d is %v; values must be finite or gaps", i, v)
		}
		if outside < 0 && q.Metric.IsUtilization() && !provider.IsGap(v) && (v < 0 || v > 1) {
			outside = i
		}
	}
	if outside >= 0 {
		t.Errorf("QueryMetric value %d of %s is %v; utilizations are fractions in [0, 1]", outside, q.Metric, got.Values[outside])
	}
}

func testMetricsStatistics(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	ctx := ctxOf(t)
	stat := func(st provider.Statistic) provider.Series {
		qq := q
		qq.Statistic = st
		return must(src.QueryMetric(ctx, qq))(t, "%s", queryCall(qq))
	}
	mean, lo, hi := stat(provider.StatMean), stat(provider.StatMin), stat(provider.StatMax)
	checked := 0
	for i := range mean.Values {
		m, a, b := mean.Values[i], lo.Values[i], hi.Values[i]
		if provider.IsGap(m) != provider.IsGap(a) || provider.IsGap(m) != provider.IsGap(b) {
			t.Errorf("step %d: gap in one statistic but not another (mean %v min %v max %v)", i, m, a, b)
			continue
		}
		if provider.IsGap(m) {
			continue
		}
		checked++
		const eps = 1e-9
		if a > m+eps*math.Max(1, math.Abs(m)) || m > b+eps*math.Max(1, math.Abs(b)) {
			t.Errorf("step %d: want min ≤ mean ≤ max, got %v, %v, %v", i, a, m, b)
		}
	}
	if checked == 0 {
		t.Error("no step held data in all three statistics")
	}
	// The extremes nest: a step's min and max are the smallest and the
	// largest of the minima and maxima of its halves, and those of a step
	// twice as long the same of its two steps. A driver that answers min
	// or max with another statistic (a backend that keeps averages only)
	// fails where the data vary, though min ≤ mean ≤ max holds. A driver
	// that refuses half the step (ErrInvalid, ErrUnsupported: finer than
	// its backend's resolution) is not checked on it.
	extremes := func(q provider.Query) (lo, hi provider.Series, err error) {
		q.Statistic = provider.StatMin
		if lo, err = src.QueryMetric(ctx, q); err != nil {
			return lo, hi, fmt.Errorf("%s: %w", queryCall(q), err)
		}
		q.Statistic = provider.StatMax
		if hi, err = src.QueryMetric(ctx, q); err != nil {
			return lo, hi, fmt.Errorf("%s: %w", queryCall(q), err)
		}
		return lo, hi, nil
	}
	if q.Step%2 == 0 {
		half := q
		half.Step /= 2
		flo, fhi, err := extremes(half)
		switch {
		case errors.Is(err, provider.ErrInvalid) || errors.Is(err, provider.ErrUnsupported):
			t.Logf("min and max at half the step (%s): %v (not checked)", half.Step, err)
		case err != nil:
			t.Errorf("min and max at half the step (%s): unexpected error: %v", half.Step, err)
		default:
			nested(t, "step %d: %s is %v, want %v, the %s of the %s of its halves (%s each)", half.Step, lo, hi, flo, fhi)
		}
	}
	// Twice the step over the whole pairs of whole steps only: with an
	// odd number of steps, or a partial last step, the last step of twice
	// the step would be a partial one, which a driver must end at End
	// (StepEnds checks that) but which would read past the range the
	// fixture holds if it did not; the statistics are checked on the
	// range alone. (Steps() counts a partial step: pairs of it would end
	// past End.)
	whole := int(q.End.Sub(q.Start) / q.Step)
	double := q
	double.Step *= 2
	double.End = q.Start.Add(time.Duration(whole/2) * double.Step)
	if !double.End.After(double.Start) {
		t.Logf("Subject.MetricQuery spans %d whole step: min and max at twice the step not checked", whole)
	} else if clo, chi, err := extremes(double); err != nil {
		t.Errorf("min and max at twice the step (%s): unexpected error: %v", double.Step, err)
	} else {
		nested(t, "step %d of twice the step: %s is %v, want %v, the %s of the %s of its steps (%s each)", q.Step, clo, chi, lo, hi)
	}
	// Count and last, where the driver has them (ErrUnsupported skips
	// one): count is a whole number ≥ 1 where the mean has data (a step
	// without samples is a gap, not a count of 0), last lies in [min,
	// max]; gaps where the mean has gaps. (Percentiles are not asked for:
	// moto, which the AWS driver's suite runs on, cannot compute them.)
	for _, st := range []provider.Statistic{provider.StatCount, provider.StatLast} {
		qq := q
		qq.Statistic = st
		got, err := src.QueryMetric(ctx, qq)
		if errors.Is(err, provider.ErrUnsupported) {
			t.Logf("statistic %s: %v (not checked)", st, err)
			continue
		}
		if err != nil {
			t.Errorf("statistic %s: %s: unexpected error: %v", st, queryCall(qq), err)
			continue
		}
		if got.Len() != mean.Len() {
			t.Errorf("statistic %s: %d values, mean has %d", st, got.Len(), mean.Len())
			continue
		}
		for i, v := range got.Values {
			m, a, b := mean.Values[i], lo.Values[i], hi.Values[i]
			const eps = 1e-9
			switch {
			case provider.IsGap(v) != provider.IsGap(m):
				t.Errorf("step %d: %s is %v, mean %v: a gap in one statistic but not another", i, st, v, m)
			case provider.IsGap(v):
			case st == provider.StatCount && (v < 1 || v != math.Trunc(v)):
				t.Errorf("step %d: count is %v, want a whole number of samples ≥ 1", i, v)
			case st != provider.StatCount && (v < a-eps*math.Max(1, math.Abs(a)) || v > b+eps*math.Max(1, math.Abs(b))):
				t.Errorf("step %d: %s is %v, outside [min, max] = [%v, %v]", i, st, v, a, b)
			}
		}
	}
}

// nested checks that the minima and maxima lo and hi, on a grid of steps
// each made of steps 2k and 2k+1 of the grid of flo and fhi (of step
// fine), are the smallest and largest of those; a step whose fine steps
// are all gaps is a gap. msg formats a failure from the step, the
// statistic, the value, the value wanted, "smallest" or "largest", "minima"
// or "maxima" and fine.
func nested(t *testing.T, msg string, fine time.Duration, lo, hi, flo, fhi provider.Series) {
	t.Helper()
	for _, x := range []struct {
		st            provider.Statistic
		got, parts    provider.Series
		which, plural string
		better        func(a, b float64) bool
	}{
		{provider.StatMin, lo, flo, "smallest", "minima", func(a, b float64) bool { return a < b }},
		{provider.StatMax, hi, fhi, "largest", "maxima", func(a, b float64) bool { return a > b }},
	} {
		first, bad := "", 0
		for k, v := range x.got.Values {
			want := math.NaN()
			for _, i := range []int{2 * k, 2*k + 1} {
				if i < x.parts.Len() && !provider.IsGap(x.parts.Values[i]) && (provider.IsGap(want) || x.better(x.parts.Values[i], want)) {
					want = x.parts.Values[i]
				}
			}
			const eps = 1e-9
			if provider.IsGap(v) != provider.IsGap(want) || !provider.IsGap(v) && math.Abs(v-want) > eps*math.Max(1, math.Abs(want)) {
				if bad == 0 {
					first = fmt.Sprintf(msg, k, x.st, v, want, x.which, x.plural, fine)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s (%d of %d steps differ)", first, bad, x.got.Len())
		}
	}
}

func testMetricsGaps(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	// A range long before the fixture's data holds nothing: gaps, not zeros.
	q.Start = q.Start.Add(-24 * 365 * time.Hour)
	q.End = q.Start.Add(4 * q.Step)
	got := must(src.QueryMetric(ctxOf(t), q))(t, "%s", queryCall(q))
	checkGrid(t, got, q)
	for i, v := range got.Values {
		if !provider.IsGap(v) {
			t.Errorf("step %d of a range without data = %v, want a gap (NaN)", i, v)
		}
	}
}

// testMetricsStepsStandAlone checks that value k of a series reduces the
// samples of step k alone: asked for that step only, QueryMetric returns
// the same value, or a gap where the series has one. A driver that carries
// a value over into a step without samples (forward fill, a lookback
// window), interpolates, or reduces windows other than the steps answers
// differently.
func testMetricsStepsStandAlone(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	ctx := ctxOf(t)
	whole := must(src.QueryMetric(ctx, q))(t, "%s", queryCall(q))
	checkGrid(t, whole, q)
	for k := range min(whole.Len(), q.Steps()) {
		one := q
		one.Start = whole.TimeAt(k)
		one.End = one.Start.Add(q.Step)
		if one.End.After(q.End) {
			one.End = q.End
		}
		got := must(src.QueryMetric(ctx, one))(t, "%s", queryCall(one))
		if got.Len() != 1 {
			t.Errorf("QueryMetric of step %d alone (%s to %s) = %d values, want 1", k, one.Start, one.End, got.Len())
			continue
		}
		a, b := whole.Values[k], got.Values[0]
		const eps = 1e-9
		if provider.IsGap(a) != provider.IsGap(b) || !provider.IsGap(a) && math.Abs(a-b) > eps*math.Max(1, math.Abs(a)) {
			t.Errorf("step %d (%s) = %v in the whole range but %v asked alone: a step's value must reduce its own samples only, a step without samples is a gap", k, one.Start, a, b)
		}
	}
}

// testMetricsHalfOpenSteps checks that a step holds the samples of
// [start, end), a sample on the boundary of two steps in the later one
// only: where the driver has count and answers half the step, a step's
// count is the sum of its halves' counts. A driver whose steps are closed
// ([start, end], as SQL's BETWEEN) counts a sample on a boundary in both
// steps around it, and its means and lasts take that sample twice.
func testMetricsHalfOpenSteps(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	if q.Step%2 != 0 {
		t.Skipf("Subject.MetricQuery's step %s has no half", q.Step)
	}
	ctx := ctxOf(t)
	q.Statistic = provider.StatCount
	whole, err := src.QueryMetric(ctx, q)
	if errors.Is(err, provider.ErrUnsupported) {
		t.Skipf("statistic count: %v", err)
	}
	noErr(t, err, "%s", queryCall(q))
	half := q
	half.Step /= 2
	parts, err := src.QueryMetric(ctx, half)
	if errors.Is(err, provider.ErrInvalid) || errors.Is(err, provider.ErrUnsupported) {
		t.Skipf("count at half the step (%s): %v", half.Step, err)
	}
	noErr(t, err, "%s", queryCall(half))
	first, bad := "", 0
	for k, v := range whole.Values {
		want := math.NaN()
		for _, i := range []int{2 * k, 2*k + 1} {
			if i < parts.Len() && !provider.IsGap(parts.Values[i]) {
				if provider.IsGap(want) {
					want = 0
				}
				want += parts.Values[i]
			}
		}
		if provider.IsGap(v) != provider.IsGap(want) || !provider.IsGap(v) && math.Abs(v-want) > 1e-9*math.Max(1, want) {
			if bad == 0 {
				first = fmt.Sprintf("step %d: count is %v, want %v, the sum of the counts of its halves (%s each)", k, v, want, half.Step)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s (%d of %d steps differ): a step holds the samples of [start, end), one on a boundary in the later step only", first, bad, whole.Len())
	}
}

// testMetricsStepEnds checks the ends of a step at Subject.FirstSample, a
// sample with none in the step before it: a step [FirstSample,
// FirstSample+Step) holds it (not a gap), a step [FirstSample−Step,
// FirstSample) does not (a gap), and neither does the same range asked
// with twice the step, one partial step that ends at the query's End. A
// source whose steps are (start, end] (a store queried with start < t ≤
// end) answers the two steps the other way round; one that reads a
// partial last step whole, past End, puts the sample in the last.
func testMetricsStepEnds(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	if s.FirstSample.IsZero() {
		t.Skip("Subject.FirstSample is not set")
	}
	ctx := ctxOf(t)
	at, before := q, q
	at.Start, at.End = s.FirstSample, s.FirstSample.Add(q.Step)
	before.Start, before.End = s.FirstSample.Add(-q.Step), s.FirstSample
	partial := before
	partial.Step *= 2
	got := must(src.QueryMetric(ctx, at))(t, "%s", queryCall(at))
	checkGrid(t, got, at)
	if got.Len() == 1 && provider.IsGap(got.Values[0]) {
		t.Errorf("%s = a gap; the step starts at FirstSample and must hold its sample: a step holds the samples of [start, end)", queryCall(at))
	}
	for _, qq := range []provider.Query{before, partial} {
		got := must(src.QueryMetric(ctx, qq))(t, "%s", queryCall(qq))
		checkGrid(t, got, qq)
		if got.Len() == 1 && !provider.IsGap(got.Values[0]) {
			t.Errorf("%s = %v, want a gap; the range ends at FirstSample, with no sample in the step before it: a step holds the samples of [start, end), a partial last step ends at End",
				queryCall(qq), got.Values[0])
		}
	}
}

// testMetricNotHeld checks a metric the source does not have for the
// resource (a custom metric nobody publishes): ErrUnsupported or a series
// of gaps on the query's grid, never zeros, and never ErrNotFound, which
// says that the resource does not exist.
func testMetricNotHeld(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	q.Metric = provider.CustomMetric("IdlescaleProvidertest/absent")
	got, err := src.QueryMetric(ctxOf(t), q)
	if errors.Is(err, provider.ErrUnsupported) {
		return
	}
	if err != nil {
		t.Fatalf("QueryMetric(%s) = %v; a metric the source does not have is ErrUnsupported or a series of gaps", q.Metric, err)
	}
	checkGrid(t, got, q)
	if got.Coverage() != 0 {
		t.Errorf("QueryMetric(%s) = %v; a metric the source does not have is ErrUnsupported or a series of gaps", q.Metric, got.Values)
	}
}

func testMetricsErrors(t *testing.T, s Subject) {
	src, q := metricsSource(t, s)
	ctx := ctxOf(t)
	bad := map[string]provider.Query{}
	qq := q
	qq.Step = 0
	bad["step 0"] = qq
	qq = q
	qq.End = q.Start
	bad["end = start"] = qq
	qq = q
	qq.Metric = "no_such_metric"
	bad["unknown metric"] = qq
	qq = q
	qq.Statistic = "p100"
	bad["statistic p100"] = qq
	qq = q
	qq.ResourceID = ""
	bad["empty resource"] = qq
	qq = q
	qq.ResourceID = "has space"
	bad["malformed resource"] = qq
	qq = q
	qq.End = q.Start.Add(-q.Step)
	bad["end before start"] = qq
	qq = q
	qq.Start = time.Time{}
	bad["zero start"] = qq
	qq = q
	qq.Statistic = "p0"
	bad["statistic p0"] = qq
	qq = q
	qq.Step = time.Nanosecond
	qq.End = q.Start.Add(provider.MaxQueryPoints + 1)
	bad["more than MaxQueryPoints steps"] = qq
	for name, bq := range bad {
		_, err := src.QueryMetric(ctx, bq)
		wantErr(t, err, provider.ErrInvalid, "QueryMetric with "+name)
	}
	qq = q
	qq.ResourceID = unknownID
	_, err := src.QueryMetric(ctx, qq)
	wantErr(t, err, provider.ErrNotFound, "QueryMetric(unknown resource)")
}

func actuator(t *testing.T, s Subject) provider.Actuator {
	t.Helper()
	a, ok := s.Provider.(provider.Actuator)
	if !ok {
		t.Skip("driver does not implement provider.Actuator")
	}
	if s.Settle == nil {
		t.Fatal("providertest: Subject.Settle is required for an Actuator")
	}
	return a
}

func state(t *testing.T, s Subject, id string) provider.State {
	t.Helper()
	return must(s.Provider.Get(ctxOf(t), id))(t, "Get(%q)", id).State
}

func testStopStart(t *testing.T, s Subject) {
	a := actuator(t, s)
	ctx := ctxOf(t)
	id := s.Instances[0]
	noErr(t, a.Stop(ctx, id), "Stop(%q)", id)
	if st := state(t, s, id); st != provider.StateStopping && st != provider.StateStopped {
		t.Errorf("after Stop, state = %s, want stopping or stopped", st)
	}
	// The other instance is checked while this one is stopped too: a
	// Start that starts it again would hide a Stop that stopped it.
	alone(t, s, s.Instances[1], "Stop and Start act on the resource they name alone", "after Stop(%q)", id)
	noErr(t, a.Stop(ctx, id), "Stop(%q) again, idempotent while stopping", id)
	noErr(t, s.Settle(ctx), "Settle")
	if st := state(t, s, id); st != provider.StateStopped {
		t.Errorf("after Stop and Settle, state = %s, want stopped", st)
	}
	alone(t, s, s.Instances[1], "Stop and Start act on the resource they name alone", "after Stop(%q) and Settle", id)
	noErr(t, a.Stop(ctx, id), "Stop(%q) again, idempotent when stopped", id)
	noErr(t, a.Start(ctx, id), "Start(%q)", id)
	if st := state(t, s, id); st != provider.StatePending && st != provider.StateRunning {
		t.Errorf("after Start, state = %s, want pending or running", st)
	}
	noErr(t, a.Start(ctx, id), "Start(%q) again, idempotent while pending", id)
	noErr(t, s.Settle(ctx), "Settle")
	if st := state(t, s, id); st != provider.StateRunning {
		t.Errorf("after Start and Settle, state = %s, want running", st)
	}
	noErr(t, a.Start(ctx, id), "Start(%q) again, idempotent when running", id)
	if st := state(t, s, s.Instances[1]); st != provider.StateRunning {
		t.Errorf("stopping %q changed %q to %s", id, s.Instances[1], st)
	}
}

// alone checks that the fixture instance other is running after a call
// on another resource (when, formatted with args, names the call), and
// fails naming the rule otherwise.
func alone(t *testing.T, s Subject, other, rule, when string, args ...any) {
	t.Helper()
	if st := state(t, s, other); st != provider.StateRunning {
		t.Errorf("%s, %q is %s, want running: %s", fmt.Sprintf(when, args...), other, st, rule)
	}
}

func testTerminate(t *testing.T, s Subject) {
	a := actuator(t, s)
	ctx := ctxOf(t)
	id := s.Instances[1]
	noErr(t, a.Terminate(ctx, id), "Terminate(%q)", id)
	noErr(t, s.Settle(ctx), "Settle")
	if st := state(t, s, id); st != provider.StateTerminated {
		t.Errorf("after Terminate and Settle, state = %s, want terminated", st)
	}
	alone(t, s, s.Instances[0], "Terminate acts on the resource it names alone", "after Terminate(%q)", id)
	noErr(t, a.Terminate(ctx, id), "Terminate(%q) again, idempotent", id)
	wantErr(t, a.Start(ctx, id), provider.ErrConflict, "Start(terminated)")
	wantErr(t, a.Stop(ctx, id), provider.ErrConflict, "Stop(terminated)")
	noErr(t, s.Settle(ctx), "Settle")
	if st := state(t, s, id); st != provider.StateTerminated {
		t.Errorf("after a refused Start and Stop of a terminated instance, state = %s, want terminated", st)
	}
}

func testTerminateVolume(t *testing.T, s Subject) {
	if s.AttachedVolume == "" && s.DetachedVolume == "" {
		t.Skip("no AttachedVolume or DetachedVolume in the fixture")
	}
	a := actuator(t, s)
	ctx := ctxOf(t)
	if id := s.AttachedVolume; id != "" {
		if st := state(t, s, id); st != provider.StateRunning {
			t.Fatalf("attached volume %q: state = %s, want running", id, st)
		}
		wantErr(t, a.Terminate(ctx, id), provider.ErrConflict, "Terminate(attached volume)")
		noErr(t, s.Settle(ctx), "Settle")
		if st := state(t, s, id); st != provider.StateRunning {
			t.Errorf("after a refused Terminate of an attached volume, state = %s, want running", st)
		}
	}
	if id := s.DetachedVolume; id != "" {
		if st := state(t, s, id); st != provider.StateStopped {
			t.Fatalf("detached volume %q: state = %s, want stopped", id, st)
		}
		noErr(t, a.Terminate(ctx, id), "Terminate(%q)", id)
		noErr(t, s.Settle(ctx), "Settle")
		r, err := s.Provider.Get(ctx, id)
		gone := errors.Is(err, provider.ErrNotFound) // EBS forgets a deleted volume at once
		switch {
		case gone:
		case err != nil:
			t.Errorf("Get(%q) after Terminate: %v", id, err)
		case r.State != provider.StateTerminated:
			t.Errorf("after Terminate and Settle, volume state = %s, want terminated (or not found)", r.State)
		}
		// Idempotent: nothing to do, and nothing changed; a volume the
		// driver no longer finds may say so (ErrNotFound, which is
		// untouched by the provider contract).
		if err := a.Terminate(ctx, id); err != nil && (!gone || !errors.Is(err, provider.ErrNotFound)) {
			t.Errorf("Terminate(%q) again: %v, want nil (or, gone, one matching not found)", id, err)
		}
	}
}

// testCheckers checks provider.StopChecker and provider.TerminateChecker
// against the calls they answer for, on every resource the fixture names
// (its instances, group, resize target, volumes, backup and query
// resources: the suite acts on the fixture's resources only, never on
// others a shared backend lists):
// a check that refuses must match provider.ErrUnsupported, and then the
// call must refuse too (ErrUnsupported) and change nothing; a check that
// allows must be followed by a call that does not answer ErrUnsupported
// (it may still refuse for the state, ErrConflict), and the suite's
// instances, which it stops and terminates, must be allowed. A checker
// that allows what the call refuses sends a person to approve an action
// that cannot happen; one that refuses what the call does keeps a reaper
// from acting.
func testCheckers(t *testing.T, s Subject) {
	sc, canStop := s.Provider.(provider.StopChecker)
	tc, canTerminate := s.Provider.(provider.TerminateChecker)
	if !canStop && !canTerminate {
		t.Skip("driver implements neither provider.StopChecker nor provider.TerminateChecker")
	}
	a := actuator(t, s)
	ctx := ctxOf(t)
	type checked struct {
		name  string
		check func(provider.Resource) error
		call  func(context.Context, string) error
	}
	var checks []checked
	if canStop {
		checks = append(checks, checked{"Stop", sc.CanStop, a.Stop})
	}
	if canTerminate {
		checks = append(checks, checked{"Terminate", tc.CanTerminate, a.Terminate})
	}
	var ids []string
	for _, id := range append(slices.Clone(s.Instances), s.Group, s.ResizeID, s.AttachedVolume, s.DetachedVolume,
		s.BackupID, s.MetricQuery.ResourceID, s.ActivityQuery.ResourceID) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, c := range checks {
		for _, id := range ids {
			r, err := s.Provider.Get(ctx, id)
			if errors.Is(err, provider.ErrNotFound) || err == nil && r.State == provider.StateTerminated {
				continue // gone with an instance terminated before it (a root volume)
			}
			noErr(t, err, "Get(%q)", id)
			refused := c.check(r)
			if refused != nil && !errors.Is(refused, provider.ErrUnsupported) {
				t.Errorf("Can%s(%q): %v, want nil or an error matching %v", c.name, r.ID, refused, provider.ErrUnsupported)
				continue
			}
			if refused != nil && slices.Contains(s.Instances, r.ID) {
				t.Errorf("Can%s(%q) refuses a fixture instance the suite's %s acts on: %v", c.name, r.ID, c.name, refused)
				continue
			}
			err = c.call(ctx, r.ID)
			switch {
			case refused != nil && !errors.Is(err, provider.ErrUnsupported):
				t.Errorf("Can%s(%q) refuses (%v), but %s answers %v, want one matching %v", c.name, r.ID, refused, c.name, err, provider.ErrUnsupported)
			case refused != nil:
				noErr(t, s.Settle(ctx), "Settle")
				if st := state(t, s, r.ID); st != r.State {
					t.Errorf("after a %s refused as unsupported, %q is %s, want %s as listed", c.name, r.ID, st, r.State)
				}
			case errors.Is(err, provider.ErrUnsupported):
				t.Errorf("Can%s(%q) allows it, but %s refuses it: %v (a person would be asked to approve what cannot happen)", c.name, r.ID, c.name, err)
			}
		}
	}
}

func testActuatorErrors(t *testing.T, s Subject) {
	a := actuator(t, s)
	ctx := ctxOf(t)
	for name, fn := range map[string]func(context.Context, string) error{"Start": a.Start, "Stop": a.Stop, "Terminate": a.Terminate} {
		wantErr(t, fn(ctx, unknownID), provider.ErrNotFound, name+"(unknown)")
		wantErr(t, fn(ctx, ""), provider.ErrInvalid, name+`("")`)
	}
}

func scaler(t *testing.T, s Subject) provider.Scaler {
	t.Helper()
	sc, ok := s.Provider.(provider.Scaler)
	if !ok {
		t.Skip("driver does not implement provider.Scaler")
	}
	if s.Group == "" {
		t.Skip("Subject.Group is not set")
	}
	if s.Settle == nil {
		t.Fatal("providertest: Subject.Settle is required for a Scaler")
	}
	return sc
}

func testSetCapacity(t *testing.T, s Subject) {
	sc := scaler(t, s)
	ctx := ctxOf(t)
	before := must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group)
	if err := before.Validate(); err != nil {
		t.Fatalf("Capacity(%q) = %+v is invalid: %v", s.Group, before, err)
	}
	if before.Desired+1 > before.Max {
		t.Fatalf("providertest: group %q needs max ≥ desired+1, has %+v", s.Group, before.CapacitySpec)
	}
	want := before.CapacitySpec
	want.Desired++
	noErr(t, sc.SetCapacity(ctx, s.Group, want), "SetCapacity(%q, %+v)", s.Group, want)
	got := must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group)
	if got.CapacitySpec != want {
		t.Errorf("after SetCapacity(%+v), spec = %+v", want, got.CapacitySpec)
	}
	noErr(t, s.Settle(ctx), "Settle")
	got = must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group)
	if got.Current != want.Desired || got.Ready != want.Desired {
		t.Errorf("after Settle, current/ready = %d/%d, want %d/%d", got.Current, got.Ready, want.Desired, want.Desired)
	}
	// Back down, and raise the bounds in the same call.
	want = provider.CapacitySpec{Min: 0, Max: before.Max + 1, Desired: before.Desired}
	noErr(t, sc.SetCapacity(ctx, s.Group, want), "SetCapacity(%q, %+v)", s.Group, want)
	noErr(t, s.Settle(ctx), "Settle")
	settled(t, sc, s.Group, want, "after scaling in")
	// To zero and up again from there, as an autoscaler that scales in to
	// zero when idle and out when the load returns does.
	zero := provider.CapacitySpec{Min: 0, Max: want.Max, Desired: 0}
	noErr(t, sc.SetCapacity(ctx, s.Group, zero), "SetCapacity(%q, %+v)", s.Group, zero)
	noErr(t, s.Settle(ctx), "Settle")
	settled(t, sc, s.Group, zero, "after scaling in to zero")
	if err := sc.SetCapacity(ctx, s.Group, want); err != nil {
		t.Fatalf("SetCapacity(%+v) from zero: %v", want, err)
	}
	noErr(t, s.Settle(ctx), "Settle")
	settled(t, sc, s.Group, want, "after scaling out from zero")
}

// settled checks that group's capacity is valid and settled at spec
// (Capacity.Settled: every desired instance present and ready), as a
// scaling engine verifies a change it made.
func settled(t *testing.T, sc provider.Scaler, group string, spec provider.CapacitySpec, when string) {
	t.Helper()
	got := must(sc.Capacity(ctxOf(t), group))(t, "Capacity(%q)", group)
	if err := got.Validate(); err != nil {
		t.Errorf("%s, Capacity(%q) = %+v is invalid: %v", when, group, got, err)
	}
	if got.CapacitySpec != spec || !got.Settled() {
		t.Errorf("%s and Settle, capacity = %+v, want spec %+v with current and ready %d", when, got, spec, spec.Desired)
	}
}

func testScalerErrors(t *testing.T, s Subject) {
	sc := scaler(t, s)
	ctx := ctxOf(t)
	before := must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group)
	for name, spec := range map[string]provider.CapacitySpec{
		"min > max":           {Min: 3, Max: 2, Desired: 2},
		"negative min":        {Min: -1, Max: 2, Desired: 1},
		"desired above max":   {Min: 0, Max: 2, Desired: 3},
		"desired below min":   {Min: 2, Max: 4, Desired: 1},
		"negative everything": {Min: -3, Max: -2, Desired: -2},
	} {
		wantErr(t, sc.SetCapacity(ctx, s.Group, spec), provider.ErrInvalid, "SetCapacity "+name)
	}
	after := must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group)
	if after.CapacitySpec != before.CapacitySpec {
		t.Errorf("rejected SetCapacity calls changed the spec from %+v to %+v", before.CapacitySpec, after.CapacitySpec)
	}
	_, err := sc.Capacity(ctx, unknownID)
	wantErr(t, err, provider.ErrNotFound, "Capacity(unknown)")
	_, err = sc.Capacity(ctx, "")
	wantErr(t, err, provider.ErrInvalid, `Capacity("")`)
	wantErr(t, sc.SetCapacity(ctx, "", provider.CapacitySpec{Min: 0, Max: 1, Desired: 1}), provider.ErrInvalid, `SetCapacity("")`)
	wantErr(t, sc.SetCapacity(ctx, unknownID, provider.CapacitySpec{Min: 0, Max: 1, Desired: 1}), provider.ErrNotFound, "SetCapacity(unknown)")
	_, err = sc.Capacity(ctx, s.Instances[0])
	wantErr(t, err, provider.ErrUnsupported, "Capacity(instance)")
	wantErr(t, sc.SetCapacity(ctx, s.Instances[0], provider.CapacitySpec{Min: 0, Max: 1, Desired: 1}), provider.ErrUnsupported, "SetCapacity(instance)")
	if after := must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group); after.CapacitySpec != before.CapacitySpec {
		t.Errorf("refused SetCapacity calls changed the spec from %+v to %+v", before.CapacitySpec, after.CapacitySpec)
	}
}

func resizer(t *testing.T, s Subject) provider.Resizer {
	t.Helper()
	rz, ok := s.Provider.(provider.Resizer)
	if !ok {
		t.Skip("driver does not implement provider.Resizer")
	}
	if s.ResizeID == "" {
		t.Skip("Subject.ResizeID is not set")
	}
	return rz
}

func testResize(t *testing.T, s Subject) {
	rz := resizer(t, s)
	ctx := ctxOf(t)
	noErr(t, rz.Resize(ctx, s.ResizeID, s.ValidSize), "Resize(%q, %s)", s.ResizeID, sizeFields(s.ValidSize))
	got := must(s.Provider.Get(ctx, s.ResizeID))(t, "Get(%q)", s.ResizeID).Size
	if s.ValidSize.InstanceType != "" && got.InstanceType != s.ValidSize.InstanceType {
		t.Errorf("after Resize, instance type = %q, want %q", got.InstanceType, s.ValidSize.InstanceType)
	}
	if s.ValidSize.MemoryMiB != 0 && s.ValidSize.InstanceType == "" && got.MemoryMiB != s.ValidSize.MemoryMiB {
		t.Errorf("after Resize, memory = %d MiB, want %d", got.MemoryMiB, s.ValidSize.MemoryMiB)
	}
	// The vCPUs too, as the scaling engine verifies a resize: without an
	// instance type, which decides them.
	if s.ValidSize.VCPU != 0 && s.ValidSize.InstanceType == "" && got.VCPU != s.ValidSize.VCPU {
		t.Errorf("after Resize, vcpu = %g, want %g", got.VCPU, s.ValidSize.VCPU)
	}
	if s.ValidSize.Timeout != 0 && got.Timeout != s.ValidSize.Timeout {
		t.Errorf("after Resize, timeout = %s, want %s", got.Timeout, s.ValidSize.Timeout)
	}
	noErr(t, rz.Resize(ctx, s.ResizeID, s.ValidSize), "Resize(%q, %s) again, the same size: no change, no error", s.ResizeID, sizeFields(s.ValidSize))
}

func testResizeErrors(t *testing.T, s Subject) {
	rz := resizer(t, s)
	ctx := ctxOf(t)
	res := must(s.Provider.Get(ctx, s.ResizeID))(t, "Get(%q)", s.ResizeID)
	before := res.Size
	wantErr(t, rz.Resize(ctx, s.ResizeID, s.InvalidSize), provider.ErrInvalid, "Resize(InvalidSize)")
	// A size valid on its own with a field the resource's kind does not
	// have (Size.ValidateFor): refused, not ignored.
	other := s.ValidSize
	if res.Kind == provider.KindFunction {
		other.InstanceType = "m5.large"
	} else {
		other.Timeout = time.Minute
	}
	if other.Validate() == nil && other.ValidateFor(res.Kind) != nil {
		wantErr(t, rz.Resize(ctx, s.ResizeID, other), provider.ErrInvalid, fmt.Sprintf("Resize(%s) of a %s", sizeFields(other), res.Kind))
	}
	wantErr(t, rz.Resize(ctx, s.ResizeID, provider.Size{}), provider.ErrInvalid, "Resize(zero size)")
	wantErr(t, rz.Resize(ctx, s.ResizeID, provider.Size{VCPU: math.NaN()}), provider.ErrInvalid, "Resize(NaN vCPU)")
	wantErr(t, rz.Resize(ctx, s.ResizeID, provider.Size{MemoryMiB: -1}), provider.ErrInvalid, "Resize(negative memory)")
	if after := must(s.Provider.Get(ctx, s.ResizeID))(t, "Get(%q)", s.ResizeID).Size; after != before {
		t.Errorf("rejected Resize calls changed the size from %s to %s", sizeFields(before), sizeFields(after))
	}
	wantErr(t, rz.Resize(ctx, unknownID, s.ValidSize), provider.ErrNotFound, "Resize(unknown)")
	wantErr(t, rz.Resize(ctx, "", s.ValidSize), provider.ErrInvalid, `Resize("")`)
}

func testBackups(t *testing.T, s Subject) {
	bc, ok := s.Provider.(provider.BackupCatalog)
	if !ok {
		t.Skip("driver does not implement provider.BackupCatalog")
	}
	if s.BackupID == "" {
		t.Skip("Subject.BackupID is not set")
	}
	ctx := ctxOf(t)
	all := must(bc.Backups(ctx, s.BackupID, time.Time{}))(t, "Backups(%q, since %s)", s.BackupID, time.Time{})
	if len(all) == 0 {
		t.Fatalf("Backups(%q) is empty; the fixture says it has backups", s.BackupID)
	}
	for i, b := range all {
		if err := b.Validate(); err != nil {
			t.Errorf("Backups returned an invalid backup %+v: %v", b, err)
		}
		if b.ResourceID != s.BackupID {
			t.Errorf("backup %q is of %q, want %q", b.ID, b.ResourceID, s.BackupID)
		}
		if i > 0 && b.Time.After(all[i-1].Time) {
			t.Errorf("Backups must be newest first; %s after %s", b.Time, all[i-1].Time)
		}
	}
	newest := all[0].Time
	recent := must(bc.Backups(ctx, s.BackupID, newest))(t, "Backups(%q, since %s)", s.BackupID, newest)
	if len(recent) == 0 || !recent[0].Time.Equal(newest) {
		t.Errorf("Backups(since=newest) = %v, want the newest backup", recent)
	}
	none := must(bc.Backups(ctx, s.BackupID, newest.Add(time.Hour)))(t, "Backups(%q, since %s)", s.BackupID, newest.Add(time.Hour))
	if len(none) != 0 {
		t.Errorf("Backups(since after the newest) = %v, want none", none)
	}
	_, err := bc.Backups(ctx, unknownID, time.Time{})
	wantErr(t, err, provider.ErrNotFound, "Backups(unknown)")
	_, err = bc.Backups(ctx, "", time.Time{})
	wantErr(t, err, provider.ErrInvalid, `Backups("")`)
}

func testActivity(t *testing.T, s Subject) {
	as, ok := s.Provider.(provider.ActivitySource)
	if !ok {
		t.Skip("driver does not implement provider.ActivitySource")
	}
	if s.ActivityQuery.ResourceID == "" {
		t.Skip("Subject.ActivityQuery is not set")
	}
	ctx := ctxOf(t)
	got := must(as.Activity(ctx, s.ActivityQuery))(t, "%s", activityCall(s.ActivityQuery))
	if len(got) == 0 {
		t.Fatalf("Activity(%+v) is empty; the fixture says it has activity", s.ActivityQuery)
	}
	var total float64
	for i, a := range got {
		if err := a.Validate(); err != nil {
			t.Errorf("invalid activity count %+v: %v", a, err)
		}
		if i > 0 && strings.Compare(string(got[i-1].Kind), string(a.Kind)) >= 0 {
			t.Errorf("Activity must be sorted by kind without repeats; %s then %s", got[i-1].Kind, a.Kind)
		}
		q := s.ActivityQuery
		if !a.Last.IsZero() && (a.Last.Before(q.Start) || !a.Last.Before(q.End)) {
			t.Errorf("Activity %s: last event at %s, outside the window [%s, %s)", a.Kind, a.Last, q.Start, q.End)
		}
		if !a.Last.IsZero() && a.Count == 0 {
			t.Errorf("Activity %s: no events, but the last at %s (Last is zero when there was none in the window)", a.Kind, a.Last)
		}
		if a.Since.After(q.End) {
			t.Errorf("Activity %s: counted since %s, after the window's end %s", a.Kind, a.Since, q.End)
		}
		if !a.Last.IsZero() && a.Last.Before(a.Since) {
			t.Errorf("Activity %s: last event at %s, before the count begins (Since %s)", a.Kind, a.Last, a.Since)
		}
		total += a.Count
	}
	if total == 0 {
		t.Errorf("Activity(%+v) counted nothing; the fixture says it has activity", s.ActivityQuery)
	}
	// A window of the same length a year before holds none of the
	// fixture's events: a count that covers it (not absent) is 0, with
	// no last event. A source that counts outside the window (all the
	// events it keeps) would read a resource as used that was not.
	early := s.ActivityQuery
	early.Start = early.Start.AddDate(-1, 0, 0)
	early.End = early.End.AddDate(-1, 0, 0)
	if early.End.After(s.ActivityQuery.Start) {
		early.End, early.Start = s.ActivityQuery.Start, s.ActivityQuery.Start.Add(-s.ActivityQuery.End.Sub(s.ActivityQuery.Start))
	}
	before, err := as.Activity(ctx, early)
	noErr(t, err, "%s", activityCall(early))
	for _, a := range before {
		if a.Count != 0 || !a.Last.IsZero() {
			t.Errorf("%s: %s counted %v (last %s); the window holds none of the fixture's events: a count holds the events of [Start, End) only",
				activityCall(early), a.Kind, a.Count, a.Last)
		}
	}
	bad := s.ActivityQuery
	bad.End = bad.Start
	_, err = as.Activity(ctx, bad)
	wantErr(t, err, provider.ErrInvalid, "Activity(end = start)")
	unknown := s.ActivityQuery
	unknown.ResourceID = unknownID
	_, err = as.Activity(ctx, unknown)
	wantErr(t, err, provider.ErrNotFound, "Activity(unknown)")
	unknown.ResourceID = ""
	_, err = as.Activity(ctx, unknown)
	wantErr(t, err, provider.ErrInvalid, `Activity("")`)
}

func testCancelled(t *testing.T, s Subject) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	id := s.Instances[0]
	calls := map[string]error{}
	_, calls["List"] = s.Provider.List(ctx, provider.Filter{})
	// By IDs too: a driver may look a few IDs up on another path than a
	// scan (the memory cloud and synth.Fleet do).
	_, calls["List(IDs)"] = s.Provider.List(ctx, provider.Filter{IDs: []string{id}})
	_, calls["Get"] = s.Provider.Get(ctx, id)
	if src, ok := s.Provider.(provider.MetricsSource); ok && s.MetricQuery.ResourceID != "" {
		_, calls["QueryMetric"] = src.QueryMetric(ctx, s.MetricQuery)
	}
	a, isActuator := s.Provider.(provider.Actuator)
	if isActuator {
		calls["Stop"] = a.Stop(ctx, id)
		calls["Terminate"] = a.Terminate(ctx, s.Instances[1])
	}
	sc, isScaler := s.Provider.(provider.Scaler)
	var spec provider.CapacitySpec
	if isScaler && s.Group != "" {
		_, calls["Capacity"] = sc.Capacity(ctx, s.Group)
		spec = must(sc.Capacity(ctxOf(t), s.Group))(t, "Capacity(%q)", s.Group).CapacitySpec
		grown := spec
		grown.Max++
		grown.Desired++
		calls["SetCapacity"] = sc.SetCapacity(ctx, s.Group, grown)
	}
	rz, isResizer := s.Provider.(provider.Resizer)
	var size provider.Size
	if isResizer && s.ResizeID != "" {
		size = must(s.Provider.Get(ctxOf(t), s.ResizeID))(t, "Get(%q)", s.ResizeID).Size
		calls["Resize"] = rz.Resize(ctx, s.ResizeID, s.ValidSize)
	}
	if bc, ok := s.Provider.(provider.BackupCatalog); ok && s.BackupID != "" {
		_, calls["Backups"] = bc.Backups(ctx, s.BackupID, time.Time{})
	}
	if as, ok := s.Provider.(provider.ActivitySource); ok && s.ActivityQuery.ResourceID != "" {
		_, calls["Activity"] = as.Activity(ctx, s.ActivityQuery)
	}
	for name, err := range calls {
		wantErr(t, err, context.Canceled, name+" with a cancelled context")
	}
	// A call that ended with the context changed nothing.
	if isActuator {
		if st := state(t, s, id); st != provider.StateRunning {
			t.Errorf("Stop with a cancelled context changed the state to %s", st)
		}
		if st := state(t, s, s.Instances[1]); st != provider.StateRunning {
			t.Errorf("Terminate with a cancelled context changed the state to %s", st)
		}
		// Start of a stopped instance, where a Start would change
		// something (of a running one it changes nothing anyway).
		if s.Settle == nil {
			t.Fatal("providertest: Subject.Settle is required for an Actuator")
		}
		live := ctxOf(t)
		noErr(t, a.Stop(live, id), "Stop(%q)", id)
		noErr(t, s.Settle(live), "Settle")
		if st := state(t, s, id); st != provider.StateStopped {
			t.Fatalf("after Stop(%q) and Settle, state = %s, want stopped", id, st)
		}
		wantErr(t, a.Start(ctx, id), context.Canceled, "Start with a cancelled context")
		noErr(t, s.Settle(live), "Settle")
		if st := state(t, s, id); st != provider.StateStopped {
			t.Errorf("Start with a cancelled context changed the state to %s", st)
		}
	}
	if isScaler && s.Group != "" {
		if got := must(sc.Capacity(ctxOf(t), s.Group))(t, "Capacity(%q)", s.Group).CapacitySpec; got != spec {
			t.Errorf("SetCapacity with a cancelled context changed the spec from %+v to %+v", spec, got)
		}
	}
	if isResizer && s.ResizeID != "" {
		if got := must(s.Provider.Get(ctxOf(t), s.ResizeID))(t, "Get(%q)", s.ResizeID).Size; got != size {
			t.Errorf("Resize with a cancelled context changed the size from %s to %s", sizeFields(size), sizeFields(got))
		}
	}
}

func testConcurrent(t *testing.T, s Subject) {
	ctx := ctxOf(t)
	src, hasMetrics := s.Provider.(provider.MetricsSource)
	a, hasActuator := s.Provider.(provider.Actuator)
	rb, hasBatch := s.Provider.(provider.ResourceBatcher)
	const workers, rounds, callsPerRound = 8, 3, 6
	var wg sync.WaitGroup
	// Room for every call to fail, so that a broken driver fails the test
	// instead of blocking the workers.
	errs := make(chan error, workers*rounds*callsPerRound)
	for w := range workers {
		wg.Go(func() {
			for range rounds {
				if _, err := s.Provider.List(ctx, provider.Filter{}); err != nil {
					errs <- fmt.Errorf("list: %w", err)
				}
				if _, err := s.Provider.Get(ctx, s.Instances[w%len(s.Instances)]); err != nil {
					errs <- fmt.Errorf("get: %w", err)
				}
				if hasMetrics && s.MetricQuery.ResourceID != "" {
					if _, err := src.QueryMetric(ctx, s.MetricQuery); err != nil {
						errs <- fmt.Errorf("query metric: %w", err)
					}
				}
				if hasBatch {
					reads := []provider.ResourceRead{{ID: s.Instances[w%len(s.Instances)]}, {ID: s.Instances[(w+1)%len(s.Instances)]}}
					if err := rb.GetResources(ctx, reads); err != nil {
						errs <- fmt.Errorf("get resources: %w", err)
					} else {
						errs <- errors.Join(reads[0].Err, reads[1].Err)
					}
				}
				if hasActuator && w == 0 {
					if err := a.Stop(ctx, s.Instances[0]); err != nil {
						errs <- fmt.Errorf("stop: %w", err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent use: %v", err)
		}
	}
}

func idsOf(rs []provider.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// testBatchResources checks a ResourceBatcher: every read answered in
// place as Get answers it (every field ChangedFrom compares, and the
// state), an unknown or invalid ID failing that read
// alone, repeated IDs allowed. The IDs are in no order (nor its reverse),
// so that a driver that answers them in another order fails. The group
// and the resource to resize are read too: the scaling Autoscaler reads
// its targets so, and plans no change of a group whose ScaledBy names
// another autoscaler, which a batch that reads groups otherwise than Get
// (without their scaling policies) would lose.
func testBatchResources(t *testing.T, s Subject) {
	b, ok := s.Provider.(provider.ResourceBatcher)
	if !ok {
		t.Skip("driver does not implement provider.ResourceBatcher")
	}
	ctx := ctxOf(t)
	ids := []string{s.Instances[1], unknownID, s.Instances[0], "", s.Instances[1]}
	ids = append(ids, fixtureIDs(s)[len(s.Instances):]...) // the group and the resource to resize
	ids = append(ids, s.Instances[0])
	reads := make([]provider.ResourceRead, len(ids))
	for i, id := range ids {
		reads[i] = provider.ResourceRead{ID: id, Err: errors.New("stale: the batch must clear it")}
	}
	noErr(t, b.GetResources(ctx, reads), "GetResources(%d reads of %q)", len(reads), ids)
	for i, r := range reads {
		if r.ID != ids[i] {
			t.Errorf("read %d: ID changed from %q to %q", i, ids[i], r.ID)
		}
		switch ids[i] {
		case unknownID:
			wantErr(t, r.Err, provider.ErrNotFound, fmt.Sprintf("read %d (unknown ID)", i))
		case "":
			wantErr(t, r.Err, provider.ErrInvalid, fmt.Sprintf("read %d (empty ID)", i))
		default:
			if r.Err != nil {
				t.Errorf("read %d (%q): %v", i, ids[i], r.Err)
				continue
			}
			want := must(s.Provider.Get(ctx, ids[i]))(t, "Get(%q)", ids[i])
			if r.Resource.ID != want.ID || r.Resource.Kind != want.Kind || r.Resource.State != want.State {
				t.Errorf("read %d = %s %s %s, Get says %s %s %s", i, r.Resource.ID, r.Resource.Kind, r.Resource.State, want.ID, want.Kind, want.State)
			} else if diff := r.Resource.ChangedFrom(want); len(diff) > 0 {
				t.Errorf("read %d (%q) differs from what Get returns in %v", i, ids[i], diff)
			}
		}
	}
	// Each pair of reads of one resource with tags: Instances[1] need
	// carry none (Instances[0] alone carries Tag), so both instances'.
	for _, pair := range [][2]int{{0, 4}, {2, len(reads) - 1}} {
		a, b := reads[pair[0]], reads[pair[1]]
		if a.Err != nil || b.Err != nil || a.Resource.Tags == nil {
			continue
		}
		a.Resource.Tags["providertest-mutated"] = "yes"
		_, shared := b.Resource.Tags["providertest-mutated"]
		delete(a.Resource.Tags, "providertest-mutated")
		if shared {
			t.Errorf("reads %d and %d (%q): two reads of one resource share their tags: each read must be a copy", pair[0], pair[1], a.ID)
		}
	}
	noErr(t, b.GetResources(ctx, nil), "GetResources(nil)")
	noErr(t, b.GetResources(ctx, []provider.ResourceRead{}), "GetResources(no reads)")
}

// testBatchCapacities checks a CapacityBatcher: every read answered in
// place as Capacity answers it, an unknown ID (ErrNotFound), an empty one
// (ErrInvalid) or an instance (ErrUnsupported) failing that read alone.
func testBatchCapacities(t *testing.T, s Subject) {
	b, ok := s.Provider.(provider.CapacityBatcher)
	if !ok {
		t.Skip("driver does not implement provider.CapacityBatcher")
	}
	sc := scaler(t, s)
	ctx := ctxOf(t)
	ids := []string{s.Group, unknownID, s.Instances[0], "", s.Group}
	reads := make([]provider.CapacityRead, len(ids))
	for i, id := range ids {
		reads[i] = provider.CapacityRead{ID: id, Err: errors.New("stale: the batch must clear it")}
	}
	noErr(t, b.GetCapacities(ctx, reads), "GetCapacities(%d reads)", len(reads))
	want := must(sc.Capacity(ctx, s.Group))(t, "Capacity(%q)", s.Group)
	for _, i := range []int{0, 4} {
		if reads[i].Err != nil || reads[i].Capacity != want {
			t.Errorf("read %d (%q) = %+v, %v; Capacity says %+v", i, s.Group, reads[i].Capacity, reads[i].Err, want)
		}
	}
	wantErr(t, reads[1].Err, provider.ErrNotFound, "read 1 (unknown ID)")
	wantErr(t, reads[2].Err, provider.ErrUnsupported, "read 2 (instance)")
	wantErr(t, reads[3].Err, provider.ErrInvalid, "read 3 (empty ID)")
	noErr(t, b.GetCapacities(ctx, nil), "GetCapacities(nil)")
	noErr(t, b.GetCapacities(ctx, []provider.CapacityRead{}), "GetCapacities(no reads)")
}

// testBatchMetrics checks a MetricsBatcher: every read answered in place
// as QueryMetric answers it (same grid, same values, gaps where it has
// gaps), an invalid query or unknown resource failing that read alone,
// and no two reads sharing values (a driver may, but need not, write into
// the capacity a read's Series.Values has).
func testBatchMetrics(t *testing.T, s Subject) {
	b, ok := s.Provider.(provider.MetricsBatcher)
	if !ok {
		t.Skip("driver does not implement provider.MetricsBatcher")
	}
	src, q := metricsSource(t, s)
	ctx := ctxOf(t)
	invalid, unknown, coarse := q, q, q
	invalid.Step = 0
	unknown.ResourceID = unknownID
	coarse.Step *= 2
	queries := []provider.Query{q, invalid, coarse, unknown, q}
	reads := make([]provider.MetricRead, len(queries))
	for i, qq := range queries {
		reads[i] = provider.MetricRead{Query: qq, Err: errors.New("stale: the batch must clear it")}
	}
	// Read 4 comes with room for its values, which the driver may use.
	reads[4].Series.Values = make([]float64, 0, q.Steps()+8)
	noErr(t, b.QueryMetrics(ctx, reads), "QueryMetrics(%d reads of %s)", len(reads), queryCall(q))
	wantErr(t, reads[1].Err, provider.ErrInvalid, "read 1 (step 0)")
	wantErr(t, reads[3].Err, provider.ErrNotFound, "read 3 (unknown resource)")
	for _, i := range []int{0, 2, 4} {
		r := reads[i]
		if r.Err != nil {
			t.Errorf("read %d: %v", i, r.Err)
			continue
		}
		checkGrid(t, r.Series, r.Query)
		want := must(src.QueryMetric(ctx, r.Query))(t, "%s", queryCall(r.Query))
		if !sameValues(r.Series.Values, want.Values) {
			t.Errorf("read %d values = %v, QueryMetric says %v", i, r.Series.Values, want.Values)
		}
	}
	if len(reads[0].Series.Values) > 0 && len(reads[4].Series.Values) > 0 && &reads[0].Series.Values[0] == &reads[4].Series.Values[0] {
		t.Error("two reads share their values")
	}
	noErr(t, b.QueryMetrics(ctx, nil), "QueryMetrics(nil)")
	noErr(t, b.QueryMetrics(ctx, []provider.MetricRead{}), "QueryMetrics(no reads)")
}

// testBatchActivity checks an ActivityBatcher: every read answered in
// place as Activity answers it (the same counts), an invalid query or
// unknown resource failing that read alone, with Activity's sentinel.
func testBatchActivity(t *testing.T, s Subject) {
	b, ok := s.Provider.(provider.ActivityBatcher)
	if !ok {
		t.Skip("driver does not implement provider.ActivityBatcher")
	}
	as, ok := s.Provider.(provider.ActivitySource)
	if !ok {
		t.Fatal("driver implements provider.ActivityBatcher but not provider.ActivitySource")
	}
	q := s.ActivityQuery
	if q.ResourceID == "" {
		t.Skip("Subject.ActivityQuery is not set")
	}
	ctx := ctxOf(t)
	invalid, unknown, early := q, q, q
	invalid.End = invalid.Start
	unknown.ResourceID = unknownID
	early.Start, early.End = q.Start.AddDate(-1, 0, 0), q.Start
	queries := []provider.ActivityQuery{q, invalid, early, unknown, q}
	reads := make([]provider.ActivityRead, len(queries))
	for i, qq := range queries {
		reads[i] = provider.ActivityRead{Query: qq, Err: errors.New("stale: the batch must clear it")}
	}
	noErr(t, b.Activities(ctx, reads), "Activities(%d reads of %s)", len(reads), activityCall(q))
	wantErr(t, reads[1].Err, provider.ErrInvalid, "read 1 (end = start)")
	wantErr(t, reads[3].Err, provider.ErrNotFound, "read 3 (unknown resource)")
	for _, i := range []int{0, 2, 4} {
		r := reads[i]
		if r.Err != nil {
			t.Errorf("read %d: %v", i, r.Err)
			continue
		}
		want := must(as.Activity(ctx, r.Query))(t, "%s", activityCall(r.Query))
		if !slices.EqualFunc(r.Counts, want, sameCount) {
			t.Errorf("read %d (%s) counts = %+v, Activity says %+v", i, activityCall(r.Query), r.Counts, want)
		}
	}
	if len(reads[0].Counts) == 0 {
		t.Errorf("read 0 (%s) counted nothing; the fixture says it has activity", activityCall(q))
	}
	noErr(t, b.Activities(ctx, nil), "Activities(nil)")
	noErr(t, b.Activities(ctx, []provider.ActivityRead{}), "Activities(no reads)")
}

// sameCount reports whether a and b are the same count: the same kind,
// count, last event and beginning.
func sameCount(a, b provider.ActivityCount) bool {
	return a.Kind == b.Kind && a.Count == b.Count && a.Last.Equal(b.Last) && a.Since.Equal(b.Since)
}

// sameValues reports whether a and b hold the same values, gaps in the
// same steps.
func sameValues(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return provider.IsGap(x) && provider.IsGap(y) || x == y
	})
}

// testBatchCancelled checks that a batch call with a cancelled context
// fails as a whole, and every read carries the context's error.
func testBatchCancelled(t *testing.T, s Subject) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	checked := 0
	if b, ok := s.Provider.(provider.ResourceBatcher); ok {
		reads := []provider.ResourceRead{{ID: s.Instances[0]}, {ID: s.Instances[1]}}
		wantErr(t, b.GetResources(ctx, reads), context.Canceled, "GetResources with a cancelled context")
		for i, r := range reads {
			wantErr(t, r.Err, context.Canceled, fmt.Sprintf("GetResources read %d with a cancelled context", i))
		}
		checked++
	}
	if b, ok := s.Provider.(provider.CapacityBatcher); ok && s.Group != "" {
		reads := []provider.CapacityRead{{ID: s.Group}}
		wantErr(t, b.GetCapacities(ctx, reads), context.Canceled, "GetCapacities with a cancelled context")
		wantErr(t, reads[0].Err, context.Canceled, "GetCapacities read 0 with a cancelled context")
		checked++
	}
	if b, ok := s.Provider.(provider.MetricsBatcher); ok && s.MetricQuery.ResourceID != "" {
		reads := []provider.MetricRead{{Query: s.MetricQuery}}
		wantErr(t, b.QueryMetrics(ctx, reads), context.Canceled, "QueryMetrics with a cancelled context")
		wantErr(t, reads[0].Err, context.Canceled, "QueryMetrics read 0 with a cancelled context")
		checked++
	}
	if b, ok := s.Provider.(provider.ActivityBatcher); ok && s.ActivityQuery.ResourceID != "" {
		reads := []provider.ActivityRead{{Query: s.ActivityQuery}}
		wantErr(t, b.Activities(ctx, reads), context.Canceled, "Activities with a cancelled context")
		wantErr(t, reads[0].Err, context.Canceled, "Activities read 0 with a cancelled context")
		checked++
	}
	if checked == 0 {
		t.Skip("driver implements no batch capability (provider.ResourceBatcher, CapacityBatcher, MetricsBatcher, ActivityBatcher)")
	}
}

// sizeFields prints every field of s by name ("{InstanceType:m5.large
// VCPU:0 MemoryMiB:256 Timeout:10s}"), where Size.String names only the
// type of an instance: a contract's message shows what was asked.
func sizeFields(s provider.Size) string {
	type fields provider.Size // without Size's String method
	return fmt.Sprintf("%+v", fields(s))
}
