package provider_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestValidateSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  []provider.Sample
		field string
	}{
		{"NaN", []provider.Sample{{at(0), 1}, {at(1), math.NaN()}}, "samples[1].value"},
		{"Inf", []provider.Sample{{at(0), math.Inf(-1)}}, "samples[0].value"},
		{"duplicate", []provider.Sample{{at(0), 1}, {at(0), 2}}, "samples[1].time"},
		{"unsorted", []provider.Sample{{at(5), 1}, {at(0), 2}}, "samples[1].time"},
		{"zero time", []provider.Sample{{time.Time{}, 1}}, "samples[0].time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := provider.ValidateSamples(tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			require.ErrorIs(t, err, provider.ErrInvalid)
		})
	}
	require.NoError(t, provider.ValidateSamples(nil))
	require.NoError(t, provider.ValidateSamples([]provider.Sample{{at(0), -3}, {at(1), 0}}), "negative values are valid for raw samples")
}

func TestResampleStatistics(t *testing.T) {
	t.Parallel()
	samples := []provider.Sample{
		{at(0), 1}, {at(2), 3}, {at(4), 8}, // step 0: [0,5)
		// step 1 [5,10) empty: a gap
		{at(10), 4}, {at(14), 6}, // step 2
		{at(19), 10}, // step 3
	}
	q := provider.Query{ResourceID: "r", Metric: provider.MetricCPU, Start: at(0), End: at(20), Step: 5 * time.Minute}
	tests := []struct {
		stat provider.Statistic
		want []float64
	}{
		{"", []float64{4, math.NaN(), 5, 10}},
		{provider.StatMean, []float64{4, math.NaN(), 5, 10}},
		{provider.StatMax, []float64{8, math.NaN(), 6, 10}},
		{provider.StatMin, []float64{1, math.NaN(), 4, 10}},
		{provider.StatSum, []float64{12, math.NaN(), 10, 10}},
		{provider.StatCount, []float64{3, math.NaN(), 2, 1}},
		{provider.StatLast, []float64{8, math.NaN(), 6, 10}},
		{provider.Percentile(50), []float64{3, math.NaN(), 5, 10}},
		{"p90", []float64{7, math.NaN(), 5.8, 10}},
	}
	for _, tt := range tests {
		t.Run(string(tt.stat), func(t *testing.T) {
			t.Parallel()
			qq := q
			qq.Statistic = tt.stat
			got, err := provider.Resample(qq, samples)
			require.NoError(t, err)
			require.Equal(t, len(tt.want), got.Len())
			assert.Equal(t, at(0), got.Start)
			for i, w := range tt.want {
				if math.IsNaN(w) {
					assert.True(t, provider.IsGap(got.Values[i]), "step %d must be a gap, got %v", i, got.Values[i])
					continue
				}
				assert.InDelta(t, w, got.Values[i], 1e-12, "step %d", i)
			}
		})
	}
}

func TestResampleIgnoresOutOfRangeAndRejectsBadInput(t *testing.T) {
	t.Parallel()
	q := provider.Query{ResourceID: "r", Metric: provider.MetricCPU, Start: at(10), End: at(17), Step: 5 * time.Minute}
	got, err := provider.Resample(q, []provider.Sample{{at(0), 100}, {at(11), 1}, {at(16), 2}, {at(17), 100}})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2}, got.Values, "End is exclusive; a partial last step is kept")

	_, err = provider.Resample(q, []provider.Sample{{at(11), 1}, {at(11), 2}})
	require.ErrorIs(t, err, provider.ErrInvalid)
	bad := q
	bad.Step = 0
	_, err = provider.Resample(bad, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestQueryValidate(t *testing.T) {
	t.Parallel()
	ok := provider.Query{ResourceID: "r", Metric: provider.MetricCPU, Start: at(0), End: at(60), Step: time.Minute}
	require.NoError(t, ok.Validate())
	assert.Equal(t, 60, ok.Steps())
	tests := []struct {
		name  string
		edit  func(*provider.Query)
		field string
	}{
		{"empty resource", func(q *provider.Query) { q.ResourceID = "" }, "query.resource.id"},
		{"negative step", func(q *provider.Query) { q.Step = -time.Second }, "query.step"},
		{"end before start", func(q *provider.Query) { q.End = at(-1) }, "query.end"},
		{"zero start", func(q *provider.Query) { q.Start = time.Time{} }, "query.start"},
		{"bad statistic", func(q *provider.Query) { q.Statistic = "median" }, "query.statistic"},
		{"too many points", func(q *provider.Query) { q.Step = time.Nanosecond }, "query.step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := ok
			tt.edit(&q)
			var ie *provider.InvalidError
			require.ErrorAs(t, q.Validate(), &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	q := ok
	q.Metric = "gpu_temperature"
	require.ErrorIs(t, q.Validate(), provider.ErrUnknownMetric)
	require.ErrorIs(t, q.Validate(), provider.ErrInvalid)
}

func TestSeriesHelpers(t *testing.T) {
	t.Parallel()
	s := provider.Series{Start: at(0), Step: time.Minute, Values: []float64{1, math.NaN(), 3, math.NaN()}}
	require.NoError(t, s.Validate())
	assert.Equal(t, 2, s.Gaps())
	assert.InDelta(t, 0.5, s.Coverage(), 1e-12)
	assert.Equal(t, at(4), s.End())
	tm, v, ok := s.Last()
	require.True(t, ok)
	assert.Equal(t, at(2), tm)
	assert.InDelta(t, 3.0, v, 0)
	i, inside := s.Index(at(2).Add(30 * time.Second))
	assert.Equal(t, 2, i)
	assert.True(t, inside)
	_, inside = s.Index(at(4))
	assert.False(t, inside)
	w := s.Window(at(1), at(3))
	assert.Equal(t, at(1), w.Start)
	assert.Len(t, w.Values, 2)
	assert.Equal(t, []provider.Sample{{at(0), 1}, {at(2), 3}}, s.Samples())
	c := s.Clone()
	c.Values[0] = 99
	assert.InDelta(t, 1.0, s.Values[0], 0, "Clone must not share values")

	s.Values[0] = math.Inf(1)
	require.ErrorIs(t, s.Validate(), provider.ErrInvalid)
	_, _, ok = provider.Series{Step: time.Minute, Values: []float64{math.NaN()}}.Last()
	assert.False(t, ok)
	for _, tt := range []struct {
		values []float64
		want   int
	}{
		{nil, -1},
		{[]float64{math.NaN(), math.NaN()}, -1},
		{[]float64{1}, 0},
		{[]float64{1, math.NaN(), 3, math.NaN()}, 2},
		{[]float64{math.NaN(), 2}, 1},
	} {
		assert.Equal(t, tt.want, provider.Series{Step: time.Minute, Values: tt.values}.LastIndex(), "%v", tt.values)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	x := []float64{1, 2, 3, 4}
	assert.InDelta(t, 2.5, provider.Quantile(x, 0.5), 1e-12)
	assert.InDelta(t, 1.0, provider.Quantile(x, 0), 0)
	assert.InDelta(t, 4.0, provider.Quantile(x, 1), 0)
	assert.InDelta(t, 3.7, provider.Quantile(x, 0.9), 1e-12)
	assert.True(t, math.IsNaN(provider.Quantile(nil, 0.5)))
}

func FuzzResample(f *testing.F) {
	f.Add(int64(0), int64(60), int64(5), 1.0, 2.0, 3.0, int64(1), int64(2), int64(3), "p95")
	f.Add(int64(3), int64(3), int64(0), math.NaN(), 2.0, math.Inf(1), int64(2), int64(2), int64(1), "mean")
	f.Fuzz(func(t *testing.T, start, end, stepMin int64, v1, v2, v3 float64, m1, m2, m3 int64, stat string) {
		q := provider.Query{ResourceID: "r", Metric: provider.MetricCPU,
			Start: at(int(start % 1000)), End: at(int(end % 1000)), Step: time.Duration(stepMin%100) * time.Minute,
			Statistic: provider.Statistic(stat)}
		samples := []provider.Sample{{at(int(m1 % 1000)), v1}, {at(int(m2 % 1000)), v2}, {at(int(m3 % 1000)), v3}}
		got, err := provider.Resample(q, samples)
		if err != nil {
			if !errorsIsInvalid(err) {
				t.Fatalf("Resample error %v does not match ErrInvalid", err)
			}
			return
		}
		if got.Len() != q.Steps() {
			t.Fatalf("len %d, want %d", got.Len(), q.Steps())
		}
		for _, v := range got.Values {
			if math.IsInf(v, 0) {
				t.Fatalf("infinite value from finite samples: %v", got.Values)
			}
		}
	})
}
