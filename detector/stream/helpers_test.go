package stream_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

var traces sync.Map // file → func() (provider.Series, error)

// nabCPU loads a NAB EC2 CPU trace (percent, 5-minute steps) as a cpu
// series of fractions on a 5-minute grid starting at its first sample.
// Source: testdata/nab (Numenta Anomaly Benchmark, MIT licence).
func nabCPU(t testing.TB, id string) provider.Series {
	t.Helper()
	file := filepath.Join("..", "..", "testdata", "nab", "ec2_cpu_utilization_"+id+".csv")
	f, _ := traces.LoadOrStore(file, sync.OnceValues(func() (provider.Series, error) {
		samples, err := trace.ReadCSVFile(file, trace.CSVOptions{Scale: 0.01})
		if err != nil {
			return provider.Series{}, err
		}
		const step = 5 * time.Minute
		start, end := samples[0].Time, samples[len(samples)-1].Time.Add(step)
		return provider.Resample(provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: end, Step: step}, samples)
	}))
	s, err := f.(func() (provider.Series, error))()
	require.NoError(t, err)
	return s
}
