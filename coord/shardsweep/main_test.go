package shardsweep_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// cluster is one embedded etcd member shared by the package's tests; each
// test uses its own key prefix. TestEtcdDown starts its own.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunShared(m, "coord-shardsweep-test", etcdtest.Options{NoFsync: true}, &cluster)
}

// fleet is an inventory of instances whose cpu is flat: idle (0.03, the
// detector recommends a stop) for the IDs in idle, busy (0.6) otherwise;
// other metrics are not available, but a volume's bytes read and written
// (idle: none; busy: 1 MB/s), which the detector judges a volume on. hold,
// when set, is called before every query.
type fleet struct {
	resources []provider.Resource
	idle      map[string]bool

	mu   sync.Mutex
	hold func(q provider.Query) // optional, called before every query

	lists atomic.Int32 // List calls

	now map[string]provider.Resource // what Get answers instead of the listed copy, when set (under mu)

	activity provider.ActivitySource // optional: the detector.Fleet's Activity
}

// setHold sets the function called before every query.
func (f *fleet) setHold(h func(q provider.Query)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = h
}

func newFleet(n int, launched time.Time) *fleet {
	f := &fleet{idle: map[string]bool{}}
	for i := range n {
		id := fmt.Sprintf("i-%04d", i)
		f.resources = append(f.resources, provider.Resource{ID: id, Kind: provider.KindInstance, State: provider.StateRunning, LaunchTime: launched})
		if i%2 == 0 {
			f.idle[id] = true
		}
	}
	return f
}

func (f *fleet) List(ctx context.Context, _ provider.Filter) ([]provider.Resource, error) {
	f.lists.Add(1)
	return slices.Clone(f.resources), ctx.Err()
}

func (f *fleet) Get(ctx context.Context, id string) (provider.Resource, error) {
	if err := ctx.Err(); err != nil { // as a cloud API's client does
		return provider.Resource{}, err
	}
	f.mu.Lock()
	r, ok := f.now[id]
	f.mu.Unlock()
	if ok {
		return r, nil
	}
	for _, r := range f.resources {
		if r.ID == id {
			return r, nil
		}
	}
	return provider.Resource{}, provider.ErrNotFound
}

func (f *fleet) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		hold(q)
	}
	if err := ctx.Err(); err != nil {
		return provider.Series{}, err
	}
	x, idle := 0.6, 0.03
	switch q.Metric {
	case provider.MetricCPU:
	case provider.MetricDiskRead, provider.MetricDiskWrite:
		if !f.isVolume(q.ResourceID) {
			return provider.Series{}, provider.ErrUnsupported
		}
		x, idle = 1e6, 0
	default:
		return provider.Series{}, provider.ErrUnsupported
	}
	if f.idle[q.ResourceID] {
		x = idle
	}
	s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	for i := range s.Values {
		s.Values[i] = x
	}
	return s, nil
}

// isVolume reports whether id is a listed volume.
func (f *fleet) isVolume(id string) bool {
	for _, r := range f.resources {
		if r.ID == id {
			return r.Kind == provider.KindVolume
		}
	}
	return false
}

func (f *fleet) detector() detector.Fleet {
	return detector.Fleet{Inventory: f, Metrics: f, Activity: f.activity}
}

// recorder is an Actor and an Observer that records every act and every
// report.
type recorder struct {
	mu      sync.Mutex
	acts    map[actKey][]string // resource and period → the replicas that acted
	reports []shardsweep.Report
	act     func(ctx context.Context, d shardsweep.Decision) error // optional, before recording
}

// setAct sets the function called before an act is recorded.
func (r *recorder) setAct(f func(ctx context.Context, d shardsweep.Decision) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.act = f
}

type actKey struct {
	id     string
	period time.Time
}

func newRecorder() *recorder { return &recorder{acts: map[actKey][]string{}} }

// actor returns the Actor of replica id.
func (r *recorder) actor(id string) shardsweep.Actor {
	return shardsweep.ActorFunc(func(ctx context.Context, d shardsweep.Decision) error {
		r.mu.Lock()
		act := r.act
		r.mu.Unlock()
		if act != nil {
			if err := act(ctx, d); err != nil {
				return err
			}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		k := actKey{d.Resource.ID, d.Period.UTC()}
		r.acts[k] = append(r.acts[k], id)
		return nil
	})
}

func (r *recorder) Swept(rep shardsweep.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
}

// done returns the reports of the passes that finished period, by shard
// (the last one when a shard finished it twice, which the tests check).
func (r *recorder) done(period time.Time) map[int][]shardsweep.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int][]shardsweep.Report{}
	for _, rep := range r.reports {
		if rep.Done && rep.Period.Equal(period) {
			out[rep.Shard] = append(out[rep.Shard], rep)
		}
	}
	return out
}

func (r *recorder) all() []shardsweep.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reports)
}

func (r *recorder) actsFor(period time.Time) map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]string{}
	for k, v := range r.acts {
		if k.period.Equal(period) {
			out[k.id] = slices.Clone(v)
		}
	}
	return out
}

func newEnsemble(t testing.TB) *detector.Ensemble {
	t.Helper()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	return ens
}

// passes describes reports briefly, for failure messages: replica@term.
func passes(reps []shardsweep.Report) []string {
	out := make([]string, len(reps))
	for i, r := range reps {
		out[i] = fmt.Sprintf("%s@%d", r.Replica, r.Fence.Rev)
	}
	return out
}
