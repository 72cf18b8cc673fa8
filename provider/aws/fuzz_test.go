package aws_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

func offlineDriver(tb testing.TB, n int) *awsprovider.Driver {
	tb.Helper()
	d, err := awsprovider.New(fastConfig(), sdkConfig(), awsprovider.WithClients(newOffline(n).clients()))
	require.NoError(tb, err)
	return d
}

// knownErr reports whether err is one of the errors the driver documents.
func knownErr(err error) bool {
	for _, s := range []error{provider.ErrInvalid, provider.ErrNotFound, provider.ErrUnsupported, provider.ErrConflict} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzResize feeds arbitrary IDs and sizes to Resize and Get: nothing may
// panic, every error must be a documented sentinel, and a size outside
// Lambda's limits must be rejected as invalid for a function ARN.
func FuzzResize(f *testing.F) {
	f.Add("arn:aws:lambda:us-east-1:123456789012:function:fn", "", 0.0, 512, int64(30*time.Second))
	f.Add("i-0123456789abcdef0", "m5.large", 2.0, 0, int64(0))
	f.Add("my-group", "", 0.0, 64, int64(time.Second))
	f.Add("arn:aws:rds:us-east-1:1:db:x", "c5.large", math.NaN(), -5, int64(-1))
	f.Add("arn:::::", "m5", math.Inf(1), 1<<30, int64(math.MaxInt64))
	d := offlineDriver(f, 3)
	f.Fuzz(func(t *testing.T, id, typ string, vcpu float64, mem int, timeout int64) {
		ctx := context.Background()
		size := provider.Size{InstanceType: typ, VCPU: vcpu, MemoryMiB: mem, Timeout: time.Duration(timeout)}
		err := d.Resize(ctx, id, size)
		if err != nil && !knownErr(err) {
			t.Fatalf("Resize(%q, %+v) = %v: not a documented error", id, size, err)
		}
		lambdaARN := len(id) > 0 && provider.ValidateID(id) == nil && isLambdaARN(id)
		outside := mem < 128 || mem > 10240 || size.Timeout < time.Second || size.Timeout > 900*time.Second
		if lambdaARN && outside && !errors.Is(err, provider.ErrInvalid) {
			t.Fatalf("Resize(%q, %+v) = %v, want ErrInvalid", id, size, err)
		}
		if _, err := d.Get(ctx, id); err != nil && !knownErr(err) {
			t.Fatalf("Get(%q) = %v: not a documented error", id, err)
		}
	})
}

func isLambdaARN(id string) bool {
	const prefix = "arn:aws:lambda:"
	return len(id) > len(prefix) && id[:len(prefix)] == prefix
}

// FuzzQueryMetric feeds arbitrary grids and statistics: nothing may panic,
// errors are documented, and a result always sits on the query's grid.
func FuzzQueryMetric(f *testing.F) {
	f.Add(string(provider.MetricCPU), "", int64(time.Minute), int64(time.Hour))
	f.Add(string(provider.MetricNetworkIn), "max", int64(90*time.Second), int64(time.Hour))
	f.Add("custom/CWAgent/mem", "p99.5", int64(5*time.Second), int64(time.Minute))
	f.Add("no_such_metric", "last", int64(-1), int64(0))
	d := offlineDriver(f, 1)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, metric, stat string, step, span int64) {
		q := provider.Query{
			ResourceID: "i-00000000000000001", Metric: provider.Metric(metric), Statistic: provider.Statistic(stat),
			Start: start, End: start.Add(time.Duration(span)), Step: time.Duration(step),
		}
		if q.Steps() > 20000 {
			return // keeps each iteration fast; such grids are covered by the validation tests
		}
		s, err := d.QueryMetric(context.Background(), q)
		if err != nil {
			if !knownErr(err) {
				t.Fatalf("QueryMetric(%+v) = %v: not a documented error", q, err)
			}
			return
		}
		if len(s.Values) != q.Steps() || !s.Start.Equal(q.Start) || s.Step != q.Step {
			t.Fatalf("QueryMetric(%+v) grid = %s/%s/%d", q, s.Start, s.Step, len(s.Values))
		}
		for i, v := range s.Values {
			if math.IsInf(v, 0) {
				t.Fatalf("value %d is infinite", i)
			}
		}
	})
}
