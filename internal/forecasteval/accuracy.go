package forecasteval

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// Horizon is the number of hourly steps forecast from each origin.
const Horizon = 24

// Trace is one hourly trace with its evaluation origins.
type Trace struct {
	// Name identifies the trace in the table.
	Name string
	// File is the source file, relative to the testdata directory.
	File string
	// Values are hourly, oldest first; NaN marks a gap.
	Values []float64
	// Start is the start of the first hour.
	Start time.Time
	// Window is the number of training hours before each origin.
	Window int
	// Origins are the indices of the first forecast hour of each origin.
	Origins []int
}

// maxGap is the longest interpolated run of gap hours.
const maxGap = 3

// Load reads the five traces of the protocol from dir (the repository's
// testdata directory).
func Load(dir string) ([]Trace, error) {
	var out []Trace
	app, err := loadAppServer(filepath.Join(dir, "app-server-traffic", "traffic_stats_HOURLY_CHs.csv"))
	if err != nil {
		return nil, err
	}
	app.Origins = dailyOrigins(app.Values, app.Window, 0, len(app.Values), 56)
	out = append(out, app)

	taxi, err := loadNAB(dir, "nab/nyc_taxi.csv", 30*time.Minute, true)
	if err != nil {
		return nil, err
	}
	taxi.Name, taxi.Window = "nyc-taxi", 8*168
	taxi.Origins = dailyOrigins(taxi.Values, taxi.Window, 0, len(taxi.Values), 0)
	out = append(out, taxi)

	nasa, err := loadNASA(filepath.Join(dir, "nasa-http", "nasa_traffic_5m.csv"))
	if err != nil {
		return nil, err
	}
	out = append(out, nasa)

	asg, err := loadNAB(dir, "nab/cpu_utilization_asg_misconfiguration.csv", 5*time.Minute, false)
	if err != nil {
		return nil, err
	}
	asg.Name, asg.Window = "nab-asg-cpu", 2*168
	asg.Origins = dailyOrigins(asg.Values, asg.Window, 0, len(asg.Values), 0)
	out = append(out, asg)

	elb, err := loadNAB(dir, "nab/elb_request_count_8c0756.csv", 5*time.Minute, true)
	if err != nil {
		return nil, err
	}
	elb.Name, elb.Window = "nab-elb-requests", 168
	elb.Origins = dailyOrigins(elb.Values, elb.Window, 0, len(elb.Values), 0)
	out = append(out, elb)
	for _, t := range out {
		if len(t.Origins) == 0 {
			return nil, fmt.Errorf("forecasteval: %s: no usable origin", t.Name)
		}
	}
	return out, nil
}

// dailyOrigins returns origins every 24 hours, counted back from the last
// one whose horizon ends at hi, keeping those whose window starts at or
// after lo and whose window and horizon have no run of gaps longer than
// maxGap; at most limit (0: no limit), in increasing order.
func dailyOrigins(y []float64, window, lo, hi, limit int) []int {
	var out []int
	for t := hi - Horizon; t-window >= lo; t -= Horizon {
		if longestGap(y[t-window:t+Horizon]) > maxGap {
			continue
		}
		out = append(out, t)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	slices.Reverse(out)
	return out
}

func longestGap(y []float64) int {
	best, run := 0, 0
	for _, v := range y {
		if math.IsNaN(v) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// hourly aggregates samples of the given step to hours.
func hourly(samples []provider.Sample, step time.Duration, sum bool) (time.Time, []float64, error) {
	if len(samples) == 0 {
		return time.Time{}, nil, fmt.Errorf("forecasteval: no samples")
	}
	start := samples[0].Time.Truncate(time.Hour)
	end := samples[len(samples)-1].Time.Truncate(time.Hour).Add(time.Hour)
	q := provider.Query{ResourceID: "trace", Metric: provider.CustomMetric("trace"), Start: start, End: end, Step: time.Hour, Statistic: provider.StatMean}
	mean, err := provider.Resample(q, samples)
	if err != nil {
		return time.Time{}, nil, err
	}
	q.Statistic = provider.StatCount
	count, err := provider.Resample(q, samples)
	if err != nil {
		return time.Time{}, nil, err
	}
	per := float64(time.Hour / step)
	out := mean.Values
	for i, c := range count.Values {
		switch {
		case math.IsNaN(c) || c < 0.75*per:
			out[i] = math.NaN()
		case sum:
			out[i] *= per
		}
	}
	return start, out, nil
}

func loadNAB(dir, file string, step time.Duration, sum bool) (Trace, error) {
	s, err := trace.ReadCSVFile(filepath.Join(dir, file), trace.CSVOptions{})
	if err != nil {
		return Trace{}, err
	}
	start, y, err := hourly(s, step, sum)
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %w", file, err)
	}
	return Trace{File: file, Start: start, Values: y}, nil
}

// NASA clean stretches: before the zero-filled gap between the July and
// August logs (from 1995-07-28 13:35) and after the hurricane outage and
// the zero-filled recovery of 1995-08-03.
var nasaClean = [][2]string{
	{"1995-07-01T00:00:00-04:00", "1995-07-28T13:00:00-04:00"},
	{"1995-08-04T00:00:00-04:00", "1995-09-01T00:00:00-04:00"},
}

func loadNASA(path string) (Trace, error) {
	var ranges [][2]time.Time
	for _, r := range nasaClean {
		a, _ := time.Parse(time.RFC3339, r[0])
		b, _ := time.Parse(time.RFC3339, r[1])
		ranges = append(ranges, [2]time.Time{a, b})
	}
	s, err := trace.ReadCSVFile(path, trace.CSVOptions{ValueColumn: "request_count", SkipRow: func(field func(string) string) bool {
		return field("is_outage") == "1"
	}})
	if err != nil {
		return Trace{}, err
	}
	kept := s[:0:0]
	for _, x := range s {
		for _, r := range ranges {
			if !x.Time.Before(r[0]) && x.Time.Before(r[1]) {
				kept = append(kept, x)
				break
			}
		}
	}
	start, y, err := hourly(kept, 5*time.Minute, true)
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %w", path, err)
	}
	t := Trace{Name: "nasa-http", File: "nasa-http/nasa_traffic_5m.csv", Start: start, Values: y, Window: 2 * 168}
	for _, r := range ranges {
		lo := int(r[0].Sub(start) / time.Hour)
		hi := int(r[1].Sub(start) / time.Hour)
		t.Origins = append(t.Origins, dailyOrigins(y, t.Window, max(lo, 0), min(hi, len(y)), 0)...)
	}
	return t, nil
}

// loadAppServer reads the app-server CSV (year,month,day,week_day,hour,
// requests; times without zone, taken as UTC) onto an hourly grid; missing
// hours are gaps.
func loadAppServer(path string) (Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return Trace{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var times []time.Time
	var vals []float64
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue
		}
		fs := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(fs) != 6 {
			return Trace{}, fmt.Errorf("%s:%d: %d fields, want 6", path, line, len(fs))
		}
		var n [5]int
		for i, k := range []int{0, 1, 2, 4} {
			v, err := strconv.Atoi(fs[k])
			if err != nil {
				return Trace{}, fmt.Errorf("%s:%d: field %d: %w", path, line, k+1, err)
			}
			n[i] = v
		}
		v, err := strconv.ParseFloat(fs[5], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Trace{}, fmt.Errorf("%s:%d: requests %q is not a finite number", path, line, fs[5])
		}
		t := time.Date(n[0], time.Month(n[1]), n[2], n[3], 0, 0, 0, time.UTC)
		if len(times) > 0 && !t.After(times[len(times)-1]) {
			return Trace{}, fmt.Errorf("%s:%d: %s is not after the previous row", path, line, t)
		}
		times = append(times, t)
		vals = append(vals, v)
	}
	if err := sc.Err(); err != nil {
		return Trace{}, err
	}
	if len(times) == 0 {
		return Trace{}, fmt.Errorf("%s: no rows", path)
	}
	n := int(times[len(times)-1].Sub(times[0])/time.Hour) + 1
	y := make([]float64, n)
	for i := range y {
		y[i] = math.NaN()
	}
	for i, t := range times {
		y[int(t.Sub(times[0])/time.Hour)] = vals[i]
	}
	return Trace{Name: "app-server", File: "app-server-traffic/traffic_stats_HOURLY_CHs.csv", Start: times[0], Values: y, Window: 8 * 168}, nil
}

// Row is the result of one trace.
type Row struct {
	// Trace is the trace name; Origins the number of scored origins.
	Trace   string
	Origins int
	// RelMASE is Σ MASE(method) / Σ MASE(seasonal naive 24).
	RelMASE float64
	// RelNaive168 is the same ratio for seasonal naive 168.
	RelNaive168 float64
	// VsBestNaive is RelMASE / min(1, RelNaive168).
	VsBestNaive float64
	// Coverage90 is the share of actual values ≤ the 0.9 quantile
	// forecast; Interval90 the share inside [q0.05, q0.95].
	Coverage90, Interval90 float64
	// Pinball90 and NaivePinball90 are the mean scaled pinball losses at
	// 0.9 of the method and of seasonal naive 24 with empirical quantiles;
	// PinballRatio is their ratio.
	Pinball90, NaivePinball90, PinballRatio float64
	// SMAPE is the method's mean sMAPE in percent.
	SMAPE float64
	// Chosen counts the models Auto chose, when the method is Auto.
	Chosen map[string]int
}

var quantiles = []float64{0.05, 0.9, 0.95}

// week is the period of the seasonal naive 168 baseline, in hours.
const week = 168

// Evaluate scores newModel on t against seasonal naive 24 and 168. When
// the models newModel returns are *forecast.Auto, Row.Chosen counts their
// choices. Every origin needs at least a week of values before it (the
// seasonal naive 168 forecast reads them); an earlier one is a
// *provider.InvalidError naming it.
func Evaluate(ctx context.Context, t Trace, newModel func() (forecast.Model, error)) (Row, error) {
	row := Row{Trace: t.Name, Chosen: map[string]int{}}
	for i, o := range t.Origins {
		if o < week {
			return row, fmt.Errorf("%s: %w", t.Name, provider.Invalid(fmt.Sprintf("trace.origins[%d]", i), o, "needs a week (168 hours) of values before it for seasonal naive 168"))
		}
	}
	opts := forecast.BacktestOptions{Horizon: Horizon, SeasonalPeriod: 24, Window: t.Window, Origins: t.Origins, Quantiles: quantiles, Gaps: forecast.GapPolicy{MaxGap: maxGap}}
	wrapped := func() (forecast.Model, error) {
		m, err := newModel()
		if err != nil {
			return nil, err
		}
		if a, ok := m.(*forecast.Auto); ok {
			return &recorder{Auto: a, chosen: row.Chosen}, nil
		}
		return m, nil
	}
	res, err := forecast.Backtest(ctx, t.Values, wrapped, opts)
	if err != nil {
		return row, fmt.Errorf("%s: %w", t.Name, err)
	}
	naive, err := forecast.Backtest(ctx, t.Values, func() (forecast.Model, error) {
		return forecast.NewSeasonal(forecast.SeasonalConfig{Period: 24, Intervals: forecast.IntervalOptions{Absolute: true, Empirical: true}})
	}, opts)
	if err != nil {
		return row, fmt.Errorf("%s: seasonal naive 24: %w", t.Name, err)
	}
	if len(res.Origins) != len(naive.Origins) || res.Skipped != 0 {
		return row, fmt.Errorf("%s: %d origins scored, %d skipped; seasonal naive scored %d", t.Name, len(res.Origins), res.Skipped, len(naive.Origins))
	}
	var sum, sumNaive, sum168, pin, pinNaive float64
	var steps, below90, inside int
	for i, o := range res.Origins {
		n := naive.Origins[i]
		sum += o.MASE * float64(o.Steps)
		sumNaive += n.MASE * float64(n.Steps)
		pin += o.Pinball[1] * float64(o.Steps)
		pinNaive += n.Pinball[1] * float64(n.Steps)
		steps += o.Steps
		below90 += o.Below[1]
		inside += o.Below[2] - o.Below[0]
		// Seasonal naive 168, computed directly: it needs one week only.
		for h := range Horizon {
			a := t.Values[o.Origin+h]
			if math.IsNaN(a) {
				continue
			}
			f := t.Values[o.Origin+h-week]
			if math.IsNaN(f) {
				f = interpolated(t.Values, o.Origin+h-week)
			}
			sum168 += math.Abs(a-f) / o.Scale
		}
		row.SMAPE += o.SMAPE
	}
	row.Origins = len(res.Origins)
	row.RelMASE = sum / sumNaive
	row.RelNaive168 = sum168 / sumNaive
	row.VsBestNaive = row.RelMASE / math.Min(1, row.RelNaive168)
	row.Coverage90 = float64(below90) / float64(steps)
	row.Interval90 = float64(inside) / float64(steps)
	row.Pinball90 = pin / float64(steps)
	row.NaivePinball90 = pinNaive / float64(steps)
	row.PinballRatio = pin / pinNaive
	row.SMAPE /= float64(len(res.Origins))
	return row, nil
}

// interpolated returns the linear interpolation of y at a gap i.
func interpolated(y []float64, i int) float64 {
	a, b := i, i
	for a >= 0 && math.IsNaN(y[a]) {
		a--
	}
	for b < len(y) && math.IsNaN(y[b]) {
		b++
	}
	switch {
	case a < 0 && b >= len(y):
		return 0
	case a < 0:
		return y[b]
	case b >= len(y):
		return y[a]
	}
	return y[a] + float64(i-a)/float64(b-a)*(y[b]-y[a])
}

// recorder counts Auto's choices. Backtest fits a forecast.ContextFitter
// through FitContext, so both fits count (one promoted from Auto would
// not).
type recorder struct {
	*forecast.Auto
	chosen map[string]int
}

func (r *recorder) Fit(y []float64) error {
	return r.FitContext(context.Background(), y)
}

func (r *recorder) FitContext(ctx context.Context, y []float64) error {
	if err := r.Auto.FitContext(ctx, y); err != nil {
		return err
	}
	r.chosen[r.Chosen().String()]++
	return nil
}

// Summary holds the geometric means over the traces.
type Summary struct {
	// GeoRelMASE is the geometric mean of Row.RelMASE.
	GeoRelMASE float64
	// GeoVsBestNaive is the geometric mean of Row.VsBestNaive.
	GeoVsBestNaive float64
	// GeoPinballRatio is the geometric mean of Row.PinballRatio.
	GeoPinballRatio float64
}

// Summarize returns the geometric means of rows.
func Summarize(rows []Row) Summary {
	var a, b, c float64
	for _, r := range rows {
		a += math.Log(r.RelMASE)
		b += math.Log(r.VsBestNaive)
		c += math.Log(r.PinballRatio)
	}
	n := float64(len(rows))
	return Summary{GeoRelMASE: math.Exp(a / n), GeoVsBestNaive: math.Exp(b / n), GeoPinballRatio: math.Exp(c / n)}
}

// Check is one criterion of the accuracy goal (see Checks), on one trace
// or on the geometric means over the traces.
type Check struct {
	// Trace is the trace's name, or "geometric mean".
	Trace string
	// Name says what is measured, e.g. "90% PI cover".
	Name string
	// Value is the measured figure; it must lie in [Min, Max].
	Value, Min, Max float64
}

// OK reports whether Value lies in [Min, Max].
func (c Check) OK() bool { return c.Value >= c.Min && c.Value <= c.Max }

// Bound formats the allowed range, e.g. "≤ 1.05" or "in [0.85, 0.95]".
func (c Check) Bound() string {
	if math.IsInf(c.Min, -1) {
		return fmt.Sprintf("≤ %.2f", c.Max)
	}
	return fmt.Sprintf("in [%.2f, %.2f]", c.Min, c.Max)
}

// GeometricMean is the Trace of the checks on the geometric means.
const GeometricMean = "geometric mean"

// Checks returns the criteria of the accuracy goal for rows, trace by
// trace, then on the geometric means:
//
//   - per trace: relative MASE vs the better naive ≤ 1.05; share of actuals
//     ≤ the 0.9 quantile (one-sided p90 coverage) in [0.85, 0.95]; share
//     inside the 90 % prediction interval [q0.05, q0.95] in [0.85, 0.95];
//     pinball(0.9) ratio to seasonal naive 24 ≤ 1;
//   - geometric means: relative MASE ≤ 0.75, vs the better naive ≤ 0.95,
//     pinball ratio ≤ 1.
func Checks(rows []Row) []Check {
	inf := math.Inf(-1)
	var out []Check
	for _, r := range rows {
		out = append(out,
			Check{r.Trace, "vs best naive", r.VsBestNaive, inf, 1.05},
			Check{r.Trace, "p90 cover", r.Coverage90, 0.85, 0.95},
			Check{r.Trace, "90% PI cover", r.Interval90, 0.85, 0.95},
			Check{r.Trace, "pinball ratio", r.PinballRatio, inf, 1},
		)
	}
	s := Summarize(rows)
	return append(out,
		Check{GeometricMean, "relMASE", s.GeoRelMASE, inf, 0.75},
		Check{GeometricMean, "vs best naive", s.GeoVsBestNaive, inf, 0.95},
		Check{GeometricMean, "pinball ratio", s.GeoPinballRatio, inf, 1},
	)
}

// WriteTable prints rows and their summary as an aligned text table,
// followed by the checks of the accuracy goal (Checks), one line per trace
// and one for the geometric means, each figure marked ok or FAIL.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "trace\torigins\trelMASE\tsnaive168\tvs best naive\tp90 cover\t90% PI cover\tpinball90\tsnaive24 pinball90\tpinball ratio\tsMAPE %\tmost chosen\t")
	for _, r := range rows {
		top, n := "", 0
		for k, v := range r.Chosen {
			if v > n || (v == n && k < top) {
				top, n = k, v
			}
		}
		if n > 0 {
			top = fmt.Sprintf("%s (%d/%d)", top, n, r.Origins)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\t%s\t\n", r.Trace, r.Origins, r.RelMASE, r.RelNaive168, r.VsBestNaive, r.Coverage90, r.Interval90, r.Pinball90, r.NaivePinball90, r.PinballRatio, r.SMAPE, top)
	}
	s := Summarize(rows)
	fmt.Fprintf(tw, "%s\t\t%.3f\t\t%.3f\t\t\t\t\t%.3f\t\t\t\n", GeometricMean, s.GeoRelMASE, s.GeoVsBestNaive, s.GeoPinballRatio)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nchecks:")
	var lines []string
	var line strings.Builder
	trace, failed := "", 0
	for _, c := range Checks(rows) {
		if c.Trace != trace {
			if line.Len() > 0 {
				lines = append(lines, line.String())
			}
			line.Reset()
			trace = c.Trace
			fmt.Fprintf(&line, "%s\t", c.Trace)
		}
		mark := "ok"
		if !c.OK() {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(&line, "%s %.3f %s %s\t", c.Name, c.Value, c.Bound(), mark)
	}
	lines = append(lines, line.String())
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintln(tw, l)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		_, err := fmt.Fprintf(w, "%d check(s) FAIL\n", failed)
		return err
	}
	_, err := fmt.Fprintln(w, "all checks ok")
	return err
}

// AppServerSeries reads the app-server trace at path (its
// app-server-traffic/traffic_stats_HOURLY_CHs.csv) as an hourly series
// of requests; missing hours are gaps.
func AppServerSeries(path string) (provider.Series, error) {
	t, err := loadAppServer(path)
	if err != nil {
		return provider.Series{}, err
	}
	return provider.Series{Metric: provider.MetricRequests, Start: t.Start, Step: time.Hour, Values: t.Values}, nil
}
