package scaling

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// Strategy recommends the capacity (horizontal) or size (vertical) of one
// target.
//
// Recommend is a pure function of s: the same State gives the same
// Recommendation, and it never reads the clock (s.Now is the time). It
// returns an error only when it cannot recommend at all (a State it cannot
// use); missing data is a Recommendation that keeps the current capacity
// with a low fitness and says why. It must be safe for concurrent use and
// must not retain s or change its slices. ctx only bounds work that may
// take long (a model fit); strategies do no I/O.
type Strategy interface {
	Recommend(ctx context.Context, s State) (Recommendation, error)
}

// StrategyFunc adapts a function to a Strategy.
type StrategyFunc func(ctx context.Context, s State) (Recommendation, error)

// Recommend calls f(ctx, s).
func (f StrategyFunc) Recommend(ctx context.Context, s State) (Recommendation, error) {
	return f(ctx, s)
}

// MetricNeeder is implemented by strategies that read metric history.
// Whoever builds the State (the Autoscaler, a simulator, a host's test)
// reads what Needs lists over [Now − Lookback, Now) and puts it in
// State.Metrics, with the need of each series in State.MetricNeeds; the
// strategy finds the series of each of its needs with State.SeriesFor
// (not State.Series: another strategy of the target may read the same
// metric with another statistic or step). Needs must return the same
// value on every call.
type MetricNeeder interface {
	Needs() []Need
}

// Need is one metric series a strategy reads.
type Need struct {
	// Metric is the metric. Required.
	Metric provider.Metric `json:"metric"`
	// Lookback is how much history ends at Now: a strategy of the latest
	// value asks for a few steps, a forecast for weeks. > 0.
	Lookback time.Duration `json:"lookback"`
	// Step is the grid step. > 0.
	Step time.Duration `json:"step"`
	// Statistic reduces the samples of a step. Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty"`
}

// Validate checks the need.
func (n Need) Validate() error {
	if err := n.Metric.Validate(); err != nil {
		return provider.Within("metric", err)
	}
	if n.Lookback <= 0 {
		return provider.Invalid("lookback", n.Lookback, "must be > 0")
	}
	if n.Step <= 0 || n.Step > n.Lookback {
		return provider.Invalid("step", n.Step, "must be > 0 and ≤ lookback")
	}
	return n.Statistic.Validate() // it names statistic
}

// Target is what is scaled: a horizontally scaled group or a resource
// resized vertically, with the bounds its policy sets.
type Target struct {
	// ID is the target's ID in the policy (unique). Required.
	ID string `json:"id"`
	// Resource is the provider's resource (a group, an instance, a
	// function). Its Size is the current size of a vertical target.
	Resource provider.Resource `json:"resource"`
	// Capacity is a group's observed capacity (zero for vertical targets).
	Capacity provider.Capacity `json:"capacity,omitzero"`
	// Min and Max bound the desired capacity the policy allows, within the
	// group's own bounds (Capacity.Min, Capacity.Max) unless a strategy
	// sets those.
	Min int `json:"min"`
	// Max is the highest desired capacity of a group; ≥ Min and ≥ 1
	// (Engine.Decide refuses a group's Target without it: unlike a
	// policy's, a Target's 0 would be the bound itself).
	Max int `json:"max"`
}

// Horizontal reports whether the target is scaled in instances (a group)
// rather than resized.
func (t Target) Horizontal() bool { return t.horizontal() }

// horizontal is Horizontal through a pointer, for the package's own
// calls: a method on a Target value, even inlined, first copies the whole
// Target (336 bytes), several times a target in a pass.
func (t *Target) horizontal() bool { return t.Resource.Kind == provider.KindGroup }

// State is everything a strategy decides on, at one time.
type State struct {
	// Now is the time of the decision. Required.
	Now time.Time `json:"now"`
	// Target is the target with its current capacity or size.
	Target Target `json:"target"`
	// Metrics are the series read for the strategies' Needs, each ending
	// at Now (at most one per metric, statistic and step; a series may
	// cover more history than one strategy asked for). A metric that could
	// not be read is absent. A strategy finds the series of its own Need
	// with SeriesFor. Values are finite or gaps (NaN): a built-in
	// strategy that reads an infinite value fails with an error matching
	// provider.ErrInvalid naming the metric and the step.
	Metrics []provider.Series `json:"metrics,omitempty"`
	// MetricNeeds, when set, holds the Need each series of Metrics was
	// read for: MetricNeeds[i] is that of Metrics[i] (its Lookback may be
	// the longest of several strategies' needs). A series does not say
	// which statistic reduced it: two series of one metric and step are
	// told apart only by their needs. The Autoscaler sets it; a host that
	// builds a State by hand may leave it empty (see SeriesFor), or set
	// one need per series.
	MetricNeeds []Need `json:"metric_needs,omitempty"`
	// MetricErrors holds the metrics whose read failed, with the error, so
	// that a strategy can say why data is missing (and an HPA strategy
	// treat the metric as invalid: no scale down).
	MetricErrors map[provider.Metric]error `json:"-"`
	// Pods is a Kubernetes target's pods and their per-metric samples as
	// the HPA reads them (filled by a PodSource, such as the Kubernetes
	// driver); nil for other targets.
	Pods *PodObservation `json:"pods,omitempty"`
	// History holds the target's recent recommendations and changes
	// (Engine.Decide gives an empty one the engine's).
	History History `json:"history"`
}

// Series returns the first series of metric m in Metrics and whether
// there is one. When the target's strategies read m with several
// statistics or steps, the first series may be another strategy's: a
// strategy reads its own with SeriesFor.
func (s State) Series(m provider.Metric) (provider.Series, bool) {
	for i := range s.Metrics {
		if s.Metrics[i].Metric == m {
			return s.Metrics[i], true
		}
	}
	return provider.Series{}, false
}

// SeriesFor returns the series of Metrics read for need n, whether there
// is one, and an error when the State cannot say which series that is.
// A strategy that reads metrics (a MetricNeeder) calls it with each of
// its Needs. The series is found by n's Metric, Statistic (empty meaning
// mean) and Step; its Lookback is not compared (a series may cover more
// history than n asks for):
//
//   - When MetricNeeds is set, the series is the first whose need has n's
//     metric, statistic and step. There is none when no such need was
//     read, or its read failed (MetricErrors says why); the series read
//     for another statistic or step of the metric is never returned.
//   - When it is not (a State built by hand with only Metrics), the
//     series is, among those of n's metric, the one at n's step, or else
//     the only one (whatever its step: a strategy that needs its own
//     step checks the series' Step). Its statistic is not known. Two
//     series of the metric at n's step, or several and none at n's
//     step, cannot be told apart: that is an error, matching
//     provider.ErrInvalid and naming the metric, rather than a guess.
//
// A MetricNeeds whose length is not that of Metrics is an error too.
func (s State) SeriesFor(n Need) (provider.Series, bool, error) {
	i, err := s.seriesIndex(&n)
	if i < 0 {
		return provider.Series{}, false, err
	}
	return s.Metrics[i], true, nil
}

// seriesIndex is SeriesFor without copying s or n: the index in s.Metrics
// of the series read for *n, or −1 (with the error, if any).
func (s *State) seriesIndex(n *Need) (int, error) {
	if len(s.MetricNeeds) > 0 {
		if len(s.MetricNeeds) != len(s.Metrics) {
			return -1, provider.Invalid("metric_needs", len(s.MetricNeeds), fmt.Sprintf("must hold the need of each of the %d series of metrics", len(s.Metrics)))
		}
		stat := meanIfEmpty(n.Statistic)
		for i := range s.MetricNeeds {
			m := &s.MetricNeeds[i]
			if m.Metric == n.Metric && m.Step == n.Step && meanIfEmpty(m.Statistic) == stat {
				return i, nil
			}
		}
		return -1, nil
	}
	only, at, count, atStep := -1, -1, 0, 0
	for i := range s.Metrics {
		ser := &s.Metrics[i]
		if ser.Metric != n.Metric {
			continue
		}
		if count == 0 {
			only = i
		}
		count++
		if ser.Step == n.Step {
			if atStep == 0 {
				at = i
			}
			atStep++
		}
	}
	switch {
	case atStep == 1:
		return at, nil
	case atStep == 0 && count == 1:
		return only, nil
	case count == 0:
		return -1, nil
	case atStep > 1:
		return -1, provider.Invalid("metrics", string(n.Metric), fmt.Sprintf(
			"%d series of %s are at step %s, and without metric_needs nothing says which holds the %s: set State.MetricNeeds (the need of each series)",
			atStep, n.Metric, n.Step, meanIfEmpty(n.Statistic)))
	default:
		return -1, provider.Invalid("metrics", string(n.Metric), fmt.Sprintf(
			"%d series of %s, none at step %s, and without metric_needs nothing says which to read: set State.MetricNeeds (the need of each series)",
			count, n.Metric, n.Step))
	}
}

// meanIfEmpty returns st, or the mean when st is empty (a Need's and a
// Query's default).
func meanIfEmpty(st provider.Statistic) provider.Statistic {
	if st == "" {
		return provider.StatMean
	}
	return st
}

// PodObservation is what a PodSource observed of a Kubernetes scale
// target for the HPA strategy: its pods and, per HPA metric (in the order
// of HPAConfig.Metrics), the values read.
type PodObservation struct {
	// StatusReplicas is scale.status.replicas.
	StatusReplicas int `json:"status_replicas"`
	// Pods are the pods the target's selector matches.
	Pods []hpa.Pod `json:"pods"`
	// Metrics are the values read for each HPA metric.
	Metrics []hpa.MetricValues `json:"metrics"`
}

// PodSource observes Kubernetes scale targets for the HPA strategy; the
// Kubernetes driver implements it.
//
// ObservePods returns the target's pods (phase, deletion, Ready condition
// and its last transition, start time, requests) and the values of each
// metric in metrics, in order, at now. A metric that cannot be read has
// its MetricValues.Err set; an error means the pods could not be listed.
// It must be safe for concurrent use and honour ctx.
type PodSource interface {
	ObservePods(ctx context.Context, target provider.Resource, metrics []hpa.MetricSpec, now time.Time) (PodObservation, error)
}

// PodRead is one target of a batch of pod observations: the target, its
// HPA metrics and the time asked for, and the answer: the observation or
// the error ObservePods would return.
type PodRead struct {
	Target      provider.Resource
	Metrics     []hpa.MetricSpec
	Now         time.Time
	Observation PodObservation
	Err         error
}

// PodBatcher is a PodSource that observes many targets in one call (the
// Kubernetes driver lists a namespace's workloads, pods and pod metrics
// once for all of its targets, instead of reading three times a target).
// ObservePodsBatch answers every read in place as ObservePods would; it
// returns the error of the call as a whole, which every read it did not
// answer then carries. It must be safe for concurrent use and honour ctx.
type PodBatcher interface {
	ObservePodsBatch(ctx context.Context, reads []PodRead) error
}

// ObservePodsBatch answers every read of reads through src: in one call
// when src is a PodBatcher, else with one ObservePods per read, stopping
// at the first read after ctx ended. It returns the error of the call as a
// whole (ctx's when it ended); each read carries its own.
func ObservePodsBatch(ctx context.Context, src PodSource, reads []PodRead) error {
	if len(reads) == 0 {
		return nil
	}
	if b, ok := src.(PodBatcher); ok {
		return b.ObservePodsBatch(ctx, reads)
	}
	for i := range reads {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(reads); j++ {
				reads[j].Observation, reads[j].Err = PodObservation{}, err
			}
			return err
		}
		r := &reads[i]
		r.Observation, r.Err = src.ObservePods(ctx, r.Target, r.Metrics, r.Now)
	}
	return nil
}

// PodSourceFunc adapts a function to a PodSource.
type PodSourceFunc func(ctx context.Context, target provider.Resource, metrics []hpa.MetricSpec, now time.Time) (PodObservation, error)

// ObservePods calls f(ctx, target, metrics, now).
func (f PodSourceFunc) ObservePods(ctx context.Context, target provider.Resource, metrics []hpa.MetricSpec, now time.Time) (PodObservation, error) {
	return f(ctx, target, metrics, now)
}

// Recommendation is a strategy's answer for one target.
type Recommendation struct {
	// Strategy names the strategy (the engine fills it in from the
	// policy's name for the strategy).
	Strategy string `json:"strategy"`
	// Capacity is the recommended capacity of a group: its Desired, and
	// its Min and Max, which a strategy that does not change them copies
	// from the Target's. The zero value keeps the current capacity (as a
	// zero Size keeps a vertical target's size): to scale a group to
	// zero, set Desired and Min to 0 and keep its Max. Zero for vertical
	// targets.
	Capacity provider.CapacitySpec `json:"capacity,omitzero"`
	// Size is the recommended size of a vertical target; zero for groups.
	Size provider.Size `json:"size,omitzero"`
	// Proposal is the strategy's raw desired capacity before its own
	// stabilization and limits (an HPA's unstabilized recommendation),
	// kept in the History for strategies that stabilize over it. It
	// equals Capacity.Desired for strategies that do not stabilize.
	Proposal int `json:"proposal"`
	// NoProposal reports that the strategy made no proposal at this
	// decision: Proposal then holds the current desired capacity, for
	// display only, and the History's record of the recommendation says
	// so (RecommendationRecord.NoProposal), so that no stabilization
	// reads it as a proposal. The HPA strategy sets it where Kubernetes'
	// controller records no recommendation: a target above its max or
	// below its min (set to the bound without reading the metrics), its
	// scaling disabled at zero replicas, or every metric failed.
	NoProposal bool `json:"no_proposal,omitempty"`
	// NoData reports that the strategy had no data to decide on: a metric
	// it reads was missing, its read failed, every value was a gap, or
	// the latest was stale. It then keeps the current capacity or size,
	// with Fitness 0, and Reason says what was missing. When every
	// strategy of a target that reads metrics (MetricNeeder, or a host's
	// strategy that reads data of its own and has said NoData once) says
	// so or fails, the target is not scaled on its load: the engine tells
	// its observer (EventNoData, and EventDataRecovered once one has data
	// again). The built-in strategies set it; a host's strategy sets it
	// for the same cases. A recommendation that keeps the capacity for
	// another reason (a forecast-only mode, a missing catalogue) does not,
	// nor one of a group at zero that lacks a utilization (cpu, memory),
	// which only instances report.
	NoData bool `json:"no_data,omitempty"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// Inputs are the values the strategy used, for the audit trail. In
	// the reports of Autoscaler.EvaluateEach they are reused for later
	// targets: copy them to keep them.
	Inputs []Input `json:"inputs,omitempty"`
	// Fitness says how well the strategy fits the situation, in [0, 1]:
	// the data it has, the strength of the pattern it relies on, its
	// recent accuracy. The engine picks the fittest strategy unless one is
	// pinned. 0 means "no opinion" (no data).
	Fitness float64 `json:"fitness"`
}

// Input is one value a strategy used.
type Input struct {
	// Name says what it is ("cpu mean", "target", "breach").
	Name string `json:"name"`
	// Value is the value.
	Value float64 `json:"value"`
	// Unit is its unit, such as "fraction", "1/s", "instances".
	Unit string `json:"unit,omitempty"`
}

// Validate checks that the recommendation is usable for t: a capacity
// with 0 ≤ Min ≤ Desired ≤ Max for a group, a size valid for the
// resource's kind otherwise, and a fitness in [0, 1].
func (r Recommendation) Validate(t Target) error { return r.validate(&t) }

// validate is Validate without copying t.
func (r *Recommendation) validate(t *Target) error {
	if math.IsNaN(r.Fitness) || r.Fitness < 0 || r.Fitness > 1 {
		return provider.Invalid("fitness", r.Fitness, "must be in [0, 1]")
	}
	if t.horizontal() {
		if err := r.Capacity.Validate(); err != nil {
			return provider.Within("capacity", err)
		}
		return nil
	}
	if r.Size.IsZero() {
		return nil // keep the current size
	}
	if err := r.Size.ValidateFor(t.Resource.Kind); err != nil {
		return provider.Within("size", err)
	}
	return nil
}

// HistoryWindower is implemented by a strategy that says how much of a
// target's History it reads, so that the engine keeps no more of it.
// The engine keeps, per target, the longest window of the target's
// strategies; a target with a strategy that does not implement it keeps
// EngineConfig.HistoryRetention. The newest recommendation of each
// strategy and the newest change are kept whatever their age.
type HistoryWindower interface {
	// HistoryWindow is the age beyond which no History entry can change
	// the strategy's recommendation: 0 when it reads none of it.
	HistoryWindow() time.Duration
}

// ExtremesReader is implemented by a strategy that reads its own past
// recommendations in the History only through the highest and the lowest
// of their values among those made within a window before (or after) the
// decision's time; the values of a record are its Proposal (none when it
// is NoProposal), and also its Current when it is the strategy's First.
// The HPA strategy is one: its stabilization takes the highest
// recommendation of the scale-down window and, with a behavior, the
// lowest of the scale-up window.
//
// The engine then keeps only the records of the strategy that some
// window can still read as its highest or lowest value: a record is
// dropped once a later record of the same strategy is at least as high
// (when the strategy reads the highest) and one is at least as low (when
// it reads the lowest), since every window that holds a record holds the
// later ones too. A target whose strategy proposes the same count at
// every decision keeps one record of it instead of one per decision in
// the window. Records of other strategies are not touched, and records
// are dropped only where their times run forward: a decision whose Now
// is before an earlier one stops the dropping there, and the oldest
// record after that point is kept, so that a strategy that reads back
// from the newest record and stops at the first one before its window
// (as the HPA does) stops at the same place. The engine drops nothing
// for a target with a strategy that does not say what it reads
// (HistoryWindower): such a strategy may read the others' records. A
// type that embeds *HPA inherits HistoryExtremes: shadow it if the type
// reads the History otherwise.
type ExtremesReader interface {
	// HistoryExtremes says which of the extremes the strategy reads:
	// the highest value in a window, the lowest, or both.
	HistoryExtremes() (highest, lowest bool)
}

// History is what the engine remembers of a target: its recent
// recommendations (one per strategy per decision) and changes
// (every executed change, rollbacks included), oldest first.
type History struct {
	// Recommendations are the recent recommendations.
	Recommendations []RecommendationRecord `json:"recommendations,omitempty"`
	// Changes are the recent changes made to the target, oldest first.
	Changes []Change `json:"changes,omitempty"`

	pruneAt time.Time // when prune next looks for old entries
}

// RecommendationRecord is one recommendation in the History.
type RecommendationRecord struct {
	// At is when it was made.
	At time.Time `json:"at"`
	// Strategy names the strategy that made it.
	Strategy string `json:"strategy"`
	// Current is the desired capacity when it was made.
	Current int `json:"current"`
	// Desired is the recommended desired capacity.
	Desired int `json:"desired"`
	// Proposal is the strategy's raw proposal (Recommendation.Proposal).
	Proposal int `json:"proposal"`
	// First marks the strategy's first recommendation for the target.
	First bool `json:"first,omitempty"`
	// NoProposal marks a recommendation made without a proposal
	// (Recommendation.NoProposal): its Proposal is none. The HPA
	// strategy's stabilization does not read it, nor does the engine
	// count it among the strategy's highest and lowest values
	// (ExtremesReader); of a First record without a proposal only the
	// Current is read, as Kubernetes records the current count on its
	// first sight of an autoscaler whatever it decides. Absent (false)
	// in records written before it existed.
	NoProposal bool `json:"no_proposal,omitempty"`
}

// Change is one change made to a target: a plan step the engine
// executed (or rolled back), or a change recorded with RecordChange.
type Change struct {
	// At is when the change was made.
	At time.Time `json:"at"`
	// PlanID and Step identify the plan step (Step counts from 1; rollback
	// steps carry the plan's ID and Rollback).
	PlanID string `json:"plan_id"`
	// Step is the step's number in its plan.
	Step int `json:"step"`
	// Strategy names the strategy whose plan it was.
	Strategy string `json:"strategy"`
	// Rollback marks a rollback step.
	Rollback bool `json:"rollback,omitempty"`
	// From and To are the capacity before and after (groups).
	From provider.CapacitySpec `json:"from,omitzero"`
	// To is the capacity after.
	To provider.CapacitySpec `json:"to,omitzero"`
	// FromSize and ToSize are the size before and after (vertical).
	FromSize provider.Size `json:"from_size,omitzero"`
	// ToSize is the size after.
	ToSize provider.Size `json:"to_size,omitzero"`
}

// record appends rec to the history and drops what is older than
// retention, keeping the newest record of every strategy (so that a
// strategy can tell its first decision from a later one).
func (h *History) record(rec RecommendationRecord, retention time.Duration) {
	first := true
	for i := len(h.Recommendations) - 1; i >= 0; i-- {
		if h.Recommendations[i].Strategy == rec.Strategy {
			first = false
			break
		}
	}
	rec.First = first
	h.Recommendations = append(h.Recommendations, rec)
	h.prune(rec.At, retention)
}

// supersede drops the records of the strategy of the newest record that
// no window can read as the strategy's highest (when highest) or lowest
// (when lowest) value any longer (see ExtremesReader): scanning back from
// the newest record, one that a later record of the same strategy
// matches or exceeds in each direction read. It stops at a record whose
// time is not at or before the later one's (in both the monotonic and the
// wall clock reading, both with or both without a monotonic reading), or
// whose values do not fit in an int32 (the HPA's replica counts); the
// oldest record scanned before that stop is kept.
func (h *History) supersede(highest, lowest bool) {
	recs := h.Recommendations
	n := len(recs)
	if n < 2 {
		return
	}
	newest := &recs[n-1]
	hi, lo, ok := extremes(newest)
	if !ok {
		return
	}
	// The run: the strategy's records back from the newest while their
	// times run forward. When something older stops it, the run's oldest
	// record is kept whatever its values: a reader that scans back and
	// stops at its first record before a cutoff (the HPA's history) then
	// stops inside the run with the kept records as it does with all of
	// them, instead of reading on into the older records.
	stop, oldest := -1, n-1
	for j, at := n-2, newest.At; j >= 0; j-- {
		r := &recs[j]
		if r.Strategy != newest.Strategy {
			continue
		}
		if _, _, ok := extremes(r); !ok || !ordered(r.At, at) {
			stop = j
			break
		}
		oldest, at = j, r.At
	}
	w := n - 1 // recs[w:] are kept, in order (moved only once one is dropped)
	i := n - 2
	for ; i > stop; i-- {
		r := &recs[i]
		if r.Strategy != newest.Strategy {
			if w--; w != i {
				recs[w] = *r
			}
			continue
		}
		rhi, rlo, _ := extremes(r)
		if (highest && rhi > hi) || (lowest && rlo < lo) || (stop >= 0 && i == oldest) {
			if w--; w != i {
				recs[w] = *r
			}
		}
		hi, lo = max(hi, rhi), min(lo, rlo)
	}
	if w == i+1 {
		return // nothing dropped
	}
	// recs[:i+1] stay where they are; the kept records of recs[i+1:]
	// follow them. (Moved one by one: mostly one record, which copy and
	// clear move through calls into the runtime.)
	k := i + 1
	for ; w < n; w, k = w+1, k+1 {
		recs[k] = recs[w]
	}
	for j := k; j < n; j++ {
		recs[j] = RecommendationRecord{}
	}
	h.Recommendations = recs[:k]
}

// extremes returns the highest and lowest values of r (its Proposal
// unless NoProposal, and its Current when First), and whether they fit in
// an int32. A record without values has the highest math.MinInt and the
// lowest math.MaxInt: it covers no other record, and any covers it.
func extremes(r *RecommendationRecord) (hi, lo int, ok bool) {
	hi, lo = math.MinInt, math.MaxInt
	if !r.NoProposal {
		hi, lo = r.Proposal, r.Proposal
	}
	if r.First {
		hi, lo = max(hi, r.Current), min(lo, r.Current)
	}
	if hi < lo {
		return hi, lo, true // no values
	}
	return hi, lo, lo >= math.MinInt32 && hi <= math.MaxInt32
}

// ordered reports whether a is at or before b in every way two times
// can be compared: with their monotonic clock readings and without, and
// both carry one or neither does. Then a window (a cutoff compared with
// either) that holds a holds b.
func ordered(a, b time.Time) bool {
	m := monotonic(a)
	if m != monotonic(b) {
		return false
	}
	// Without monotonic readings, the two comparisons are one.
	return !b.Before(a) && (!m || !b.Round(0).Before(a.Round(0)))
}

// monotonic reports whether t carries a monotonic clock reading (Round(0)
// strips it, and == sees the difference).
func monotonic(t time.Time) bool {
	return t != t.Round(0) //nolint:staticcheck // == compares the monotonic reading on purpose
}

// pruneEvery is the shortest time between two prunes of a History: a
// record is dropped up to pruneEvery (or retention/8) after it is due.
const pruneEvery = time.Minute

// prune drops records and changes older than now − retention, except the
// newest record of each strategy and the newest change. It runs at most
// every max(retention/8, pruneEvery), so that its cost does not grow
// with every decision.
func (h *History) prune(now time.Time, retention time.Duration) {
	if now.Before(h.pruneAt) {
		return
	}
	h.pruneAt = now.Add(max(retention/8, pruneEvery))
	cutoff := now.Add(-retention)
	if recs := h.Recommendations; len(recs) > 0 && recs[0].At.Before(cutoff) {
		// recs[:old] are before the cutoff; of those, the newest of a
		// strategy with no later record is kept.
		old := 0
		for old < len(recs) && recs[old].At.Before(cutoff) {
			old++
		}
		var stack [8]string
		later := stack[:0] // the strategies of the records kept after i
		for _, r := range recs[old:] {
			later = appendNew(later, r.Strategy)
		}
		keep := old // recs[keep:] are kept, in order
		for i := old - 1; i >= 0; i-- {
			if l := appendNew(later, recs[i].Strategy); len(l) > len(later) {
				later = l
				keep--
				recs[keep] = recs[i] // keep ≥ i: recs[keep] is not one kept so far
			}
		}
		kept := recs[:copy(recs, recs[keep:])]
		clear(recs[len(kept):])
		h.Recommendations = kept
	}
	if ch := h.Changes; len(ch) > 1 && ch[0].At.Before(cutoff) {
		old := 0
		for old < len(ch)-1 && ch[old].At.Before(cutoff) {
			old++
		}
		kept := ch[:copy(ch, ch[old:])]
		clear(ch[len(kept):])
		h.Changes = kept
	}
}

// appendNew appends s to set unless set holds it.
func appendNew(set []string, s string) []string {
	for _, x := range set {
		if x == s {
			return set
		}
	}
	return append(set, s)
}

// clone returns a copy of h that shares nothing with it.
func (h History) clone() History {
	return History{
		Recommendations: append([]RecommendationRecord(nil), h.Recommendations...),
		Changes:         append([]Change(nil), h.Changes...),
		pruneAt:         h.pruneAt,
	}
}

// view returns h with capped slices: appending to h later does not write
// into the view. The view shares h's arrays, which prune and supersede
// compact in place: use it only while h is not changed, or copied first
// (historyCell.view counts its views, and the cell copies h before
// changing it under one).
func (h History) view() History {
	return History{
		Recommendations: h.Recommendations[:len(h.Recommendations):len(h.Recommendations)],
		Changes:         h.Changes[:len(h.Changes):len(h.Changes)],
	}
}

// freshness scores how recent the latest sample is: 1 when it is in the
// last step, falling linearly to 0 at stale (several steps old).
func freshness(now, at time.Time, step time.Duration, stale int) float64 {
	age := now.Sub(at.Add(step))
	if age <= 0 {
		return 1
	}
	f := 1 - float64(age)/float64(time.Duration(stale)*step)
	return math.Max(0, f)
}

// staleSteps is how many steps after the end of its step a value's
// freshness falls to 0 for the strategies that read the latest values
// (threshold, target value, step).
const staleSteps = 5

// readFrom is the time from which a strategy that reads the latest values
// (threshold, step) reads a series, at now, for its need's lookback and
// step: now − lookback, or earlier when that is shorter than the time a
// value stays fresh (staleSteps after its step's end), so that every
// value whose freshness is above 0 is read. A series may cover more (the
// longest need of the target's strategies of its metric, statistic and
// step): its older values are another strategy's.
func readFrom(now time.Time, lookback, step time.Duration) time.Time {
	return now.Add(-max(lookback, (staleSteps+1)*step))
}

// staleReason returns, when the latest value of metric m (of the step
// that starts at at) is so old that its freshness is 0, the reason of a
// recommendation that keeps the capacity; else "". A series may cover
// more history than a strategy asked for (State.Metrics): a metric no
// longer published leaves its last value, however old, as the latest,
// which is no data to scale on (fail closed: the capacity is kept).
func staleReason(now, at time.Time, step time.Duration, m provider.Metric) string {
	if freshness(now, at, step, staleSteps) > 0 {
		return ""
	}
	return fmt.Sprintf("no recent %s data: the latest ended %s before now (%d steps of %s or more: stale)", m, now.Sub(at.Add(step)), staleSteps, step)
}

// clampInt returns v bounded to [lo, hi].
func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// keep is a recommendation that leaves a group's capacity as it is.
func keep(t *Target, reason string) Recommendation {
	return Recommendation{Capacity: t.Capacity.CapacitySpec, Proposal: t.Capacity.Desired, Reason: reason}
}

// noData returns a recommendation that keeps the group t's capacity for
// want of data of metric m, saying why: Recommendation.NoData, unless the
// group is at zero and m is a utilization, which its instances report:
// with none there is none to read, by design (a group scheduled to zero
// at night), as Kubernetes' HPA does not scale at zero replicas.
func noData(t *Target, m provider.Metric, reason string) Recommendation {
	r := keep(t, reason)
	r.NoData = t.Capacity.Desired > 0 || !m.IsUtilization()
	return r
}

// desired returns a recommendation of desired capacity n for group t,
// keeping its bounds: n is clamped to the group's [Min, Max] (the
// strategies clamp to the bounds rather than recommend what the group
// refuses), and the reason says so.
func desired(t *Target, n int, reason string) Recommendation {
	spec := t.Capacity.CapacitySpec
	spec.Desired = clampInt(n, spec.Min, spec.Max)
	if spec.Desired != n {
		reason += fmt.Sprintf(" (bounded to %d by the group's [%d, %d])", spec.Desired, spec.Min, spec.Max)
	}
	return Recommendation{Capacity: spec, Proposal: spec.Desired, Reason: reason}
}

// needSeries returns the series of s read for a strategy's need n
// (State.SeriesFor); when there is none, a reason for a recommendation
// that keeps the capacity; or the error of a State whose series cannot
// be told apart.
func needSeries(s *State, n *Need) (provider.Series, string, error) {
	i, err := s.seriesIndex(n)
	switch {
	case err != nil:
		return provider.Series{}, "", err
	case i < 0:
		if err := s.MetricErrors[n.Metric]; err != nil {
			return provider.Series{}, fmt.Sprintf("no %s data: %v", n.Metric, err), nil
		}
		return provider.Series{}, fmt.Sprintf("no %s data", n.Metric), nil
	}
	return s.Metrics[i], "", nil
}

// checkLast returns an error matching provider.ErrInvalid, naming the
// metric m and the step, when one of the last n values of ser that hold
// data (not gaps) is infinite, or negative when m is a utilization (cpu,
// memory): no load is infinite (a step without data is a gap, NaN), nor
// a fraction of the instances' capacity below zero, and a strategy that
// read it as one would scale to a bound (a negative utilization reads as
// an idle group: a scale in resting on garbage). A custom metric may be
// negative. Those are the values a strategy that reads the latest ones
// reads: a series may cover more history than it asked for
// (State.Metrics), and a value it does not read fails no decision, nor is
// scanned on every one: only values from from on are read (the zero time:
// any).
func checkLast(ser *provider.Series, m provider.Metric, n int, from time.Time) error {
	for i := len(ser.Values) - 1; i >= 0 && n > 0 && !ser.TimeAt(i).Before(from); i-- {
		v := ser.Values[i]
		if provider.IsGap(v) {
			continue
		}
		if math.IsInf(v, 0) {
			return badValue(ser, m, i, notFinite)
		}
		if v < 0 && m.IsUtilization() {
			return badValue(ser, m, i, notNegative)
		}
		n--
	}
	return nil
}

// notFinite is the reason of badValue for an infinite value.
const notFinite = "must be finite or a gap (NaN)"

// notNegative is the reason of badValue for a negative utilization.
const notNegative = "a utilization must be ≥ 0 (a fraction of the instances' capacity) or a gap (NaN)"

// badValue is the error matching provider.ErrInvalid for value i of ser,
// the series of metric m: the field names the metric and the step's time.
func badValue(ser *provider.Series, m provider.Metric, i int, why string) error {
	return provider.Invalid(fmt.Sprintf("metrics.%s[%s]", m, ser.TimeAt(i).UTC().Format(time.RFC3339)), ser.Values[i], why)
}
