package detector

import (
	"context"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// PresetConfig adjusts a Preset. The zero value applies the rule as
// published, with the package's data-quality defaults.
type PresetConfig struct {
	// IgnoreNetwork drops the rule's network condition, for comparing on
	// data that has CPU only. Default: false (missing network data makes
	// the verdict Unknown).
	IgnoreNetwork bool `json:"ignore_network,omitempty" yaml:"ignore_network,omitempty"`
	// Quality sets the data-quality rules every preset applies to every
	// series it reads over its window, as the ensemble's signals do: a
	// series with too little coverage or a stale last sample makes the
	// verdict Unknown, never idle, and zeros that fall straight from load
	// (a dead agent) are missing data, not samples, nor fresh ones.
	// Default: DataQuality's defaults (80 % coverage, 30m staleness, 30m
	// suspect zero runs).
	Quality DataQuality `json:"quality,omitzero" yaml:"quality,omitempty"`
}

// Validate checks the quality rules; the error names the field.
func (c PresetConfig) Validate() error {
	return provider.Within("preset", c.Quality.Validate())
}

// Preset is a fixed public-cloud idleness rule, for comparing the ensemble
// with what the clouds' own advisors would say. Make one with
// NewTrustedAdvisor, NewGCPIdleVM or NewAzureAdvisor (the zero value's
// Detect returns an error). Its signal name is the preset's name; its
// verdicts recommend no action (the advisors only report). Each constructor
// cites the published rule it follows. A Preset is safe for concurrent use.
type Preset struct {
	name   string
	window time.Duration
	cfg    PresetConfig
	q      DataQuality // cfg.Quality with defaults
	eval   func(r *Preset, in *Input, res *result)
}

func newPreset(name string, window time.Duration, cfg PresetConfig, eval func(*Preset, *Input, *result)) (*Preset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Preset{name: name, window: window, cfg: cfg, q: cfg.Quality.withDefaults(), eval: eval}, nil
}

// Name returns the preset's name.
func (r *Preset) Name() string { return r.name }

// Window returns the look-back the preset examines.
func (r *Preset) Window() time.Duration { return r.window }

// Detect implements Detector.
func (r *Preset) Detect(ctx context.Context, in Input) (Verdict, error) {
	if r.eval == nil {
		return Verdict{}, invalid("preset", "detector.Preset{}", "was not made with NewTrustedAdvisor, NewGCPIdleVM or NewAzureAdvisor")
	}
	return detectOne(ctx, &in, r.name, func(in *Input, res *result) error {
		res.window = Window{From: in.Now.Add(-r.window), To: in.Now}
		r.eval(r, in, res)
		return nil
	})
}

const day = 24 * time.Hour

// atMost reports whether x ≤ limit, counting values within a relative
// 1e-9 of limit as equal: a mean of samples all exactly at the limit must
// not fail an inclusive rule by a rounding error of its sum.
func atMost(x, limit float64) bool { return x <= limit*(1+1e-9) }

// series returns the view of metric m over the preset's window after the
// data-quality rules, with threshold (the rule's own limit) as the cliff
// level of suspect zeros. When the metric is missing, failed or fails the rules it
// adds the reason and returns false.
func (r *Preset) series(in *Input, res *result, m provider.Metric, threshold float64) (windowView, bool) {
	s, ok := ruleSeries(r, in, res, m)
	if !ok {
		return windowView{}, false
	}
	w, code, why := view(s, in.Now, r.window, threshold, r.q)
	if code != qOK {
		why.Signal, why.Metric = r.name, m
		res.add(why)
		return w, false
	}
	return w, true
}

// NewTrustedAdvisor returns AWS Trusted Advisor's "Low Utilization Amazon
// EC2 Instances" check, as AWS publishes it (the check's description in the
// Trusted Advisor check reference,
// https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html,
// and from the AWS Support API's DescribeTrustedAdvisorChecks: "Alert
// Criteria — Yellow: An instance had 10% or less daily average CPU
// utilization and 5 MB or less network I/O on at least 4 of the previous
// 14 days"): idle when the daily mean CPU
// was at most 10 % and the network I/O (in + out) at most 5 MB on at
// least 4 of the last 14 days. Days are the 24-hour periods ending at now;
// a day counts only with at least half its steps of data. Network is read
// from network_in and network_out in bytes per second (one of them is
// enough). Every series must pass cfg.Quality over the 14 days. It returns
// an error matching provider.ErrInvalid for an invalid cfg.
func NewTrustedAdvisor(cfg PresetConfig) (*Preset, error) {
	return newPreset("trusted_advisor", 14*day, cfg, evalTrustedAdvisor)
}

func evalTrustedAdvisor(r *Preset, in *Input, res *result) {
	cpu, ok := r.series(in, res, provider.MetricCPU, 0.10)
	if !ok {
		return
	}
	var nets [2]windowView
	nNet := 0
	if !r.cfg.IgnoreNetwork {
		for _, m := range [...]provider.Metric{provider.MetricNetworkIn, provider.MetricNetworkOut} {
			if _, have := in.SeriesFor(m); !have && in.metricErr(m) == nil {
				continue
			}
			w, ok := r.series(in, res, m, 5e6/day.Seconds())
			if !ok {
				return
			}
			nets[nNet] = w
			nNet++
		}
		if nNet == 0 {
			res.add(Reason{Signal: r.name, Code: ReasonMissing, Metric: provider.MetricNetworkIn})
			return
		}
	}
	low, known := 0, 0
	for d := range 14 {
		to := in.Now.Add(-time.Duration(d) * day)
		from := to.Add(-day)
		m, cov := cpu.meanIn(from, to)
		if cov < 0.5 {
			continue
		}
		lowDay := atMost(m, 0.10)
		dayKnown := true
		bytes := 0.0
		for _, nw := range nets[:nNet] {
			nm, ncov := nw.meanIn(from, to)
			if ncov < 0.5 {
				dayKnown = false
				break
			}
			bytes += nm * day.Seconds()
		}
		if !dayKnown {
			continue
		}
		if nNet > 0 {
			lowDay = lowDay && atMost(bytes, 5e6)
		}
		known++
		if lowDay {
			low++
		}
	}
	if known < 4 {
		res.add(Reason{Signal: r.name, Code: ReasonShortHistory, Metric: provider.MetricCPU, Duration: time.Duration(known) * day, Limit: float64(4 * day)})
		return
	}
	res.score = min(1, float64(low)/8)
	res.state = NotIdle
	if low >= 4 {
		res.state = Idle
	}
	res.add(Reason{Signal: r.name, Code: ReasonRule, Value: float64(low), Limit: 4, Duration: 14 * day})
}

// NewGCPIdleVM returns Google Cloud's idle VM recommender rule as Compute
// Engine documents it ("View and apply idle VM recommendations",
// https://cloud.google.com/compute/docs/instances/viewing-and-applying-idle-vm-recommendations,
// How detection of idle VM instances works: "CPU utilization is less than
// 0.03 vCPUs for 97% of VM runtime. Received network traffic is less than
// 2000 bytes per second (B/s) for 95% of VM runtime. Sent network traffic
// is less than 1000 B/s for 95% of VM runtime", over the last 14 days):
// idle when CPU usage was below 0.03 vCPU for 97 % of the steps with data
// of the last 14 days, received traffic (network_in) below 2000 B/s and
// sent traffic (network_out) below 1000 B/s for 95 % of them. CPU usage is
// the cpu fraction times Resource.Size.VCPU; a resource without a vCPU
// count is Unknown. Every series must pass cfg.Quality over the 14 days.
// It returns an error matching provider.ErrInvalid for an invalid cfg.
func NewGCPIdleVM(cfg PresetConfig) (*Preset, error) {
	return newPreset("gcp_idle_vm", 14*day, cfg, evalGCP)
}

func evalGCP(r *Preset, in *Input, res *result) {
	vcpu := in.Resource.Size.VCPU
	if !(vcpu > 0) {
		res.add(Reason{Signal: r.name, Code: ReasonMissing, Metric: "size.vcpu"})
		return
	}
	w, ok := r.series(in, res, provider.MetricCPU, 0.03/vcpu)
	if !ok {
		return
	}
	share := shareBelow(&w, 0.03/vcpu)
	idle := share >= 0.97
	res.score = share
	if !r.cfg.IgnoreNetwork {
		for _, c := range [...]struct {
			m     provider.Metric
			limit float64
		}{{provider.MetricNetworkIn, 2000}, {provider.MetricNetworkOut, 1000}} {
			nw, ok := r.series(in, res, c.m, c.limit)
			if !ok {
				return
			}
			ns := shareBelow(&nw, c.limit)
			idle = idle && ns >= 0.95
			res.score = min(res.score, ns)
			res.add(Reason{Signal: r.name, Code: ReasonRule, Metric: c.m, Value: ns, Limit: 0.95, Duration: r.window})
		}
	}
	res.state = NotIdle
	if idle {
		res.state = Idle
		res.score = max(res.score, 0.5)
	} else {
		res.score = min(res.score, 0.49)
	}
	res.add(Reason{Signal: r.name, Code: ReasonRule, Metric: provider.MetricCPU, Value: share, Limit: 0.97, Duration: r.window})
}

// NewAzureAdvisor returns Azure Advisor's shutdown recommendation for
// underutilized virtual machines as Microsoft documents it ("Reduce
// service costs by using Azure Advisor",
// https://learn.microsoft.com/azure/advisor/advisor-cost-recommendations,
// Shutdown recommendations: the
// last 7 days; metrics aggregated to 30 minutes as the max of averages; a
// shutdown is recommended if "P95th of the maximum value of CPU
// utilization summed across all cores is less than 3%", "P100 of average
// CPU in last 3 days (sum over all cores) <= 2%" and "Outbound Network
// utilization is less than 2% over a seven-day period"): idle when the
// 95th percentile of CPU over the last 7 days is below 3 %, its maximum
// over the last 3 days at most 2 %, and network utilization
// (network_utilization, the closest metric to outbound utilization) below
// 2 % at every step of the 7 days. Feed the cpu series queried with
// provider.StatMax at a 30-minute step to follow Azure's aggregation; a
// series of means makes the p95 rule more lenient, while the 3-day rule is
// then exactly Azure's (on maxima it is stricter). Every series must pass
// cfg.Quality over the 7 days. It returns an error matching
// provider.ErrInvalid for an invalid cfg.
func NewAzureAdvisor(cfg PresetConfig) (*Preset, error) {
	return newPreset("azure_advisor", 7*day, cfg, evalAzure)
}

func evalAzure(r *Preset, in *Input, res *result) {
	w, ok := r.series(in, res, provider.MetricCPU, 0.03)
	if !ok {
		return
	}
	pct95 := w.stat(provider.Percentile(95), w.lo, w.hi)
	last3 := w.stat(provider.StatMax, max(w.lo, ceilIndex(w.s, in.Now.Add(-3*day))), w.hi)
	idle := pct95 < 0.03 && atMost(last3, 0.02)
	res.score = min(1/(1+math.Exp(6*(pct95/0.03-1))), 1/(1+math.Exp(6*(last3/0.02-1))))
	code := ReasonBelow
	if pct95 >= 0.03 {
		code = ReasonAbove
	}
	res.add(Reason{Signal: r.name, Code: code, Metric: provider.MetricCPU, Statistic: provider.Percentile(95), Value: pct95, Limit: 0.03, Duration: r.window})
	code = ReasonBelow
	if !atMost(last3, 0.02) {
		code = ReasonAbove
	}
	res.add(Reason{Signal: r.name, Code: code, Metric: provider.MetricCPU, Statistic: provider.StatMax, Value: last3, Limit: 0.02, Duration: 3 * day})
	if !r.cfg.IgnoreNetwork {
		nw, ok := r.series(in, res, provider.MetricNetworkUtilization, 0.02)
		if !ok {
			return
		}
		nmax := nw.stat(provider.StatMax, nw.lo, nw.hi)
		code = ReasonBelow
		if nmax >= 0.02 {
			code = ReasonAbove
		}
		idle = idle && nmax < 0.02
		res.score = min(res.score, 1/(1+math.Exp(6*(nmax/0.02-1))))
		res.add(Reason{Signal: r.name, Code: code, Metric: provider.MetricNetworkUtilization, Statistic: provider.StatMax, Value: nmax, Limit: 0.02, Duration: r.window})
	}
	res.state = NotIdle
	if idle {
		res.state = Idle
		res.score = max(res.score, 0.5)
	} else {
		res.score = min(res.score, 0.49)
	}
}

func ruleSeries(r *Preset, in *Input, res *result, m provider.Metric) (provider.Series, bool) {
	if err := in.metricErr(m); err != nil {
		res.add(Reason{Signal: r.name, Code: ReasonSourceError, Metric: m, Err: err})
		return provider.Series{}, false
	}
	s, ok := in.SeriesFor(m)
	if !ok {
		res.add(Reason{Signal: r.name, Code: ReasonMissing, Metric: m})
	}
	return s, ok
}

// meanIn returns the mean over the steps of the view in [from, to) that
// hold data (gaps and suspect zeros excluded) and the share of those steps
// that do.
func (w *windowView) meanIn(from, to time.Time) (mean, coverage float64) {
	lo, hi := max(ceilIndex(w.s, from), w.lo), min(ceilIndex(w.s, to), w.hi)
	total := int(to.Sub(from) / w.s.Step)
	if total <= 0 || hi <= lo {
		return math.NaN(), 0
	}
	n, sum := 0, 0.0
	for i := lo; i < hi; i++ {
		x := w.s.Values[i]
		if !provider.IsGap(x) && !w.isMasked(i) {
			n++
			sum += x
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), float64(n) / float64(total)
}

func shareBelow(w *windowView, limit float64) float64 {
	n, below := 0, 0
	for i := w.lo; i < w.hi; i++ {
		x := w.s.Values[i]
		if provider.IsGap(x) || w.isMasked(i) {
			continue
		}
		n++
		if x < limit {
			below++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(below) / float64(n)
}
