package scaling

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestSupersedeKeepsEveryExtreme checks History.supersede against the
// full record: random decisions of two strategies (one superseded, one
// not), some at the same time, some at an earlier time than the one
// before, with and without monotonic clock readings, First records with
// their Current, proposals that repeat, rise and fall, and records
// without a proposal (NoProposal: no value but a First's Current; their
// Proposal, the current count, is not one). After every
// decision, every window the HPA can read (a cutoff compared with
// !Before, as without a behavior, and with Compare > 0, as with one;
// cutoffs before, at and after each record, with and without a monotonic
// reading) holds the same highest and lowest values in the kept records
// as in all of them, in the directions read; the other strategy's records
// are all there, in order; and in the runs without a time going back,
// nothing is kept that a later record matches in both directions.
func TestSupersedeKeepsEveryExtreme(t *testing.T) {
	t.Parallel()
	base := time.Now() // with a monotonic reading
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 11))
		highest, lowest := rng.IntN(4) != 0, rng.IntN(3) == 0
		back := seed%3 == 0 // times may go back
		var kept, all History
		at := base.Add(time.Duration(rng.IntN(100)) * time.Second)
		p := 5
		for step := range 40 {
			switch r := rng.IntN(10); {
			case r < 2: // the same time
			case r < 3 && back:
				at = at.Add(-time.Duration(1+rng.IntN(30)) * time.Second)
			default:
				at = at.Add(time.Duration(1+rng.IntN(30)) * time.Second)
			}
			stamp := at
			if seed%5 == 1 || seed%5 == 2 && rng.IntN(2) == 0 {
				stamp = at.Round(0) // no monotonic reading (all, or mixed)
			}
			switch r := rng.IntN(6); {
			case r < 2: // repeat
			case r < 4:
				p += rng.IntN(3) - 1
			default:
				p = rng.IntN(12)
			}
			name := "s"
			if rng.IntN(4) == 0 {
				name = "other"
			}
			rec := RecommendationRecord{At: stamp, Strategy: name, Current: rng.IntN(12), Proposal: p}
			if rng.IntN(5) == 0 {
				rec.Proposal, rec.NoProposal = 20+rng.IntN(12), true // far out of the proposals: a bug shows
			}
			all.record(rec, 24*time.Hour)
			kept.record(rec, 24*time.Hour)
			if name == "s" {
				kept.supersede(highest, lowest)
			}
			compareExtremes(t, seed, step, &kept, &all, highest, lowest, base)
		}
		if !back && seed%5 != 2 { // times forward, all with or all without a monotonic reading
			for i, r := range kept.Recommendations {
				if r.Strategy != "s" {
					continue
				}
				hi, lo, _ := extremes(&r)
				later, dominatedHi, dominatedLo := false, !highest, !lowest
				for _, l := range kept.Recommendations[i+1:] {
					if l.Strategy == "s" {
						lhi, llo, _ := extremes(&l)
						later, dominatedHi, dominatedLo = true, dominatedHi || lhi >= hi, dominatedLo || llo <= lo
					}
				}
				assert.False(t, later && dominatedHi && dominatedLo, "seed %d: record %d of s is kept though later ones cover it", seed, i)
			}
		}
	}
}

// compareExtremes fails when a window reads other extremes in kept than
// in all, or when kept lost a record of another strategy.
func compareExtremes(t *testing.T, seed uint64, step int, kept, all *History, highest, lowest bool, base time.Time) {
	t.Helper()
	var others [2][]RecommendationRecord
	for k, h := range []*History{kept, all} {
		for _, r := range h.Recommendations {
			if r.Strategy != "s" {
				others[k] = append(others[k], r)
			}
		}
	}
	require.Equal(t, others[1], others[0], "seed %d step %d: other strategies' records", seed, step)
	var cutoffs []time.Time
	for _, r := range all.Recommendations {
		for _, d := range []time.Duration{-time.Second, 0} { // before a record, and at it (strict: just after)
			c := r.At.Add(d)
			cutoffs = append(cutoffs, c, c.Round(0))
		}
	}
	cutoffs = append(cutoffs, base.Add(-time.Hour), base.Add(-time.Hour).Round(0))
	for _, c := range cutoffs {
		for _, strict := range []bool{false, true} {
			in := func(at time.Time) bool {
				if strict {
					return at.Compare(c) > 0 // stabilizeWithBehavior
				}
				return !at.Before(c) // stabilize
			}
			ext := func(h *History) (hi, lo int, n int) {
				hi, lo = math.MinInt, math.MaxInt
				for _, r := range h.Recommendations {
					if r.Strategy != "s" || !in(r.At) {
						continue
					}
					rhi, rlo, _ := extremes(&r)
					if rhi < rlo {
						continue // no value: a window of only such records is empty
					}
					hi, lo, n = max(hi, rhi), min(lo, rlo), n+1
				}
				return hi, lo, n
			}
			khi, klo, kn := ext(kept)
			ahi, alo, an := ext(all)
			if highest || lowest { // a strategy that reads neither reads no value
				require.Equal(t, an > 0, kn > 0, "seed %d step %d: a window without values in one only", seed, step)
			}
			if highest {
				require.Equal(t, ahi, khi, "seed %d step %d cutoff %v strict %v: highest", seed, step, c, strict)
			}
			if lowest {
				require.Equal(t, alo, klo, "seed %d step %d cutoff %v strict %v: lowest", seed, step, c, strict)
			}
		}
	}
}

// TestSupersedeCases pins supersede on small histories, with records
// without a proposal among them.
func TestSupersedeCases(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	rec := func(sec int, strategy string, proposal int) RecommendationRecord {
		return RecommendationRecord{At: t0.Add(time.Duration(sec) * time.Second), Strategy: strategy, Proposal: proposal}
	}
	none := func(sec, current int) RecommendationRecord { // a record without a proposal
		r := rec(sec, "s", current)
		r.NoProposal = true
		return r
	}
	proposals := func(h History) []int {
		var out []int
		for _, r := range h.Recommendations {
			out = append(out, r.Proposal)
		}
		return out
	}
	for _, tt := range []struct {
		name            string
		give            []RecommendationRecord
		highest, lowest bool
		want            []int
	}{
		{"highest: equal later drops", []RecommendationRecord{rec(0, "s", 3), rec(15, "s", 3)}, true, false, []int{3}},
		{"highest: a higher earlier stays", []RecommendationRecord{rec(0, "s", 4), rec(15, "s", 3)}, true, false, []int{4, 3}},
		{"highest: a falling run stays", []RecommendationRecord{rec(0, "s", 5), rec(15, "s", 4), rec(30, "s", 6)}, true, false, []int{6}},
		{"lowest: a rising run stays", []RecommendationRecord{rec(0, "s", 1), rec(15, "s", 2), rec(30, "s", 3)}, false, true, []int{1, 2, 3}},
		{"both: only what is above or below all later", []RecommendationRecord{rec(0, "s", 5), rec(15, "s", 1), rec(30, "s", 3), rec(45, "s", 3)}, true, true, []int{5, 1, 3}},
		{"neither: the newest only", []RecommendationRecord{rec(0, "s", 5), rec(15, "s", 1)}, false, false, []int{1}},
		{"other strategies stay in place", []RecommendationRecord{rec(0, "s", 2), rec(5, "o", 9), rec(15, "s", 2), rec(20, "o", 1), rec(30, "s", 2)}, true, true, []int{9, 1, 2}},
		{"a time going back stops it, keeping the run's oldest", []RecommendationRecord{rec(0, "s", 2), rec(30, "s", 2), rec(15, "s", 2), rec(20, "s", 2), rec(45, "s", 2)}, true, true, []int{2, 2, 2, 2}},
		{"a newest of another strategy: nothing", []RecommendationRecord{rec(0, "s", 2), rec(15, "s", 2), rec(30, "o", 2)}, true, true, []int{2, 2, 2}},
		{"beyond int32: stops, keeping the run's oldest", []RecommendationRecord{rec(0, "s", 2), rec(10, "s", math.MaxInt32+1), rec(15, "s", 2), rec(20, "s", 2), rec(30, "s", 2)}, true, true, []int{2, math.MaxInt32 + 1, 2, 2}},
		{"no stop: the oldest may go", []RecommendationRecord{rec(0, "s", 2), rec(15, "s", 2), rec(30, "s", 2)}, true, true, []int{2}},
		{"no proposal covers nothing", []RecommendationRecord{rec(0, "s", 4), rec(15, "s", 2), none(30, 15)}, true, true, []int{4, 2, 15}},
		{"no proposal is covered by any later", []RecommendationRecord{rec(0, "s", 4), none(15, 15), none(20, 1), rec(30, "s", 4)}, true, true, []int{4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := History{Recommendations: append([]RecommendationRecord(nil), tt.give...)}
			h.supersede(tt.highest, tt.lowest)
			assert.Equal(t, tt.want, proposals(h))
			for _, r := range h.Recommendations[len(h.Recommendations):cap(h.Recommendations)] {
				assert.Zero(t, r, "the dropped records are cleared")
			}
		})
	}
	// A First record counts its Current too: a later proposal equal to
	// its Proposal does not cover a higher Current.
	first := RecommendationRecord{At: t0, Strategy: "s", Current: 7, Proposal: 3, First: true}
	h := History{Recommendations: []RecommendationRecord{first, rec(15, "s", 3)}}
	h.supersede(true, false)
	assert.Len(t, h.Recommendations, 2, "the First's Current 7 is higher")
	h = History{Recommendations: []RecommendationRecord{first, rec(15, "s", 7)}}
	h.supersede(true, false)
	assert.Len(t, h.Recommendations, 1)
	first.Current = 1
	h = History{Recommendations: []RecommendationRecord{first, rec(15, "s", 3)}}
	h.supersede(false, true)
	assert.Len(t, h.Recommendations, 2, "the First's Current 1 is lower")
	// A First without a proposal counts its Current.
	first = RecommendationRecord{At: t0, Strategy: "s", Current: 7, Proposal: 7, First: true, NoProposal: true}
	h = History{Recommendations: []RecommendationRecord{first, rec(15, "s", 3)}}
	h.supersede(true, false)
	assert.Len(t, h.Recommendations, 2, "the First's Current 7 is higher")
	h = History{Recommendations: []RecommendationRecord{first, rec(15, "s", 7)}}
	h.supersede(true, true)
	assert.Len(t, h.Recommendations, 1)
	// Times with and without a monotonic reading are not compared.
	mono := time.Now()
	h = History{Recommendations: []RecommendationRecord{{At: mono, Strategy: "s", Proposal: 2}, {At: mono.Add(time.Second).Round(0), Strategy: "s", Proposal: 2}}}
	h.supersede(true, true)
	assert.Len(t, h.Recommendations, 2)
	h = History{Recommendations: []RecommendationRecord{{At: mono, Strategy: "s", Proposal: 2}, {At: mono.Add(time.Second), Strategy: "s", Proposal: 2}}}
	h.supersede(true, true)
	assert.Len(t, h.Recommendations, 1)
}

// TestSupersedeThroughHPAHistory checks supersede where it matters: what
// the HPA strategy's history passes to the calculator, from the kept
// records and from all of them, holds the same highest and lowest
// proposal in every stabilization window the calculator reads (a cutoff
// compared with !Before without a behavior, with Compare > 0 with one),
// for decisions whose times mostly run forward but sometimes go back,
// some without a proposal (which neither reads, and supersede must not
// count), with and without a behavior. (History scans back from the newest record
// and stops at the first one before its window: a review found that
// dropping the record where it stops let it read on into older records
// after a time that went back, hence the run's oldest record is kept.)
func TestSupersedeThroughHPAHistory(t *testing.T) {
	t.Parallel()
	tenMin, fiveMin := 10*time.Minute, 5*time.Minute
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, cfg := range []HPAConfig{
		{},
		{Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: &tenMin}, ScaleUp: &hpa.ScalingRules{StabilizationWindow: &fiveMin}}},
	} {
		s, err := NewHPA(cfg, "s")
		require.NoError(t, err)
		calc, err := hpa.NewCalculator(s.cfg.Controller, s.cfg.spec(1, 1))
		require.NoError(t, err)
		sc := &hpaScratch{calc: calc} // one scratch, deciding at times back and forth
		down, up := calc.Config().DownscaleStabilizationWindow, time.Duration(0)
		if b := calc.Spec().Behavior; b != nil {
			down, up = *b.ScaleDown.StabilizationWindow, *b.ScaleUp.StabilizationWindow
		}
		extremes := func(log []hpa.TimedReplicas, now time.Time) [2]int32 {
			hi, lo := int32(-1), int32(math.MaxInt32)
			for _, r := range log {
				if cfg.Behavior == nil && !r.At.Before(now.Add(-down)) || cfg.Behavior != nil && r.At.Compare(now.Add(-down)) > 0 {
					hi = max(hi, r.Replicas)
				}
				if cfg.Behavior != nil && r.At.Compare(now.Add(-up)) > 0 {
					lo = min(lo, r.Replicas)
				}
			}
			return [2]int32{hi, lo}
		}
		for seed := range uint64(250) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var all, kept History
			at := t0
			var ha, hk hpa.History
			for step := range 30 {
				if rng.IntN(5) == 0 {
					at = at.Add(-time.Duration(rng.IntN(400)) * time.Second)
				} else {
					at = at.Add(time.Duration(rng.IntN(120)) * time.Second)
				}
				rec := RecommendationRecord{At: at, Strategy: "s", Proposal: rng.IntN(10), Current: rng.IntN(10)}
				if rng.IntN(4) == 0 { // no proposal: its Proposal is the current count
					rec.Proposal, rec.NoProposal = rec.Current, true
				}
				all.record(rec, 24*time.Hour)
				kept.record(rec, 24*time.Hour)
				kept.supersede(s.HistoryExtremes())
				for k := -10; k < 30; k += 2 {
					now := at.Add(time.Duration(k) * 30 * time.Second)
					s.history(&State{Now: now, History: all}, sc, &ha)
					s.history(&State{Now: now, History: kept}, sc, &hk)
					require.Equal(t, extremes(ha.Recommendations, now), extremes(hk.Recommendations, now),
						"behavior %v seed %d step %d now %s", cfg.Behavior != nil, seed, step, now.Sub(t0))
					require.Equal(t, ha.Recommendations == nil, hk.Recommendations == nil, "a first decision in one only")
				}
			}
		}
	}
}
