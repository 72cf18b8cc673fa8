package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of a replay: the oracle's and every policy's and
// baseline's metrics (policies first, in the order given, then the
// baselines). It encodes to JSON as it is.
type Report struct {
	// Config is the simulator's configuration, defaults filled in.
	Config Config `json:"config"`
	// Start is the first replayed step; Step the steps' length.
	Start time.Time `json:"start"`
	// Step is the length of a step.
	Step time.Duration `json:"step"`
	// Steps is the number of replayed steps.
	Steps int `json:"steps"`
	// Oracle is the oracle's result.
	Oracle Result `json:"oracle"`
	// Results are the policies' and baselines' results.
	Results []Result `json:"results"`
}

// Result returns the result named name (the oracle's too) and whether
// there is one.
func (r *Report) Result(name string) (Result, bool) {
	if name == OracleName {
		return r.Oracle, true
	}
	for _, x := range r.Results {
		if x.Name == name {
			return x, true
		}
	}
	return Result{}, false
}

// Result is one policy's replay.
type Result struct {
	// Name is the policy's, baseline's or the oracle's name.
	Name string `json:"name"`
	// Metrics are the totals.
	Metrics Metrics `json:"metrics"`
	// Steps are the per-step records when Config.KeepSteps is set, one for
	// each counted step (not the gap steps of Config.SkipGaps).
	Steps []Step `json:"steps,omitempty"`
	// Chosen counts, for a policy of Candidates, the steps on which each
	// candidate's recommendation was chosen (its Gate or Limiter may have
	// let less of it through), by name, 0 for one never chosen; gaps are
	// left out, as in Metrics.
	Chosen map[string]int `json:"chosen,omitempty"`
}

// Step is one replayed step of a policy.
type Step struct {
	// Time is the step's start.
	Time time.Time `json:"time"`
	// Demand is the step's demand.
	Demand float64 `json:"demand"`
	// Desired is the capacity the policy set at the step's start: what it
	// asked for, within Min and Max, as far as its Gate and Limiter let
	// it through.
	Desired int `json:"desired"`
	// Actual is the capacity serving during the step (Desired less what
	// is still being provisioned).
	Actual int `json:"actual"`
	// Oracle is the oracle's capacity: the capacity the step needs,
	// ⌈demand / (c·u)⌉, within Min and Max.
	Oracle int `json:"oracle"`
	// Strategy is the strategy whose recommendation was carried out (the
	// candidate's name; the policy's or baseline's for a single
	// strategy; empty for the oracle).
	Strategy string `json:"strategy,omitempty"`
}

// Metrics are a replay's totals. The shares follow the SPEC Research
// Group's elasticity metrics (Herbst et al., "Ready for Rain? A View from
// SPEC Research on the Future of Cloud Metrics", 2016): with s_t the
// capacity serving at step t, n_t = ⌈demand_t / (c·u)⌉ the capacity the
// demand needs and o_t the oracle's (n_t within Min and Max), over the T
// replayed steps,
//
//	τ_U = #{t: s_t < n_t} / T          (the SLO violation share: demand > s_t·c·u)
//	τ_O = #{t: s_t > o_t} / T
//	θ_U = Σ max(n_t − s_t, 0) / n_t / T
//	θ_O = Σ max(s_t − o_t, 0) / max(o_t, 1) / T
//
// The under-provisioning shares count every step whose demand the
// capacity does not carry, also where Max keeps the group (and the
// oracle) below what the demand needs; the over-provisioning shares
// count only the capacity above what the bounds let a group go down to.
type Metrics struct {
	// Steps is the number of steps counted.
	Steps int `json:"steps"`
	// CapacityHours is Σ s_t × the step in hours.
	CapacityHours float64 `json:"capacity_hours"`
	// Cost is CapacityHours × Config.CostPerInstanceHour.
	Cost float64 `json:"cost"`
	// CostRatio is Cost over the oracle's (1 for the oracle). When the
	// oracle costs nothing (a group at Min 0 with no demand) it is 1 for
	// a replay that costs nothing too, and NaN otherwise: null in JSON,
	// "-" in the table.
	CostRatio float64 `json:"cost_ratio"`
	// TauU is the share of steps under-provisioned (SLO violations).
	TauU float64 `json:"tau_u"`
	// TauO is the share of steps over-provisioned.
	TauO float64 `json:"tau_o"`
	// ThetaU is the mean relative shortfall.
	ThetaU float64 `json:"theta_u"`
	// ThetaO is the mean relative excess.
	ThetaO float64 `json:"theta_o"`
	// Changes is the number of changes of the desired capacity, from the
	// capacity serving before the first replayed step (the one the step
	// before needs, the same for every policy and the oracle) on: a
	// change at the first replayed step counts.
	Changes int `json:"changes"`
	// Reversals is the number of changes in the opposite direction of the
	// change before.
	Reversals int `json:"reversals"`
	// ReversalsPerHour is Reversals over the replayed hours (Report.Steps
	// steps, gaps included: the changes made during gaps count too).
	ReversalsPerHour float64 `json:"reversals_per_hour"`
}

func (m *Metrics) relativeTo(oracle Metrics) {
	m.CostRatio = m.Cost / oracle.Cost
	if oracle.Cost == 0 {
		m.CostRatio = math.NaN()
		if m.Cost == 0 {
			m.CostRatio = 1
		}
	}
}

// meter accumulates the metrics of one replay.
type meter struct {
	cfg     Config
	tr      *trace
	m       Metrics
	prev    int // the previous desired capacity
	lastDir int
	steps   []Step
}

func newMeter(c Config, tr *trace) *meter {
	m := &meter{cfg: c, tr: tr, prev: tr.start}
	if c.KeepSteps {
		m.steps = make([]Step, 0, len(tr.oracle))
	}
	return m
}

// step counts replayed step i with actual capacity s and desired capacity
// desired, recommended by strategy.
func (m *meter) step(i, s, desired int, strategy string) {
	if desired != m.prev {
		m.m.Changes++
		dir := 1
		if desired < m.prev {
			dir = -1
		}
		if m.lastDir != 0 && dir != m.lastDir {
			m.m.Reversals++
		}
		m.lastDir = dir
	}
	m.prev = desired
	d, n := m.tr.oracle[i], m.tr.need[i]
	if d < 0 {
		return // a gap
	}
	m.m.Steps++
	m.m.CapacityHours += float64(s)
	switch {
	case s < n:
		m.m.TauU++
		m.m.ThetaU += float64(n-s) / float64(n)
	case s > d:
		m.m.TauO++
		m.m.ThetaO += float64(s-d) / math.Max(float64(d), 1)
	}
	if m.steps != nil {
		t := m.tr.from + i
		m.steps = append(m.steps, Step{Time: m.tr.series.TimeAt(t), Demand: m.tr.series.Values[t], Desired: desired, Actual: s, Oracle: d, Strategy: strategy})
	}
}

func (m *meter) result(name string) Result {
	x := m.m
	hours := m.tr.series.Step.Hours()
	n := float64(x.Steps)
	x.CapacityHours *= hours
	x.Cost = x.CapacityHours * m.cfg.CostPerInstanceHour
	x.TauU /= n
	x.TauO /= n
	x.ThetaU /= n
	x.ThetaO /= n
	x.ReversalsPerHour = float64(x.Reversals) / (float64(len(m.tr.oracle)) * hours) // every replayed step, as Reversals
	x.CostRatio = 1
	return Result{Name: name, Metrics: x, Steps: m.steps}
}

// WriteTable writes the results as an aligned text table, the oracle
// first: τ_U, θ_U, θ_O and τ_O in percent, the cost relative to the
// oracle, capacity-hours, changes and reversals per hour; then, for each
// policy of candidates, the share of the steps on which each was chosen
// ("web: hpa 0.0 %, predictive 100.0 %", by name).
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tτ_U %\tθ_U %\tθ_O %\tτ_O %\tcost × oracle\tcapacity-h\tchanges\treversals/h\t")
	for _, x := range append([]Result{r.Oracle}, r.Results...) {
		m := x.Metrics
		ratio := "-" // the oracle costs nothing and this does not
		if !math.IsNaN(m.CostRatio) {
			ratio = fmt.Sprintf("%.3f", m.CostRatio)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%.0f\t%d\t%.2f\t\n",
			x.Name, 100*m.TauU, 100*m.ThetaU, 100*m.ThetaO, 100*m.TauO, ratio, m.CapacityHours, m.Changes, m.ReversalsPerHour)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Results {
		if len(x.Chosen) == 0 {
			continue
		}
		total := 0
		for _, n := range x.Chosen {
			total += n
		}
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(x.Chosen)) {
			parts = append(parts, fmt.Sprintf("%s %.1f %%", name, 100*float64(x.Chosen[name])/float64(total)))
		}
		if _, err := fmt.Fprintf(w, "%s: %s\n", x.Name, strings.Join(parts, ", ")); err != nil {
			return err
		}
	}
	return nil
}

// metricsJSON is Metrics as JSON holds it: CostRatio null when it is NaN.
type metricsJSON struct {
	metricsAlias
	CostRatio *float64 `json:"cost_ratio"`
}

type metricsAlias Metrics

// MarshalJSON implements json.Marshaler: a NaN CostRatio is null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	out := metricsJSON{metricsAlias: metricsAlias(m)}
	if !math.IsNaN(m.CostRatio) {
		out.CostRatio = &m.CostRatio
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler: a null CostRatio is NaN.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var in metricsJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*m = Metrics(in.metricsAlias)
	m.CostRatio = math.NaN()
	if in.CostRatio != nil {
		m.CostRatio = *in.CostRatio
	}
	return nil
}
