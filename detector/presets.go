package detector

import (
	"context"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// PresetConfig adjusts a Preset. The zero value applies the rule as
// published.
type PresetConfig struct {
	// IgnoreNetwork drops the rule's network condition, for comparing on
	// data that has CPU only. Default: false (missing network data makes
	// the verdict Unknown).
	IgnoreNetwork bool `json:"ignore_network,omitempty" yaml:"ignore_network,omitempty"`
}

// Preset is a fixed public-cloud idleness rule, for comparing the ensemble
// with what the clouds' own advisors would say. Make one with
// NewTrustedAdvisor, NewGCPIdleVM or NewAzureAdvisor (the zero value's
// Detect returns an error). Its signal name is the preset's name. A Preset
// is safe for concurrent use.
type Preset struct {
	name   string
	window time.Duration
	cfg    PresetConfig
	eval   func(r *Preset, in *Input, res *result)
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
		res.cpuStat = math.NaN()
		res.window = Window{From: in.Now.Add(-r.window), To: in.Now}
		r.eval(r, in, res)
		return nil
	})
}

const day = 24 * time.Hour

// NewTrustedAdvisor returns AWS Trusted Advisor's "Low Utilization Amazon
// EC2 Instances" check: idle when daily CPU utilization was at most 10 %
// and network I/O (in + out) at most 5 MB on at least 4 of the last 14
// days. Days are the 24-hour periods ending at now; a day counts only with
// at least half its steps of data. Network is read from network_in and
// network_out in bytes per second.
func NewTrustedAdvisor(cfg PresetConfig) *Preset {
	return &Preset{name: "trusted_advisor", window: 14 * day, cfg: cfg, eval: evalTrustedAdvisor}
}

func evalTrustedAdvisor(r *Preset, in *Input, res *result) {
	cpu, ok := ruleSeries(r, in, res, provider.MetricCPU)
	if !ok {
		return
	}
	var netIn, netOut provider.Series
	haveIn, haveOut := false, false
	if !r.cfg.IgnoreNetwork {
		netIn, haveIn = in.SeriesFor(provider.MetricNetworkIn)
		netOut, haveOut = in.SeriesFor(provider.MetricNetworkOut)
		if !haveIn && !haveOut {
			res.add(Reason{Signal: r.name, Code: ReasonMissing, Metric: provider.MetricNetworkIn})
			return
		}
	}
	low, known := 0, 0
	for d := range 14 {
		to := in.Now.Add(-time.Duration(d) * day)
		from := to.Add(-day)
		m, cov := meanIn(cpu, from, to)
		if cov < 0.5 {
			continue
		}
		lowDay := m <= 0.10
		if !r.cfg.IgnoreNetwork {
			bytes, ok := 0.0, true
			for _, ns := range [...]struct {
				s  provider.Series
				ok bool
			}{{netIn, haveIn}, {netOut, haveOut}} {
				if !ns.ok {
					continue
				}
				nm, ncov := meanIn(ns.s, from, to)
				if ncov < 0.5 {
					ok = false
					break
				}
				bytes += nm * day.Seconds()
			}
			if !ok {
				continue
			}
			lowDay = lowDay && bytes <= 5e6
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

// NewGCPIdleVM returns Google Cloud's idle VM recommender rule: idle when
// CPU usage was below 0.03 vCPU for 97 % of the last 14 days and received
// network traffic below 2600 B/s and sent traffic below 1000 B/s for 95 %
// of them. CPU usage is the cpu fraction times Resource.Size.VCPU; a
// resource without a vCPU count is Unknown.
func NewGCPIdleVM(cfg PresetConfig) *Preset {
	return &Preset{name: "gcp_idle_vm", window: 14 * day, cfg: cfg, eval: evalGCP}
}

func evalGCP(r *Preset, in *Input, res *result) {
	vcpu := in.Resource.Size.VCPU
	if !(vcpu > 0) {
		res.add(Reason{Signal: r.name, Code: ReasonMissing, Metric: "size.vcpu"})
		return
	}
	cpu, ok := ruleSeries(r, in, res, provider.MetricCPU)
	if !ok {
		return
	}
	w, code, why := view(cpu, in.Now, r.window, math.Inf(1), DataQuality{}.withDefaults())
	if code != qOK {
		why.Signal, why.Metric = r.name, provider.MetricCPU
		res.add(why)
		return
	}
	share := shareBelow(&w, 0.03/vcpu)
	idle := share >= 0.97
	res.score = share
	if !r.cfg.IgnoreNetwork {
		for _, c := range [...]struct {
			m     provider.Metric
			limit float64
		}{{provider.MetricNetworkIn, 2600}, {provider.MetricNetworkOut, 1000}} {
			s, ok := ruleSeries(r, in, res, c.m)
			if !ok {
				return
			}
			nw, code, why := view(s, in.Now, r.window, math.Inf(1), DataQuality{}.withDefaults())
			if code != qOK {
				why.Signal, why.Metric = r.name, c.m
				res.add(why)
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

// NewAzureAdvisor returns Azure Advisor's shutdown rule: idle when the 95th
// percentile of CPU over the last 7 days is below 3 %. Azure computes it
// over per-interval maxima, so feed the cpu series queried with
// provider.StatMax; with the mean the rule is more lenient. PresetConfig
// has no network condition to drop for this rule.
func NewAzureAdvisor(cfg PresetConfig) *Preset {
	return &Preset{name: "azure_advisor", window: 7 * day, cfg: cfg, eval: evalAzure}
}

func evalAzure(r *Preset, in *Input, res *result) {
	cpu, ok := ruleSeries(r, in, res, provider.MetricCPU)
	if !ok {
		return
	}
	w, code, why := view(cpu, in.Now, r.window, 0.03, DataQuality{}.withDefaults())
	if code != qOK {
		why.Signal, why.Metric = r.name, provider.MetricCPU
		res.add(why)
		return
	}
	p95 := w.stat(provider.Percentile(95), w.lo, w.hi)
	res.score = 1 / (1 + math.Exp(6*(p95/0.03-1)))
	res.state = NotIdle
	code2 := ReasonAbove
	if p95 < 0.03 {
		res.state = Idle
		code2 = ReasonBelow
	}
	res.add(Reason{Signal: r.name, Code: code2, Metric: provider.MetricCPU, Statistic: provider.Percentile(95), Value: p95, Limit: 0.03, Duration: r.window})
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

// meanIn returns the mean over the steps of s in [from, to) and the share
// of those steps that hold data.
func meanIn(s provider.Series, from, to time.Time) (mean, coverage float64) {
	lo, hi := ceilIndex(s, from), ceilIndex(s, to)
	total := int(to.Sub(from) / s.Step)
	if total <= 0 {
		return math.NaN(), 0
	}
	n, sum := 0, 0.0
	for _, x := range s.Values[lo:hi] {
		if !provider.IsGap(x) {
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
