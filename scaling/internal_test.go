package scaling

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestReasonsAsSprintf checks that the reasons built without fmt read
// exactly as the fmt.Sprintf they replace.
func TestReasonsAsSprintf(t *testing.T) {
	t.Parallel()
	floats := []float64{0, 1, -1, 0.5, 1.0000015, 2.4, 1.0 / 3, 123456.789, 1e-7, 1e21, -0.047619, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.NaN()}
	for _, f := range floats {
		for _, th := range []float64{0.01, 0, 0.1, 1e-7, 0.25, 3} {
			assert.Equal(t, fmt.Sprintf("factor %f within the threshold %g of the target", f, th), targetValueReason(0, f, th))
		}
		assert.Equal(t, fmt.Sprintf("scaling %s because factor is %f", "up", f), targetValueReason(1, f, 0.01))
		assert.Equal(t, fmt.Sprintf("scaling %s because factor is %f", "down", f), targetValueReason(-1, f, 0.01))
	}
	var (
		memo textMemo[reasonKey]
		made [][2]string
	)
	for _, d := range []hpa.Decision{
		{},
		{Rescale: true, Reason: "cpu resource utilization (percentage of request) above target", Replicas: 7, AbleToScale: "SucceededRescale", ScalingLimited: "DesiredWithinRange"},
		{Rescale: true, Reason: hpa.RescaleAboveMax, Replicas: math.MaxInt32, AbleToScale: "ScaleUpLimit"},
		{Proposal: -1, Stabilized: 300, ScalingActive: "ValidMetricFound", AbleToScale: "ScaleDownStabilized", ScalingLimited: "DesiredWithinRange"},
		{Proposal: 1 << 30, Stabilized: math.MinInt32, ScalingActive: "FailedGetResourceMetric"},
	} {
		for _, current := range []int{0, 3, 1000, -5} {
			for _, suffix := range []string{"", " (held within the group's max 10)"} {
				want := fmt.Sprintf("no rescale: proposal %d, stabilized %d (%s, %s, %s)", d.Proposal, d.Stabilized, d.ScalingActive, d.AbleToScale, d.ScalingLimited) + suffix
				if d.Rescale {
					want = fmt.Sprintf("%s: %d → %d (%s, %s)", d.Reason, current, d.Replicas, d.AbleToScale, d.ScalingLimited) + suffix
				}
				got := hpaReason(&d, current, suffix, &memo)
				assert.Equal(t, want, got)
				made = append(made, [2]string{want, got})
			}
		}
	}
	// Every reason still reads as made, after the later ones filled
	// their slabs and started new ones.
	for _, m := range made {
		assert.Equal(t, m[0], m[1])
	}
}

// TestSlabs checks that what the slabs hand out is never written over by
// what they hand out later, nor by the caller's bytes: strings and input
// slices of every length (large strings too), kept and checked at the end.
func TestSlabs(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	var (
		strs   stringSlab
		ins    inputSlab
		wantS  []string
		gotS   []string
		wantIn [][]Input
		gotIn  [][]Input
	)
	require.NotNil(t, new(inputSlab).make(0), "a new slab's empty slice") // an HPA that read no metric
	for i := range 5000 {
		b := make([]byte, rng.IntN(stringSlabBytes/2))
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		want := string(b)
		got := strs.string(b)
		require.Equal(t, want, got)
		for j := range b {
			b[j] = '!' // the caller's bytes are its own
		}
		wantS, gotS = append(wantS, want), append(gotS, got)

		n := rng.IntN(inputSlabLen)
		in := ins.make(n)
		require.NotNil(t, in, "make(%d) is never nil, as make's", n)
		require.Empty(t, in)
		require.Equal(t, n, cap(in))
		wantIn = append(wantIn, make([]Input, n))
		for j := range n {
			wantIn[i][j] = Input{Name: strconv.Itoa(i), Value: float64(j)}
			in = append(in, wantIn[i][j])
		}
		gotIn = append(gotIn, in)
	}
	for i := range wantS {
		require.Equal(t, wantS[i], gotS[i], "string %d", i)
		require.Equal(t, wantIn[i], gotIn[i], "inputs %d", i)
	}
}

// TestTargetValueReasonMemo checks that the target-value reasons a
// batch remembers read as fmt.Sprintf makes them: 20,000 random
// decisions over a few factors and thresholds (NaN, infinities and both
// zeros among them: their bits are their keys), most of them repeats.
func TestTargetValueReasonMemo(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 23))
	floats := []float64{0, math.Copysign(0, -1), 1, 0.5, 1.0000015, 1.0 / 3, 2.4, 1e21, math.Inf(1), math.Inf(-1), math.NaN()}
	var (
		bs           decideScratch
		hits, misses int
	)
	for range 20_000 {
		direction, f, th := rng.IntN(3)-1, floats[rng.IntN(len(floats))], []float64{0.01, 0, 0.25}[rng.IntN(3)]
		want := fmt.Sprintf("factor %f within the threshold %g of the target", f, th)
		if direction != 0 {
			want = fmt.Sprintf("scaling %s because factor is %f", map[int]string{1: "up", -1: "down"}[direction], f)
		}
		used, keys := bs.tvReasons.used, bs.tvReasons.keys
		got := bs.targetValueReason(direction, f, th)
		require.Equal(t, want, got, "direction %d factor %v threshold %v", direction, f, th)
		if bs.tvReasons.used == used && bs.tvReasons.keys == keys {
			hits++
		} else {
			misses++
		}
	}
	assert.Greater(t, hits, 5_000, "reasons answered from the memo")
	assert.Positive(t, misses, "reasons made")
}

// TestInputArena checks a batch's inputs arena: within a batch, the
// slices it hands out are never written over by later ones (nor by an
// append past a slice's capacity), across the array's growth; after a
// reset, the next batch reuses the array instead of allocating.
func TestInputArena(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 17))
	var a inputArena
	require.NotNil(t, a.make(0), "make(0) is never nil, as make's")
	for batch := range 50 {
		var want, got [][]Input
		for i := range 1 + rng.IntN(200) {
			n := rng.IntN(9)
			in := a.make(n)
			require.NotNil(t, in)
			require.Empty(t, in)
			require.Equal(t, n, cap(in), "make(%d)'s capacity", n)
			w := make([]Input, n)
			for j := range w {
				w[j] = Input{Name: strconv.Itoa(batch), Value: float64(1000*i + j)}
				in = append(in, w[j])
			}
			_ = append(in, Input{Name: "past the capacity"}) // reallocates: never its neighbour's
			want, got = append(want, w), append(got, in)
		}
		for i := range want {
			require.Equal(t, want[i], got[i], "batch %d inputs %d", batch, i)
		}
		before := cap(a.buf)
		var first *Input
		if before > 0 {
			first = unsafe.SliceData(a.buf[:1])
		}
		a.reset()
		require.Empty(t, a.buf)
		assert.Equal(t, before, cap(a.buf), "reset keeps the array")
		if in := a.make(1); before > 0 {
			assert.Same(t, first, unsafe.SliceData(in[:1]), "the next batch reuses the array")
		}
		a.reset()
	}
}

// TestReasonMemo checks that the remembered reasons read as fmt.Sprintf
// makes them: 20,000 random decisions from domains small enough that
// most are repeats and some share a slot with another, each field and
// the suffix varied (a key that left one out would answer a remembered
// reason of other values).
func TestReasonMemo(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	var (
		memo         textMemo[reasonKey]
		hits, misses int
	)
	for range 20_000 {
		d := hpa.Decision{
			Rescale:        rng.IntN(2) == 0,
			Reason:         pick(hpa.RescaleAboveMax, "cpu resource utilization (percentage of request) above target"),
			Replicas:       int32(rng.IntN(3)),
			Proposal:       int32(rng.IntN(3) - 1),
			Stabilized:     int32(rng.IntN(3)),
			ScalingActive:  pick("ValidMetricFound", ""),
			AbleToScale:    pick("ReadyForNewScale", "ScaleDownStabilized"),
			ScalingLimited: pick("DesiredWithinRange", "TooManyReplicas"),
		}
		current, suffix := rng.IntN(3), pick("", " (held within the group's max 10)")
		want := fmt.Sprintf("no rescale: proposal %d, stabilized %d (%s, %s, %s)", d.Proposal, d.Stabilized, d.ScalingActive, d.AbleToScale, d.ScalingLimited) + suffix
		if d.Rescale {
			want = fmt.Sprintf("%s: %d → %d (%s, %s)", d.Reason, current, d.Replicas, d.AbleToScale, d.ScalingLimited) + suffix
		}
		before := memo.keys
		got := hpaReason(&d, current, suffix, &memo)
		require.Equal(t, want, got, "%+v at %d%s", d, current, suffix)
		if memo.keys == before {
			hits++
		} else {
			misses++
		}
	}
	// 288 reasons for 256 slots: the test exercised both the remembered
	// reasons and the evictions.
	assert.Greater(t, hits, 5_000, "reasons answered from the memo")
	assert.Greater(t, misses, 1_000, "reasons made")
}

// fnvPlanID is planID as it was written with hash/fnv, the reference for
// the inline digest: plan IDs must not change (journals keep them).
func fnvPlanID(target string, now time.Time, from, to provider.CapacitySpec, fromSize, toSize provider.Size, strategy string) string {
	h := fnv.New64a()
	var b [8]byte
	num := func(v int64) {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	h.Write([]byte(strategy))
	num(now.UnixNano())
	for _, c := range []provider.CapacitySpec{from, to} {
		num(int64(c.Min))
		num(int64(c.Max))
		num(int64(c.Desired))
	}
	for _, z := range []provider.Size{fromSize, toSize} {
		h.Write([]byte(z.InstanceType))
		num(int64(math.Float64bits(z.VCPU)))
		num(int64(z.MemoryMiB))
		num(int64(z.Timeout))
	}
	return target + "-" + strconv.FormatUint(h.Sum64(), 36)
}

func TestPlanIDAsFNV(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("very-long-target-name/", 10)
	for _, tt := range []struct {
		target, strategy string
		now              time.Time
		from, to         provider.CapacitySpec
		fromSize, toSize provider.Size
	}{
		{target: "web", strategy: "hpa", now: now, from: provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}, to: provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}},
		{target: long, strategy: "", now: time.Unix(0, -1), from: provider.CapacitySpec{Min: -3, Max: math.MaxInt, Desired: math.MinInt}},
		{target: "fn", strategy: "vertical", now: now, fromSize: provider.Size{MemoryMiB: 512, Timeout: 3 * time.Second}, toSize: provider.Size{InstanceType: "m5.large", VCPU: 2.5, MemoryMiB: 8192}},
		{target: "ü-é", strategy: "ünïcode", now: time.Time{}},
	} {
		want := fnvPlanID(tt.target, tt.now, tt.from, tt.to, tt.fromSize, tt.toSize, tt.strategy)
		assert.Equal(t, want, planID(nil, tt.target, tt.now, tt.from, tt.to, tt.fromSize, tt.toSize, tt.strategy))
	}
	// Numbers with zero bytes anywhere (num adds the high zero bytes at
	// once): a random value, masked to keep some of its bytes.
	rng := rand.New(rand.NewPCG(3, 5))
	n := func() int {
		if rng.IntN(4) == 0 { // the one-byte fast path's edges
			return []int{0, 1, 255, 256, 257, -1, 1 << 8 << 48, math.MaxInt64, math.MinInt64}[rng.IntN(9)]
		}
		v := rng.Uint64()
		for i := range 8 {
			if rng.IntN(2) == 0 {
				v &^= 0xff << (8 * i)
			}
		}
		return int(v)
	}
	var slab stringSlab // as the Autoscaler makes them
	for range 2000 {
		from := provider.CapacitySpec{Min: n(), Max: n(), Desired: n()}
		to := provider.CapacitySpec{Min: n(), Max: n(), Desired: n()}
		size := provider.Size{InstanceType: "t3.micro"[:rng.IntN(9)], VCPU: float64(n()), MemoryMiB: n(), Timeout: time.Duration(n())}
		switch rng.IntN(4) {
		case 0:
			size = provider.Size{} // a group's: added at once
		case 1:
			size = provider.Size{VCPU: math.Copysign(0, -1)} // == a zero size, but not its bytes
		}
		at := time.Unix(0, int64(n()))
		require.Equal(t, fnvPlanID("t", at, from, to, size, provider.Size{}, "s"), planID(&slab, "t", at, from, to, size, provider.Size{}, "s"))
	}
}

// TestPlanStepsShareOneArray checks that a plan's steps and rollback,
// made in one allocation, do not overwrite each other.
func TestPlanStepsShareOneArray(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(EngineConfig{}, Cloud{Scaler: nopScaler{}}, nopGate{})
	if err != nil {
		t.Fatal(err)
	}
	from := provider.CapacitySpec{Min: 1, Max: 40, Desired: 2}
	to := provider.CapacitySpec{Min: 2, Max: 30, Desired: 17}
	p := e.Plan(Decision{Target: Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup}, Capacity: provider.Capacity{CapacitySpec: from}},
		Chosen: Recommendation{Capacity: to}, Change: true}, PlanOptions{})
	assert.Equal(t, gradualSteps(from, to, e.maxStep), p.Steps)
	assert.Equal(t, gradualSteps(to, from, e.maxStep), p.Rollback)
	assert.Greater(t, len(p.Steps), 2)
	assert.Equal(t, to, p.Steps[len(p.Steps)-1].To)
	assert.Equal(t, from, p.Rollback[len(p.Rollback)-1].To)
}

type nopScaler struct{}

func (nopScaler) Capacity(context.Context, string) (provider.Capacity, error) {
	return provider.Capacity{}, nil
}

func (nopScaler) SetCapacity(context.Context, string, provider.CapacitySpec) error { return nil }

type nopGate struct{}

func (nopGate) Check(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{Allowed: true}, nil
}

func (nopGate) Evaluate(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{Allowed: true}, nil
}

// TestPruneBoundaries pins History.prune: a record or change exactly
// retention old stays, one a nanosecond older goes, except the newest
// record of each strategy (in time order) and the newest change; prune
// waits max(retention/8, pruneEvery) between two passes.
func TestPruneBoundaries(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	const retention = 10 * time.Minute
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	rec := func(s string, ago time.Duration) RecommendationRecord {
		return RecommendationRecord{Strategy: s, At: at(ago)}
	}
	h := History{
		Recommendations: []RecommendationRecord{
			rec("a", 30*time.Minute), rec("b", 25*time.Minute), rec("a", 20*time.Minute), rec("c", 15*time.Minute),
			rec("a", retention+1), rec("b", retention), rec("a", 0),
		},
		Changes: []Change{{At: at(retention + 1)}, {At: at(retention)}, {At: at(time.Minute)}},
	}
	h.prune(now, retention)
	assert.Equal(t, []RecommendationRecord{rec("c", 15*time.Minute), rec("b", retention), rec("a", 0)}, h.Recommendations,
		"c's newest is older than the cutoff but kept; a's and b's old ones go")
	assert.Equal(t, []Change{{At: at(retention)}, {At: at(time.Minute)}}, h.Changes)

	// Only the newest change is kept however old it is.
	h = History{Changes: []Change{{At: at(3 * time.Hour)}, {At: at(2 * time.Hour)}}}
	h.prune(now, retention)
	assert.Equal(t, []Change{{At: at(2 * time.Hour)}}, h.Changes)

	// A zero retention keeps the newest record of each strategy only.
	h = History{Recommendations: []RecommendationRecord{rec("a", 2*time.Minute), rec("b", time.Minute), rec("a", time.Second)}}
	h.prune(now, 0)
	assert.Equal(t, []RecommendationRecord{rec("b", time.Minute), rec("a", time.Second)}, h.Recommendations)

	// The next pass waits max(retention/8, pruneEvery).
	h = History{Recommendations: []RecommendationRecord{rec("a", time.Hour), rec("a", 0)}}
	h.prune(now, 4*time.Minute)
	assert.Len(t, h.Recommendations, 1)
	assert.Equal(t, now.Add(pruneEvery), h.pruneAt, "4m/8 < 1m")
	h.prune(now, 16*time.Minute)
	assert.Equal(t, now.Add(pruneEvery), h.pruneAt, "no pass before pruneAt")
	h.prune(now.Add(pruneEvery), 16*time.Minute)
	assert.Equal(t, now.Add(pruneEvery+2*time.Minute), h.pruneAt, "16m/8")

	// More strategies than the stack holds.
	h = History{}
	for i := range 12 {
		h.Recommendations = append(h.Recommendations, rec(fmt.Sprint("s", i), time.Hour-time.Duration(i)*time.Minute))
	}
	h.Recommendations = append(h.Recommendations, rec("s0", 0))
	h.prune(now, retention)
	assert.Len(t, h.Recommendations, 12, "the newest of each of 12 strategies")
	assert.Equal(t, "s1", h.Recommendations[0].Strategy)
	assert.Equal(t, "s0", h.Recommendations[11].Strategy)
}

// TestSignalBoundaries pins a signal's healthy range: its bounds are
// healthy, and a value past either is not.
func TestSignalBoundaries(t *testing.T) {
	lo, hi := 0.2, 0.9
	both := Signal{Metric: provider.MetricCPU, Min: &lo, Max: &hi}
	for v, want := range map[float64]bool{0.2: true, 0.9: true, 0.5: true, math.Nextafter(0.2, 0): false, math.Nextafter(0.9, 1): false} {
		assert.Equal(t, want, both.healthy(v), "%v", v)
	}
	assert.True(t, Signal{Metric: provider.MetricCPU, Max: &hi}.healthy(-5), "no lower bound")
	assert.True(t, Signal{Metric: provider.MetricCPU, Min: &lo}.healthy(1e9), "no upper bound")
}

// TestCountSteps pins countSteps against the steps appendSteps makes: a
// change of bounds alone is one step, no change none.
func TestCountSteps(t *testing.T) {
	half := func(c int) int { return c / 2 }
	spec := func(lo, hi, d int) provider.CapacitySpec { return provider.CapacitySpec{Min: lo, Max: hi, Desired: d} }
	for _, tc := range []struct {
		from, to provider.CapacitySpec
		want     int
	}{
		{spec(1, 10, 4), spec(1, 10, 4), 0},
		{spec(1, 10, 4), spec(1, 12, 4), 1},
		{spec(1, 10, 4), spec(1, 10, 5), 1},
		{spec(1, 40, 4), spec(1, 40, 9), 2},  // 4 → 6 → 9
		{spec(1, 40, 4), spec(1, 40, 10), 3}, // 4 → 6 → 9 → 10
		{spec(1, 40, 16), spec(1, 40, 2), 3}, // 16 → 8 → 4 → 2
		{spec(0, 40, 1), spec(0, 40, 0), 1},
		{spec(0, 40, 0), spec(0, 40, 3), 3}, // one at a time from 0 and 1
	} {
		got := countSteps(tc.from, tc.to, half)
		assert.Equal(t, tc.want, got, "%v → %v", tc.from, tc.to)
		assert.Len(t, appendSteps(nil, tc.from, tc.to, half), got, "%v → %v", tc.from, tc.to)
	}
	// Appended after another plan's steps (the batch's shared array), a
	// plan's steps are numbered from 1.
	arena := appendSteps(nil, spec(1, 40, 16), spec(1, 40, 2), half)
	arena = appendSteps(arena, spec(1, 40, 4), spec(1, 40, 10), half)
	var idx []int
	for _, st := range arena {
		idx = append(idx, st.Index)
	}
	assert.Equal(t, []int{1, 2, 3, 1, 2, 3}, idx)
}

// TestMemoryJournalRetention pins the memory journal: a zero value works,
// final executions are kept for Retention (default 24h) from the newest
// record, unfinished ones for ever.
func TestMemoryJournalRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	x := func(id string, st PlanStatus, age time.Duration) Execution {
		return Execution{Plan: Plan{ID: id, Target: Target{ID: "web"}}, Status: st, UpdatedAt: now.Add(-age)}
	}
	for _, tc := range []struct {
		retention time.Duration
		kept      []string
	}{
		{0, []string{"new", "day", "open"}},
		{time.Hour, []string{"new", "open"}},
	} {
		var j MemoryJournal // the zero value
		j.Retention = tc.retention
		for _, e := range []Execution{x("old", PlanCompleted, 24*time.Hour+time.Nanosecond), x("day", PlanRolledBack, 24*time.Hour), x("open", PlanInterrupted, 30*24*time.Hour), x("new", PlanCompleted, 0)} {
			require.NoError(t, j.Save(ctx, e))
		}
		var kept []string
		for _, id := range []string{"new", "day", "old", "open"} {
			if _, ok, err := j.Load(ctx, id); assert.NoError(t, err) && ok {
				kept = append(kept, id)
			}
		}
		assert.Equal(t, tc.kept, kept, "retention %s", tc.retention)
	}
}

// TestHistoryFirstRecords pins History.record's First flag and prune's
// handling of the oldest record: a strategy's first record is First,
// its second is not, even when the first is the History's oldest; the
// oldest record, the only one of its strategy, survives a prune.
func TestHistoryFirstRecords(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var h History
	h.record(RecommendationRecord{At: now, Strategy: "a"}, time.Hour)
	h.record(RecommendationRecord{At: now, Strategy: "a"}, time.Hour)
	h.record(RecommendationRecord{At: now, Strategy: "b"}, time.Hour)
	assert.Equal(t, []bool{true, false, true}, []bool{h.Recommendations[0].First, h.Recommendations[1].First, h.Recommendations[2].First})

	h = History{Recommendations: []RecommendationRecord{
		{At: now.Add(-time.Hour), Strategy: "c"}, {At: now.Add(-time.Hour), Strategy: "a"}, {At: now, Strategy: "a"}}}
	h.prune(now, time.Minute)
	require.Len(t, h.Recommendations, 2)
	assert.Equal(t, "c", h.Recommendations[0].Strategy, "the oldest, the only one of c")
}

// TestNeedAndRecommendationValidate pins the bounds of a Need (a
// lookback > 0, a step in (0, lookback]) and a recommendation's checks:
// a group's capacity must be valid, a size valid for the kind.
func TestNeedAndRecommendationValidate(t *testing.T) {
	ok := Need{Metric: provider.MetricCPU, Lookback: time.Hour, Step: time.Hour}
	require.NoError(t, ok.Validate(), "a step equal to the lookback")
	for field, n := range map[string]Need{
		"lookback": {Metric: provider.MetricCPU, Step: time.Minute},
		"step":     {Metric: provider.MetricCPU, Lookback: time.Hour, Step: time.Hour + 1},
	} {
		var inv *provider.InvalidError
		if assert.ErrorAs(t, n.Validate(), &inv, field) {
			assert.True(t, strings.HasPrefix(inv.Field, field), "%s: %s", field, inv.Field)
		}
	}
	require.Error(t, Need{Metric: provider.MetricCPU, Lookback: time.Hour}.Validate(), "a zero step")
	require.ErrorContains(t, Need{Metric: "CPU!", Lookback: time.Hour, Step: time.Minute}.Validate(), "unknown metric")

	g := Target{ID: "g", Resource: provider.Resource{ID: "g", Kind: provider.KindGroup}}
	require.NoError(t, Recommendation{Capacity: provider.CapacitySpec{Min: 1, Max: 4, Desired: 2}, Fitness: 1}.Validate(g))
	require.ErrorContains(t, Recommendation{Capacity: provider.CapacitySpec{Min: 3, Max: 4, Desired: 2}}.Validate(g), "capacity")
	fn := Target{ID: "f", Resource: provider.Resource{ID: "f", Kind: provider.KindFunction}}
	assert.NoError(t, Recommendation{Size: provider.Size{MemoryMiB: 512, Timeout: time.Minute}}.Validate(fn))
	assert.NoError(t, Recommendation{}.Validate(fn), "no size: keep the current one")
	assert.ErrorContains(t, Recommendation{Size: provider.Size{InstanceType: "m5.large"}}.Validate(fn), "size")
}

// TestAutoscalerSharesHPAStrategies checks that the targets of an
// Autoscaler share one HPA strategy per name and configuration (the
// pass over a large fleet depends on it), that a target's PodSource
// strategy is the shared one, and that another name, another config or
// a second strategy in the same target is not merged with it.
func TestAutoscalerSharesHPAStrategies(t *testing.T) {
	t.Parallel()
	cpu := func(u int32) *HPAConfig {
		return &HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
			Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: u}}}}}
	}
	spec := func(name string, u int32) StrategySpec {
		return StrategySpec{Name: name, Type: StrategyHPA, HPA: cpu(u)}
	}
	cfg := Config{Targets: []TargetConfig{
		{ID: "a", Max: 10, Strategies: []StrategySpec{spec("", 60)}},
		{ID: "b", Max: 20, Strategies: []StrategySpec{spec("", 60)}}, // other bounds: the same strategy
		{ID: "c", Max: 10, Strategies: []StrategySpec{spec("", 70)}},
		{ID: "d", Max: 10, Strategies: []StrategySpec{spec("fast", 60)}},
		{ID: "e", Max: 10, Strategies: []StrategySpec{spec("hpa", 60), spec("fast", 60)}},
		{ID: "f", Max: 10, Strategies: []StrategySpec{{Type: StrategyThreshold}, spec("fast", 70)}},
	}}
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{}, Cloud{Scaler: c, Metrics: c}, nopGate{})
	require.NoError(t, err)
	a, err := NewAutoscaler(cfg, e, Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err)
	strategy := func(target, i int) *HPA {
		h, ok := a.targets[target].candidates[i].Strategy.(*HPA)
		require.True(t, ok, "target %d candidate %d", target, i)
		return h
	}
	assert.Same(t, strategy(0, 0), strategy(1, 0), "same name and config")
	assert.NotSame(t, strategy(0, 0), strategy(2, 0), "another target utilization")
	assert.NotSame(t, strategy(0, 0), strategy(3, 0), "another name")
	assert.Same(t, strategy(0, 0), strategy(4, 0), `"hpa" is the default name`)
	assert.Same(t, strategy(3, 0), strategy(4, 1))
	assert.NotSame(t, strategy(4, 0), strategy(4, 1))
	assert.NotSame(t, strategy(3, 0), strategy(5, 1), "another config under the same name")
	for i, want := range []*HPA{strategy(0, 0), strategy(0, 0), strategy(2, 0), strategy(3, 0), strategy(0, 0), strategy(5, 1)} {
		assert.Same(t, want, a.targets[i].hpa, "target %d's PodSource strategy is its first, shared", i)
	}
}

// joinErr keeps both errors when both are set, and either one alone
// unwrapped.
func TestJoinErr(t *testing.T) {
	t.Parallel()
	a, b := errors.New("resume failed"), errors.New("decide failed")
	require.NoError(t, joinErr(nil, nil))
	assert.Same(t, a, joinErr(a, nil))
	assert.Same(t, b, joinErr(nil, b))
	both := joinErr(a, b)
	require.ErrorIs(t, both, a)
	require.ErrorIs(t, both, b)
}

// mergeNeeds keeps one need per metric, statistic and step, with the
// longest lookback.
func TestMergeNeeds(t *testing.T) {
	t.Parallel()
	cpu := Need{Metric: provider.MetricCPU, Statistic: provider.StatMean, Step: time.Minute, Lookback: 5 * time.Minute}
	longer, otherStat, otherStep, otherMetric := cpu, cpu, cpu, cpu
	longer.Lookback = 10 * time.Minute
	otherStat.Statistic = provider.StatMax
	otherStep.Step = 5 * time.Minute
	otherMetric.Metric = provider.MetricMemory
	got := mergeNeeds([]Need{cpu}, []Need{longer, otherStat, otherStep, otherMetric, cpu})
	assert.Equal(t, []Need{longer, otherStat, otherStep, otherMetric}, got)
}

// TestSizeMatches pins which fields of a size a read must match: every
// field the wanted size sets, and its vCPUs and memory only without an
// instance type (the type decides them; memory was compared too, so a
// driver that reports the type alone never matched).
func TestSizeMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		have, want provider.Size
		match      bool
	}{
		{"nothing wanted", provider.Size{MemoryMiB: 512}, provider.Size{}, true},
		{"vCPUs only", provider.Size{VCPU: 2}, provider.Size{VCPU: 2}, true},
		{"other vCPUs", provider.Size{VCPU: 4}, provider.Size{VCPU: 2}, false},
		{"vCPUs of the type", provider.Size{InstanceType: "m5.large", VCPU: 4}, provider.Size{InstanceType: "m5.large", VCPU: 2}, true},
		{"other type", provider.Size{InstanceType: "m5.xlarge"}, provider.Size{InstanceType: "m5.large"}, false},
		{"the type alone", provider.Size{InstanceType: "m5.large"}, provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}, true},
		{"other type, same memory", provider.Size{InstanceType: "c5.large", MemoryMiB: 8192}, provider.Size{InstanceType: "m5.large", MemoryMiB: 8192}, false},
		{"memory and more", provider.Size{MemoryMiB: 512, Timeout: 3 * time.Second}, provider.Size{MemoryMiB: 512}, true},
		{"other memory", provider.Size{MemoryMiB: 1024}, provider.Size{MemoryMiB: 512}, false},
		{"other timeout", provider.Size{MemoryMiB: 512, Timeout: 4 * time.Second}, provider.Size{MemoryMiB: 512, Timeout: 3 * time.Second}, false},
	} {
		assert.Equal(t, tc.match, sizeMatches(tc.have, tc.want), tc.name)
	}
}

// TestSizeString pins how a size reads in reasons and errors: an instance
// by its type, a function by its memory and timeout, anything else by
// vCPUs and memory.
func TestSizeString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		give provider.Size
		want string
	}{
		{provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}, "m5.large"},
		{provider.Size{MemoryMiB: 512, Timeout: 3 * time.Second}, "512MiB/3s"},
		{provider.Size{MemoryMiB: 1024}, "0vCPU/1024MiB"},
		{provider.Size{VCPU: 0.5, MemoryMiB: 1024}, "0.5vCPU/1024MiB"},
	} {
		assert.Equal(t, tc.want, sizeString(tc.give))
	}
	s := PlanStep{Index: 1, Action: safety.ActionResize, FromSize: provider.Size{MemoryMiB: 512, Timeout: time.Minute}, ToSize: provider.Size{MemoryMiB: 1024, Timeout: time.Minute}}
	assert.Equal(t, "1: resize 512MiB/1m0s → 1024MiB/1m0s", s.String())
}

// TestSignalValidateAndString pins a signal's checks (a bound needed, both
// finite, min ≤ max, its metric and statistic valid), each naming its
// field, and how it reads in a reason.
func TestSignalValidateAndString(t *testing.T) {
	t.Parallel()
	v := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		name  string
		give  Signal
		field string // "" when valid
	}{
		{"max only", Signal{Metric: provider.MetricCPU, Max: v(0.9)}, ""},
		{"min only", Signal{Metric: provider.MetricCPU, Min: v(0.1)}, ""},
		{"min equal to max", Signal{Metric: provider.MetricCPU, Min: v(0.5), Max: v(0.5)}, ""},
		{"no bound", Signal{Metric: provider.MetricCPU}, "max"},
		{"max not finite", Signal{Metric: provider.MetricCPU, Max: v(math.NaN())}, "max"},
		{"min not finite", Signal{Metric: provider.MetricCPU, Min: v(math.Inf(-1))}, "min"},
		{"max not finite, min set", Signal{Metric: provider.MetricCPU, Min: v(0.1), Max: v(math.Inf(1))}, "max"},
		{"min above max", Signal{Metric: provider.MetricCPU, Min: v(0.6), Max: v(0.5)}, "min"},
		{"metric", Signal{Metric: "bad metric!", Max: v(1)}, "metric"},
		{"statistic", Signal{Metric: provider.MetricCPU, Statistic: "mode", Max: v(1)}, "statistic"},
	} {
		err := tc.give.Validate()
		if tc.field == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		if tc.field == "metric" { // a metric's error names the metric, not a field
			require.ErrorIs(t, err, provider.ErrUnknownMetric)
			continue
		}
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tc.name)
		assert.True(t, strings.HasPrefix(ie.Field, tc.field), "%s: %v", tc.name, err)
	}
	assert.Equal(t, "cpu max in [0.1, 0.9]", Signal{Metric: provider.MetricCPU, Min: v(0.1), Max: v(0.9)}.String())
	assert.Equal(t, "cpu mean ≤ 0.9", Signal{Metric: provider.MetricCPU, Statistic: provider.StatMean, Max: v(0.9)}.String())
	assert.Equal(t, "cpu max ≥ 0.1", Signal{Metric: provider.MetricCPU, Min: v(0.1)}.String())
}

// TestScaleAction pins a step's action: by the desired capacity, and at
// equal desired capacity scale_out only when no bound is lowered.
func TestScaleAction(t *testing.T) {
	t.Parallel()
	spec := func(d, lo, hi int) provider.CapacitySpec { return provider.CapacitySpec{Desired: d, Min: lo, Max: hi} }
	for _, tc := range []struct {
		name     string
		from, to provider.CapacitySpec
		want     safety.Action
	}{
		{"up", spec(4, 1, 10), spec(5, 1, 10), safety.ActionScaleOut},
		{"down", spec(5, 1, 10), spec(4, 1, 10), safety.ActionScaleIn},
		{"up, bounds lowered", spec(4, 1, 10), spec(5, 0, 8), safety.ActionScaleOut},
		{"down, bounds raised", spec(5, 1, 10), spec(4, 2, 12), safety.ActionScaleIn},
		{"max raised", spec(4, 1, 10), spec(4, 1, 12), safety.ActionScaleOut},
		{"min raised", spec(4, 1, 10), spec(4, 2, 10), safety.ActionScaleOut},
		{"min lowered", spec(4, 1, 10), spec(4, 0, 10), safety.ActionScaleIn},
		{"max lowered", spec(4, 1, 10), spec(4, 1, 8), safety.ActionScaleIn},
		{"min raised, max lowered", spec(4, 1, 10), spec(4, 2, 8), safety.ActionScaleIn},
		{"no change", spec(4, 1, 10), spec(4, 1, 10), safety.ActionScaleOut},
	} {
		assert.Equal(t, tc.want, scaleAction(tc.from, tc.to), tc.name)
	}
}

// TestCeilInt pins the rounding of a computed count: up, and saturated
// at the int32 range (NaN at the bottom).
func TestCeilInt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		give float64
		want int
	}{
		{2.1, 3}, {-2.9, -2}, {0, 0},
		{math.NaN(), math.MinInt32}, {-1e20, math.MinInt32}, {math.Inf(-1), math.MinInt32},
		{math.MinInt32 + 0.5, math.MinInt32 + 1},
		{1e20, math.MaxInt32}, {math.Inf(1), math.MaxInt32}, {math.MaxInt32 - 1.5, math.MaxInt32 - 1},
	} {
		assert.Equal(t, tc.want, ceilInt(tc.give), "%g", tc.give)
	}
}

// TestStrategyMetricRefused: a threshold or target-value strategy on a
// metric that is not one is refused at construction.
func TestStrategyMetricRefused(t *testing.T) {
	t.Parallel()
	_, err := NewThreshold(ThresholdConfig{Metric: "no such metric"})
	require.ErrorIs(t, err, provider.ErrUnknownMetric)
	_, err = NewTargetValue(TargetValueConfig{Metric: "no such metric", Target: new(0.5)})
	require.ErrorIs(t, err, provider.ErrUnknownMetric)
}

// TestBatchWindow checks the windows a batch remembers against the
// computation they stand for: times, steps and lookbacks mixed, more of
// them than it remembers, repeated in and out of order, in two zones.
func TestBatchWindow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 9))
	var b batch
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	base := time.Date(2026, 3, 8, 6, 59, 31, 0, time.UTC)
	for i := range 2000 {
		now := base.Add(time.Duration(rng.IntN(3)) * 17 * time.Second)
		if rng.IntN(2) == 0 {
			now = now.In(ny)
		}
		step := []time.Duration{time.Minute, 5 * time.Minute, time.Hour}[rng.IntN(3)]
		lookback := []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour}[rng.IntN(3)]
		start, end := b.window(now, step, lookback)
		wantEnd := now.Truncate(step).Add(step)
		require.Equal(t, wantEnd, end, "%d: end of %s step %s", i, now, step)
		require.Equal(t, wantEnd.Add(-lookback).Truncate(step), start, "%d: start of %s step %s lookback %s", i, now, step, lookback)
		require.LessOrEqual(t, len(b.windows), 4)
	}
}

// TestAppendBase36 checks the plan IDs' base-36 digits against strconv:
// the edges of every digit count and random values.
func TestAppendBase36(t *testing.T) {
	t.Parallel()
	vals := []uint64{0, 1, 35, 36, 37, math.MaxUint64, math.MaxUint64 - 1, 1 << 63}
	for p := uint64(1); p < math.MaxUint64/36; p *= 36 {
		vals = append(vals, p-1, p, p+1, 36*p-1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vals = append(vals, rng.Uint64(), rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range vals {
		require.Equal(t, "x-"+strconv.FormatUint(v, 36), string(appendBase36([]byte("x-"), v)), "%d", v)
	}
}

// TestHistoryViewIsNotWrittenOver checks the copy on write of a target's
// history: while an evaluation reads a view of it (the Autoscaler's
// State.History), an Engine.Decide or a RecordChange on the same target
// records into arrays of their own, never into the view, and a view of
// arrays gone by ends without touching the views of the new ones; the
// evaluation's own recording ends its view first and writes in place (no
// copy). Before, a Decide on a target the Autoscaler was evaluating
// compacted the records under its strategies (a data race).
func TestHistoryViewIsNotWrittenOver(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h, err := NewHPA(HPAConfig{}, "hpa")
	require.NoError(t, err)
	state := func(i int, cpu float64) State {
		// The CPU value is as old at every decision (a value read at the
		// decision, not one of the first decision's, stale 5 steps on).
		at := now.Add(time.Duration(i) * 15 * time.Second)
		return State{Now: at, Target: Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
			Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 40, Desired: 10}, Current: 10, Ready: 10}, Min: 1, Max: 40},
			Metrics: []provider.Series{{ResourceID: "web", Metric: provider.MetricCPU, Start: at.Add(-5 * time.Minute), Step: time.Minute, Values: []float64{cpu}}}}
	}
	candidates := []Candidate{{Name: "hpa", Strategy: h}}
	// setUp records five falling proposals (each the highest of its
	// window: all kept), past the cell's four records in place, so that
	// its array has room to record in place.
	setUp := func(t *testing.T) (*Engine, *historyCell, func(i int, cpu float64)) {
		e, err := NewEngine(EngineConfig{}, Cloud{Scaler: nopScaler{}}, nopGate{})
		require.NoError(t, err)
		decide := func(i int, cpu float64) {
			_, err := e.Decide(t.Context(), state(i, cpu), candidates, "")
			require.NoError(t, err)
		}
		for i, cpu := range []float64{0.9, 0.8, 0.7, 0.5, 0.3} {
			decide(i, cpu)
		}
		c := e.cell("web")
		require.Len(t, c.h.Recommendations, 5, "five falling proposals, all kept")
		require.Greater(t, cap(c.h.Recommendations), 5, "room to record in place")
		return e, c, decide
	}
	arrays := func(c *historyCell) *RecommendationRecord {
		c.mu.Lock()
		defer c.mu.Unlock()
		return unsafe.SliceData(c.h.Recommendations)
	}

	t.Run("decide", func(t *testing.T) {
		e, c, decide := setUp(t)
		view, gen := c.view()
		want := view.clone()
		decide(5, 0.95) // supersedes them all: compacted, but not in the view's arrays
		assert.Equal(t, want, view.clone(), "the view was written over")
		assert.Len(t, e.History("web").Recommendations, 1, "the high proposal superseded the others")

		// A view of the new arrays; the old view ends after it was taken:
		// the new view still holds its arrays.
		view2, gen2 := c.view()
		want2 := view2.clone()
		c.unview(gen)
		decide(6, 0.3)
		decide(7, 0.99)
		assert.Equal(t, want2, view2.clone(), "the view of the new arrays was written over")
		c.unview(gen2)
	})
	t.Run("record change", func(t *testing.T) {
		e, c, _ := setUp(t)
		view, gen := c.view()
		want := view.clone()
		// Hours later: the records have aged out, pruned (compacted) but
		// not in the view's arrays.
		at := now.Add(3 * time.Hour)
		e.RecordChange("web", Change{At: at, Strategy: "hpa", From: provider.CapacitySpec{Min: 1, Max: 40, Desired: 10}, To: provider.CapacitySpec{Min: 1, Max: 40, Desired: 16}})
		assert.Len(t, e.History("web").Recommendations, 1, "pruned to the newest record")
		assert.Equal(t, want, view.clone(), "the view was written over")
		c.unview(gen)
	})
	t.Run("own evaluation", func(t *testing.T) {
		e, c, _ := setUp(t)
		before := arrays(c)
		st := state(5, 0.95)
		var gen int64
		st.History, gen = c.view()
		var d Decision
		require.NoError(t, e.decide(t.Context(), &st, candidates, "", c, gen, nil, nil, &d))
		assert.Same(t, before, arrays(c), "the evaluation's own view ended before it recorded: no copy")
		c.mu.Lock()
		assert.Zero(t, c.views)
		c.mu.Unlock()

		// A decision that fails before it records ends its view too.
		st.History, gen = c.view()
		require.ErrorIs(t, e.decide(t.Context(), &st, nil, "", c, gen, nil, nil, &d), ErrNoStrategy)
		c.mu.Lock()
		assert.Zero(t, c.views, "the failed decision's view ended")
		c.mu.Unlock()
	})
	t.Run("set history", func(t *testing.T) {
		e, c, decide := setUp(t)
		_, gen := c.view()
		e.SetHistory("web", e.History("web"))
		decide(5, 0.2) // the lowest yet: appended (the arrays grow, with room)
		// A view of the restored history; the one before it ends after.
		view, gen2 := c.view()
		require.Greater(t, cap(c.h.Recommendations), len(view.Recommendations), "room to record in place")
		want := view.clone()
		c.unview(gen)
		decide(6, 0.95)
		assert.Equal(t, want, view.clone(), "the view of the restored history was written over")
		c.unview(gen2)
	})
}

var signalsSink []Signal

// TestDefaultScaleInSignalsAllocateOnce: a plan's default signal is
// DefaultScaleInSignal, its own (a host that changes one plan's Max
// changes no other: TestPlan), in one allocation. Not parallel, as
// AllocsPerRun requires.
func TestDefaultScaleInSignalsAllocateOnce(t *testing.T) {
	s := defaultScaleInSignals()
	require.Len(t, s, 1)
	want := DefaultScaleInSignal()
	assert.Equal(t, want, s[0])
	assert.NotSame(t, s[0].Max, defaultScaleInSignals()[0].Max)
	allocs := testing.AllocsPerRun(100, func() { signalsSink = defaultScaleInSignals() })
	assert.InDelta(t, 1, allocs, 0)
}
