package detector

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// PeakBound bounds the peaks of one metric over an evidence window: a stop
// or terminate needs the window's nearest-rank 99th percentile below P99
// and its largest value below Max, in the metric's unit (fractions for
// utilization).
type PeakBound struct {
	// P99 bounds the 99th percentile: at most 1 % of the window's steps
	// may reach it. Must be > 0.
	P99 float64 `json:"p99" yaml:"p99"`
	// Max bounds every step of the window. Must be > 0.
	Max float64 `json:"max" yaml:"max"`
}

// DefaultPeakBounds returns the peak bounds derived from idle thresholds:
// for each metric, p99 below its threshold and max below twice it (at most
// 1 for utilization). With DefaultThresholds that is CPU p99 < 10 % and max
// < 20 %: in two weeks no more than 1 % of the 5-minute steps (3.4 hours)
// at or above the idle line, and not one step at a fifth of the machine,
// which an agent or an update stays under and a job that runs does not.
func DefaultPeakBounds(thresholds map[provider.Metric]float64) map[provider.Metric]PeakBound {
	out := make(map[provider.Metric]PeakBound, len(thresholds))
	for m, th := range thresholds {
		if th <= 0 {
			continue // a zero threshold has no peak to bound
		}
		mx := 2 * th
		if m.IsUtilization() {
			mx = min(mx, 1)
		}
		out[m] = PeakBound{P99: th, Max: mx}
	}
	return out
}

// DefaultTrafficBounds returns the peak bounds on network traffic that the
// evidence checks by default beside DefaultPeakBounds: in and out, p99
// below 100 kB/s and max below 1 MB/s (5-minute steps over the evidence
// window). They are for providers that report traffic in bytes per second
// rather than a network utilization — AWS's NetworkIn and NetworkOut for
// an instance, where the utilization thresholds' network and disk metrics
// have no CloudWatch mapping, so that without them an instance would be
// judged on its CPU alone and a proxy at 2 % CPU moving 80 MB/s would be
// stopped. An unused machine's agents and updates stay far below them (the
// NAB EC2 network traces in testdata: p99 11 and 18 kB/s), a server that
// answers traffic does not. A resource with no traffic data is not
// checked on it (the memory provider's fleets, a Prometheus without the
// metric).
func DefaultTrafficBounds() map[provider.Metric]PeakBound {
	return map[provider.Metric]PeakBound{
		provider.MetricNetworkIn:  {P99: 100e3, Max: 1e6},
		provider.MetricNetworkOut: {P99: 100e3, Max: 1e6},
	}
}

// DefaultDiskBounds returns the peak bounds on disk reads and writes that
// the evidence checks by default beside DefaultPeakBounds: each p99
// below 100 kB/s and max below 10 MB/s (5-minute steps over the evidence
// window). Like DefaultTrafficBounds they are for providers that report
// bytes per second rather than a disk utilization — AWS's EBSReadBytes
// and EBSWriteBytes for an instance — so that a machine at 2 % CPU
// writing 80 MB/s (a restore, a copy, a batch job fed from its own disk)
// is not stopped on its CPU and network alone. A quiet machine's logs
// stay far below the p99 bound, and its updates below the maximum (3 GB
// in one 5-minute step); the two disk-write traces of NAB's EC2 set
// (ec2_disk_write_bytes_1ef3de and _c0d644, machines running periodic
// jobs) have their p99 at 0.59 and 1.7 MB/s, 5 % and 8.5 % of their
// steps above 100 kB/s, and write nothing between the jobs. A resource
// with no disk data is not checked on it.
func DefaultDiskBounds() map[provider.Metric]PeakBound {
	return map[provider.Metric]PeakBound{
		provider.MetricDiskRead:  {P99: 100e3, Max: 10e6},
		provider.MetricDiskWrite: {P99: 100e3, Max: 10e6},
	}
}

// EvidenceConfig sets the evidence each action needs (see Evidence in the
// package documentation for the ladder from reporting idle to terminate).
// The zero value means the defaults.
type EvidenceConfig struct {
	// Window is the look-back whose statistics a downsize and a stop are
	// judged on. Default: 14 days (336h), the window of AWS Trusted
	// Advisor and Google Cloud's idle-VM recommender.
	Window time.Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// TerminateWindow is the longer look-back a terminate needs, with the
	// same rules as a stop plus no activity at all in it: Input.Activity
	// must count no event of any kind since Input.ActivityFrom, which must
	// be at least TerminateWindow before now, and every counted kind's
	// count must cover that much (a provider.ActivityCount.Since, when
	// set, at least TerminateWindow before now). Scan reads activity over
	// ScanConfig.ActivityWindow (default: the 30-minute quiet period), so
	// set that to TerminateWindow to let a scan recommend terminate (the
	// reaper does so for the Terminable kinds when its Config.Actions
	// allows terminate). At least Window. Default: 28 days (672h), or
	// Window if longer.
	TerminateWindow time.Duration `json:"terminate_window,omitempty" yaml:"terminate_window,omitempty"`
	// MinCoverage is the least share of a window's steps that must hold
	// data for a stop or terminate: steps before the resource's launch,
	// gaps and suspect zeros do not count. In (0, 1]. Default: 0.95 (at
	// most 17 hours of 14 days missing).
	MinCoverage float64 `json:"min_coverage,omitempty" yaml:"min_coverage,omitempty"`
	// DownsizeHistory is the least data inside Window a downsize needs:
	// the steps with data must add up to MinCoverage of it. At most
	// Window. Default: 7 days (168h).
	DownsizeHistory time.Duration `json:"downsize_history,omitempty" yaml:"downsize_history,omitempty"`
	// PeakBounds maps a metric to the bounds of its p99 and maximum over
	// the window for a stop or terminate; a metric without a series is
	// skipped (the verdict already needs the required ones). Default:
	// DefaultPeakBounds of the utilization thresholds, DefaultTrafficBounds
	// and DefaultDiskBounds, and for a kind of EnsembleConfig.Kinds the
	// DefaultPeakBounds of its own utilization thresholds besides, the
	// stricter bound where both bound a metric (a function's invocations,
	// a load balancer's requests, a volume's bytes: one event is a peak),
	// p99 and max apart. Bounds equal to that default's (as
	// Ensemble.Config returns them) are the default, the kinds' own bounds
	// included. A non-nil empty map checks no peaks. Encoded, nil is left
	// out and an empty map is kept ({}), so that a round trip keeps the
	// one from the other.
	PeakBounds map[provider.Metric]PeakBound `json:"peak_bounds,omitzero" yaml:"peak_bounds,omitempty"`
	// MaxPeakStep is the longest step at which a stop or terminate reads
	// the peaks of a bounded metric (PeakBounds): a step's mean hides a
	// shorter peak (a daily 5-minute job at 100 % CPU is 8 % of an hour),
	// so a series of longer steps fails the evidence, naming the metric.
	// An off-hours schedule reads the peaks of its hours (of its metric
	// and of every bounded metric), and is not proposed on longer steps
	// either (the job's hour would be off).
	// Set it longer for a source that gives each step's maximum
	// (ScanConfig.Statistic max) or cannot give shorter steps. Must be
	// ≥ 0. Default: 5m (CloudWatch's basic monitoring, and Scan's step).
	MaxPeakStep time.Duration `json:"max_peak_step,omitempty" yaml:"max_peak_step,omitempty"`
	// DownsizeP99 bounds the p99 over Window of each utilization metric
	// that scales with the size (cpu, memory) on the smaller size: the
	// current p99 divided by 1 − EnsembleConfig.DownsizeSaving must stay
	// below it. In (0, 1]. Default: 0.7 (30 % headroom at the 99th
	// percentile).
	DownsizeP99 float64 `json:"downsize_p99,omitempty" yaml:"downsize_p99,omitempty"`
	// DownsizeMax is the same bound for the window's largest value, so
	// that the peaks do not saturate the smaller size. In (0, 1].
	// Default: 0.9.
	DownsizeMax float64 `json:"downsize_max,omitempty" yaml:"downsize_max,omitempty"`
}

// clone returns c with a copy of PeakBounds (nil stays nil, empty stays
// empty); see UtilizationConfig.clone.
func (c EvidenceConfig) clone() EvidenceConfig {
	c.PeakBounds = maps.Clone(c.PeakBounds)
	return c
}

// IsZero reports whether c is the zero value, the defaults: a non-nil
// empty PeakBounds is not (it checks no peaks). The omitzero of
// encoding/json and the omitempty of YAML ask it.
func (c EvidenceConfig) IsZero() bool { return reflect.ValueOf(c).IsZero() }

// MarshalYAML encodes c as its fields are tagged, and a non-nil empty
// PeakBounds as {}, which omitempty would leave out: read back, the
// missing key would be nil, the default bounds.
func (c EvidenceConfig) MarshalYAML() (any, error) {
	type plain EvidenceConfig // without this method
	return yamlKeepingEmpty(plain(c), emptyMap("peak_bounds", c.PeakBounds))
}

func (c EvidenceConfig) withDefaults(thresholds map[provider.Metric]float64) EvidenceConfig {
	if c.Window == 0 {
		c.Window = 14 * day
	}
	if c.TerminateWindow == 0 {
		c.TerminateWindow = max(28*day, c.Window)
	}
	if c.MinCoverage == 0 {
		c.MinCoverage = 0.95
	}
	if c.DownsizeHistory == 0 {
		c.DownsizeHistory = min(7*day, c.Window)
	}
	if c.PeakBounds == nil {
		c.PeakBounds = DefaultPeakBounds(thresholds)
		for _, bounds := range []map[provider.Metric]PeakBound{DefaultTrafficBounds(), DefaultDiskBounds()} {
			for m, b := range bounds {
				if _, set := c.PeakBounds[m]; !set {
					c.PeakBounds[m] = b
				}
			}
		}
	}
	if c.DownsizeP99 == 0 {
		c.DownsizeP99 = 0.7
	}
	if c.MaxPeakStep == 0 {
		c.MaxPeakStep = 5 * time.Minute
	}
	if c.DownsizeMax == 0 {
		c.DownsizeMax = 0.9
	}
	return c
}

// Validate checks every field; the error names the first wrong one.
func (c EvidenceConfig) Validate() error {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"window", c.Window}, {"terminate_window", c.TerminateWindow}, {"downsize_history", c.DownsizeHistory}, {"max_peak_step", c.MaxPeakStep}} {
		if f.v < 0 {
			return invalid("evidence."+f.name, f.v, "must be ≥ 0 (0 means the default)")
		}
	}
	d := c.withDefaults(nil)
	if d.TerminateWindow < d.Window {
		return invalid("evidence.terminate_window", c.TerminateWindow, "must not be shorter than the window "+d.Window.String())
	}
	if d.DownsizeHistory > d.Window {
		return invalid("evidence.downsize_history", c.DownsizeHistory, "must not exceed the window "+d.Window.String())
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"min_coverage", c.MinCoverage}, {"downsize_p99", c.DownsizeP99}, {"downsize_max", c.DownsizeMax}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return invalid("evidence."+f.name, f.v, "must be in (0, 1] (0 means the default)")
		}
	}
	for m, b := range c.PeakBounds {
		if err := m.Validate(); err != nil {
			return provider.Within("evidence.peak_bounds."+string(m), err)
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"p99", b.P99}, {"max", b.Max}} {
			field := "evidence.peak_bounds." + string(m) + "." + f.name
			if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v <= 0 {
				return invalid(field, f.v, "must be a finite number > 0")
			}
			if m.IsUtilization() && f.v > 1 {
				return invalid(field, f.v, "must be in (0, 1]: utilization is a fraction (10 % is 0.10)")
			}
		}
	}
	return nil
}

// windowStats is what the evidence rules read of one metric over one
// window. The decisions use only n, steps, max, overP99 and overDownsize
// (counts and a maximum: see "Evidence" in the package doc); mean, p95 and
// p99 are for the reasons.
type windowStats struct {
	metric       provider.Metric
	window       time.Duration
	step         time.Duration
	steps        int // steps the window holds
	n            int // steps with data (after launch, gaps and suspect zeros excluded)
	sum, max     float64
	overP99      int     // steps at or above the P99 peak bound
	overDownsize int     // steps at or above the downsize p99 limit on the current size
	p95, p99     float64 // nearest-rank; NaN when n is 0
	code         int     // the view's quality code: qOK, qMissing, qStale or qZeros
	why          Reason  // the reason of a code other than qOK
}

// coverage returns the share of the window's steps with data.
func (ws *windowStats) coverage() float64 {
	if ws.steps == 0 {
		return 0
	}
	return float64(ws.n) / float64(ws.steps)
}

// mean returns the mean of the steps with data; NaN without data.
func (ws *windowStats) mean() float64 {
	if ws.n == 0 {
		return math.NaN()
	}
	return ws.sum / float64(ws.n)
}

// p99Below reports whether the nearest-rank p99 is below the bound that
// overP99 counted against: at most n − ⌈0.99·n⌉ steps reach it.
func (ws *windowStats) p99Below() bool {
	return ws.n > 0 && ws.overP99 <= ws.n-nearestRank(99, ws.n)
}

// nearestRank returns ⌈p·n/100⌉, the 1-based rank of the nearest-rank
// p-th percentile of n values (p in 1..100).
func nearestRank(p, n int) int { return (p*n + 99) / 100 }

// stats computes the statistics of s over [now−window, now), counting only
// steps at or after launch (when set), with the quality rules of q (its
// MinCoverage is not applied: the caller judges coverage on n) and
// threshold as the cliff level of suspect zeros. lv are the levels the
// over* fields count.
func stats(s provider.Series, now time.Time, window time.Duration, launch time.Time, threshold float64, lv levels, q DataQuality) windowStats {
	ws := windowStats{metric: s.Metric, window: window, step: s.Step, steps: max(int(window/s.Step), 1), max: math.NaN(), p95: math.NaN(), p99: math.NaN()}
	q.MinCoverage = 0 // coverage is judged by the caller, on n
	w, code, why := view(s, now, window, threshold, q)
	ws.code, ws.why = code, why
	if code != qOK {
		return ws
	}
	lo := w.lo
	if !launch.IsZero() {
		lo = max(lo, ceilIndex(s, launch))
	}
	lo = min(lo, w.hi)
	values := s.Values[lo:w.hi]
	masked := w.nMasked > 0 || w.overflow
	// The percentiles need only the top 5 % of the values: keep those at
	// or above a cut taken low from a sample, and count the others. If the
	// cut turns out above the p95 (an unlucky sample), collect them all.
	cut := sampleCut(values)
	b := scratchPool.Get().(*scratch)
	buf := slices.Grow(b.a[:0], len(values))[:len(values)]
	mx := math.Inf(-1)
	n, kept, over, down := 0, 0, 0, 0
	var sum [2]float64 // two sums, so that the additions do not wait on each other
	for i, x := range values {
		if x != x || masked && w.isMasked(lo+i) { // x != x: a gap (NaN)
			continue
		}
		sum[n&1] += x
		n++
		if x >= cut {
			buf[kept] = x
			kept++
		}
		if x > mx {
			mx = x
		}
		if x >= lv.p99 {
			over++
		}
		if x >= lv.downsize {
			down++
		}
	}
	ws.n, ws.sum = n, sum[0]+sum[1]
	ws.overP99, ws.overDownsize = over, down
	if n == 0 && w.zeroRun > 0 {
		ws.code, ws.why = qZeros, Reason{Code: ReasonSuspectZeros, Value: w.cliff, Duration: w.zeroRun}
	}
	if n > 0 {
		ws.max = mx
		k95, k99 := nearestRank(95, n)-1, nearestRank(99, n)-1
		below := n - kept
		if below > k95 {
			below, kept = 0, 0
			for i, x := range values {
				if x != x || masked && w.isMasked(lo+i) {
					continue
				}
				buf[kept] = x
				kept++
			}
		}
		top := buf[:kept]
		selectNth(top, k95-below)
		ws.p95 = top[k95-below]
		selectNth(top[k95-below:], k99-k95)
		ws.p99 = top[k99-below]
	}
	b.a = buf[:0]
	scratchPool.Put(b)
	return ws
}

// sampleCut returns a value that is very likely below the 95th percentile
// of values (NaN gaps ignored) and above most of them: the 84th percentile
// of 64 evenly spaced values, 6 ranks (over 3 standard deviations of a
// sample's p95 rank) below the sample's p95. It returns −Inf for short
// inputs, where sampling would not pay.
func sampleCut(values []float64) float64 {
	const m = 64
	if len(values) < 8*m {
		return math.Inf(-1)
	}
	var sample [m]float64
	k := 0
	for i := 0; i < len(values) && k < m; i += len(values) / m {
		if x := values[i]; x == x {
			sample[k] = x
			k++
		}
	}
	if k < m/2 {
		return math.Inf(-1) // mostly gaps: take everything
	}
	r := max(k*95/100-6, 0)
	selectNth(sample[:k], r)
	return sample[r]
}

// selectNth reorders a so that a[k] is the value a sorted a would hold
// there, with no larger value before it and no smaller one after it. a
// holds no NaN. It runs in expected linear time (Hoare's selection with a
// median-of-three pivot) and sorts a range that does not shrink fast
// enough, so that no input makes it quadratic.
func selectNth(a []float64, k int) {
	lo, hi := 0, len(a)-1
	budget := 2 * bits.Len(uint(len(a)))
	for hi > lo {
		if budget == 0 {
			slices.Sort(a[lo : hi+1])
			return
		}
		budget--
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // j < k < i: a[k] equals the pivot
		}
	}
}

// WeekHours is a set of hour-of-week slots (Sunday 00:00 is slot 0, in the
// time zone of the Profile it comes from). The zero value is the empty set.
// It encodes to JSON as the sorted list of its slots.
type WeekHours [3]uint64

// Add puts slot (0 ≤ slot < HoursPerWeek) in the set; other slots are
// ignored.
func (h *WeekHours) Add(slot int) {
	if slot >= 0 && slot < HoursPerWeek {
		h[slot/64] |= 1 << (slot % 64)
	}
}

// Has reports whether slot is in the set.
func (h WeekHours) Has(slot int) bool {
	return slot >= 0 && slot < HoursPerWeek && h[slot/64]&(1<<(slot%64)) != 0
}

// Len returns the number of slots in the set.
func (h WeekHours) Len() int {
	return bits.OnesCount64(h[0]) + bits.OnesCount64(h[1]) + bits.OnesCount64(h[2])
}

// Slots returns the slots in the set in increasing order.
func (h WeekHours) Slots() []int {
	out := make([]int, 0, h.Len())
	for i := range HoursPerWeek {
		if h.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// dayHours is the hours of one day in a WeekHours, bit h for hour h.
func (h WeekHours) dayHours(d time.Weekday) uint32 {
	var out uint32
	for hr := range 24 {
		if h.Has(int(d)*24 + hr) {
			out |= 1 << hr
		}
	}
	return out
}

// String renders the set as the recurring windows a person reads, days
// from Monday with equal hours grouped: "Mon–Fri 02:00–04:00; Sat
// 10:00–11:00, 14:00–15:00". At most four groups are listed, then how many
// more days have busy hours. The empty set is "none".
func (h WeekHours) String() string {
	if h.Len() == 0 {
		return "none"
	}
	order := [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var out []byte
	groups, more := 0, 0
	for i := 0; i < 7; {
		hours := h.dayHours(order[i])
		j := i + 1
		for j < 7 && h.dayHours(order[j]) == hours {
			j++
		}
		if hours != 0 {
			if groups == 4 {
				more += j - i
			} else {
				if groups > 0 {
					out = append(out, "; "...)
				}
				out = append(out, order[i].String()[:3]...)
				if j-i > 1 {
					out = append(out, "–"...)
					out = append(out, order[j-1].String()[:3]...)
				}
				out = appendHourRanges(append(out, ' '), hours)
				groups++
			}
		}
		i = j
	}
	if more > 0 {
		out = fmt.Appendf(out, "; and %d more days", more)
	}
	return string(out)
}

// appendHourRanges appends the runs of set bits of hours as "02:00–04:00,
// 14:00–15:00".
func appendHourRanges(out []byte, hours uint32) []byte {
	first := true
	for hr := 0; hr < 24; {
		if hours&(1<<hr) == 0 {
			hr++
			continue
		}
		end := hr
		for end < 24 && hours&(1<<end) != 0 {
			end++
		}
		if !first {
			out = append(out, ", "...)
		}
		out = fmt.Appendf(out, "%02d:00–%02d:00", hr, end)
		first = false
		hr = end
	}
	return out
}

// MarshalJSON encodes the set as the sorted list of its slots.
func (h WeekHours) MarshalJSON() ([]byte, error) {
	out := []byte{'['}
	for i, s := range h.Slots() {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "%d", s)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON decodes a list of slots; a slot outside [0, HoursPerWeek)
// is an error naming it.
func (h *WeekHours) UnmarshalJSON(b []byte) error {
	var slots []int
	if err := json.Unmarshal(b, &slots); err != nil {
		return err
	}
	*h = WeekHours{}
	for i, s := range slots {
		if s < 0 || s >= HoursPerWeek {
			return invalid(fmt.Sprintf("hours[%d]", i), s, "must be an hour of the week in [0, 168)")
		}
		h.Add(s)
	}
	return nil
}
