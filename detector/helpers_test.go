package detector_test

import (
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// testdata returns the path of a file under the repository's testdata.
func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

type traceKey struct{ file string }

var traces sync.Map // file → func() (provider.Series, error)

// nabCPU loads a NAB EC2 CPU trace (percent, 5-minute steps) as a cpu
// series of fractions on a 5-minute grid starting at its first sample.
// Source: testdata/nab (Numenta Anomaly Benchmark, MIT licence).
func nabCPU(t testing.TB, id string) provider.Series {
	t.Helper()
	file := testdata("nab", "ec2_cpu_utilization_"+id+".csv")
	f, _ := traces.LoadOrStore(traceKey{file}, sync.OnceValues(func() (provider.Series, error) {
		samples, err := trace.ReadCSVFile(file, trace.CSVOptions{Scale: 0.01})
		if err != nil {
			return provider.Series{}, err
		}
		return gridOf(id, provider.MetricCPU, samples, 5*time.Minute)
	}))
	s, err := f.(func() (provider.Series, error))()
	require.NoError(t, err)
	return s
}

func gridOf(id string, m provider.Metric, samples []provider.Sample, step time.Duration) (provider.Series, error) {
	start := samples[0].Time
	end := samples[len(samples)-1].Time.Add(step)
	return provider.Resample(provider.Query{ResourceID: id, Metric: m, Start: start, End: end, Step: step}, samples)
}

// nasaRequests loads the NASA-HTTP 5-minute request counts as requests per
// second, outage rows (is_outage=1, empty fields) left out as gaps.
// Source: testdata/nasa-http (MIT licence, see its README).
func nasaRequests(t testing.TB) provider.Series {
	t.Helper()
	file := testdata("nasa-http", "nasa_traffic_5m.csv")
	f, _ := traces.LoadOrStore(traceKey{file}, sync.OnceValues(func() (provider.Series, error) {
		samples, err := trace.ReadCSVFile(file, trace.CSVOptions{ValueColumn: "request_count", Scale: 1.0 / 300})
		if err != nil {
			return provider.Series{}, err
		}
		s, err := gridOf("nasa", provider.MetricRequests, samples, 5*time.Minute)
		if err != nil {
			return s, err
		}
		s.Start = s.Start.UTC()
		return s, nil
	}))
	s, err := f.(func() (provider.Series, error))()
	require.NoError(t, err)
	return s
}

// at returns a time in UTC from "2006-01-02 15:04".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	require.NoError(t, err)
	return v
}

// synth makes a cpu series of n steps from f(i).
func synth(id string, start time.Time, step time.Duration, n int, f func(i int) float64) provider.Series {
	v := make([]float64, n)
	for i := range v {
		v[i] = f(i)
	}
	return provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: start, Step: step, Values: v}
}

// noEvents returns s's grid as metric m with no event in any step: the
// series of a function nobody invoked (invocations) or of a load balancer
// no request reached (requests), which DefaultKinds judge them by.
func noEvents(s provider.Series, m provider.Metric) provider.Series {
	c := s.Clone()
	c.Metric = m
	for i := range c.Values {
		c.Values[i] = 0
	}
	return c
}

func res(id string, launched time.Time) provider.Resource {
	return provider.Resource{ID: id, Kind: provider.KindInstance, State: provider.StateRunning, LaunchTime: launched, HourlyCost: 0.1}
}

// withZone returns r serving time zone name.
func withZone(r provider.Resource, name string) provider.Resource {
	r.TimeZone = name
	return r
}

// noise is a deterministic pseudo-random value in [0, 1).
func noise(i int) float64 {
	x := math.Sin(float64(i)*12.9898+78.233) * 43758.5453
	return x - math.Floor(x)
}

// tile returns s played n times back to back: a trace of n times its
// length whose every window as long as s holds each of its samples once.
func tile(s provider.Series, n int) provider.Series {
	out := s.Clone()
	out.Values = make([]float64, 0, n*len(s.Values))
	for range n {
		out.Values = append(out.Values, s.Values...)
	}
	return out
}

// reasonsOf returns the verdict's reasons with code c, in order.
func reasonsOf(v detector.Verdict, c detector.ReasonCode) []detector.Reason {
	var out []detector.Reason
	for _, r := range v.Reasons {
		if r.Code == c {
			out = append(out, r)
		}
	}
	return out
}

// codesOf returns the codes of the verdict's reasons, in order.
func codesOf(v detector.Verdict) []detector.ReasonCode {
	out := make([]detector.ReasonCode, 0, len(v.Reasons))
	for _, r := range v.Reasons {
		out = append(out, r.Code)
	}
	return out
}
