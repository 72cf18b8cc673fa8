package detector

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/idlescale/idlescale/provider"
)

// SweepConfig configures Tracker.Sweep. Now is required; the zero value
// of every other field means its default.
type SweepConfig struct {
	// Now is the time of the decisions. Required.
	Now time.Time `json:"now"`
	// Chunk is how many resources' queries are read together (with a
	// provider.MetricsBatcher, in one QueryMetrics call that packs them).
	// Default: 1000.
	Chunk int `json:"chunk,omitempty"`
	// Concurrency bounds the resources evaluated at once. Default: 8.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxPoints bounds the steps read ahead at once: a chunk whose reads
	// hold more (the whole history of new resources: 48,384 steps each
	// with the defaults) is read and evaluated in parts of at most
	// MaxPoints steps (a resource's reads are never split), so that a
	// sweep holds about 8 × MaxPoints bytes of series at a time. Default:
	// 1,000,000 (about 20 new resources, or every resource of a chunk of
	// 1000 read from its state).
	MaxPoints int `json:"max_points,omitempty"`
}

// SweepReport is the outcome of a Sweep.
type SweepReport struct {
	// Verdicts holds one verdict per resource evaluated, sorted by ID.
	Verdicts []Verdict
	// Errors holds the resources' metric, activity, store and detect
	// errors, sorted by resource ID.
	Errors []*ResourceError
	// Incremental counts the resources evaluated from their state; Full
	// counts the full reads by reason.
	Incremental int
	Full        map[FullRead]int
	// Queries and Points count the metric queries and steps read.
	Queries, Points int
	// StateBytes is the total size of the states saved.
	StateBytes int
}

// prefetched serves the queries read ahead by Sweep, and reads any other
// from the source.
type prefetched struct {
	src provider.MetricsSource
	mu  sync.Mutex
	got map[prefetchKey]prefetchResult
}

type prefetchKey struct {
	id     string
	metric provider.Metric
	start  int64
	end    int64
}

type prefetchResult struct {
	s   provider.Series
	err error
}

func keyOf(q provider.Query) prefetchKey {
	return prefetchKey{q.ResourceID, q.Metric, q.Start.UnixNano(), q.End.UnixNano()}
}

func (p *prefetched) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	p.mu.Lock()
	r, ok := p.got[keyOf(q)]
	delete(p.got, keyOf(q))
	p.mu.Unlock()
	if ok {
		return r.s, r.err
	}
	return p.src.QueryMetric(ctx, q)
}

// Sweep evaluates resources at cfg.Now as Detect does, reading their
// queries chunk by chunk ahead: the new steps of those with a usable state
// and the whole history of the others, with one QueryMetrics call per chunk
// when ms is a provider.MetricsBatcher (wrap it in a provider/quota.Source
// to spend a budget and pack the calls into GetMetricData's batches). A resource's full read discovered
// only after its new steps (see Tracker) reads on its own. One failing
// resource does not fail the sweep; Sweep returns an error for an invalid
// configuration or when ctx ends. A resource ID given more than once is
// not evaluated: one error names it (Op "list", matching
// provider.ErrInvalid) and it has no verdict.
func (t *Tracker) Sweep(ctx context.Context, ms provider.MetricsSource, act provider.ActivitySource, resources []provider.Resource, cfg SweepConfig) (SweepReport, error) {
	if err := checkSources("sweep", ms, act); err != nil {
		return SweepReport{}, err
	}
	if cfg.Now.IsZero() {
		return SweepReport{}, invalid("sweep.now", cfg.Now, "must be set")
	}
	if cfg.Chunk < 0 {
		return SweepReport{}, invalid("sweep.chunk", cfg.Chunk, "must be > 0 (0 means the default 1000)")
	}
	if cfg.Concurrency < 0 {
		return SweepReport{}, invalid("sweep.concurrency", cfg.Concurrency, "must be > 0 (0 means the default 8)")
	}
	if cfg.MaxPoints < 0 {
		return SweepReport{}, invalid("sweep.max_points", cfg.MaxPoints, "must be > 0 (0 means the default 1,000,000)")
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = 1000
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxPoints == 0 {
		cfg.MaxPoints = 1_000_000
	}
	if act == nil {
		act, _ = ms.(provider.ActivitySource)
	}
	now := cfg.Now
	rep := SweepReport{Full: map[FullRead]int{}}
	// An ID given more than once is not evaluated, as Scan does not judge
	// one the inventory lists twice: its copies would be evaluated at
	// once, against the Tracker's contract, each on its own fields, with
	// two verdicts under the one ID.
	resources, repeated := provider.ListedOnce(resources)
	for _, id := range slices.Sorted(maps.Keys(repeated)) {
		rep.Errors = append(rep.Errors, &ResourceError{ResourceID: id, Op: "list",
			Err: invalid("resource.id", id, "given "+strconv.Itoa(repeated[id])+" times; a resource given more than once is not evaluated")})
	}
	var mu sync.Mutex
	for lo := 0; lo < len(resources); lo += cfg.Chunk {
		chunk := resources[lo:min(lo+cfg.Chunk, len(resources))]
		ds := make([]*digest, len(chunk))
		whys := make([]FullRead, len(chunk))
		reads := make([]Read, len(chunk))
		// Load and decode the states in parallel: decoding is most of the
		// work of an hour that reads little.
		lg, lctx := errgroup.WithContext(ctx)
		lg.SetLimit(cfg.Concurrency)
		for i, r := range chunk {
			lg.Go(func() error {
				if lctx.Err() != nil {
					return nil // ended (a replica stopping): the loads not started are not made
				}
				ds[i], whys[i] = t.load(lctx, r, now, &reads[i])
				return nil
			})
		}
		_ = lg.Wait() // the loads return no error; ctx is checked below
		if err := ctx.Err(); err != nil {
			return SweepReport{}, err
		}
		// Read ahead and evaluate the chunk in parts of at most MaxPoints
		// steps read.
		var qs []provider.Query
		history := time.Duration(t.hours) * time.Hour
		from, points := 0, 0
		for i, r := range chunk {
			start := now.Add(-history)
			switch {
			case ds[i] != nil && !ds[i].next.Before(now):
				continue // nothing new
			case ds[i] != nil:
				start = ds[i].next
			case !now.Truncate(time.Hour).Equal(now):
				continue // a full read at an odd time: read on its own
			}
			q := provider.Query{ResourceID: r.ID, Start: start, End: now, Step: t.cfg.Step, Statistic: t.cfg.Statistic}
			metrics := t.view(r.Kind).metrics
			steps := q.Steps() * len(metrics)
			if points > 0 && points+steps > cfg.MaxPoints {
				if err := t.sweepPart(ctx, ms, act, chunk[from:i], qs, ds[from:i], whys[from:i], reads[from:i], cfg, &rep, &mu); err != nil {
					return SweepReport{}, err
				}
				from, points, qs = i, 0, qs[:0]
			}
			for _, m := range metrics {
				q.Metric = m
				qs = append(qs, q)
			}
			points += steps
		}
		if err := t.sweepPart(ctx, ms, act, chunk[from:], qs, ds[from:], whys[from:], reads[from:], cfg, &rep, &mu); err != nil {
			return SweepReport{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return SweepReport{}, err
	}
	slices.SortFunc(rep.Verdicts, func(a, b Verdict) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	slices.SortStableFunc(rep.Errors, func(a, b *ResourceError) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	return rep, nil
}

// sweepPart reads qs ahead and evaluates part, a part of a chunk whose
// loaded states are ds (and the reasons for a full read whys), adding
// its outcome to rep under mu.
func (t *Tracker) sweepPart(ctx context.Context, ms provider.MetricsSource, act provider.ActivitySource, part []provider.Resource, qs []provider.Query,
	ds []*digest, whys []FullRead, reads []Read, cfg SweepConfig, rep *SweepReport, mu *sync.Mutex) error {
	now := cfg.Now
	src := &prefetched{src: ms, got: make(map[prefetchKey]prefetchResult, len(qs))}
	if err := t.prefetch(ctx, ms, qs, src.got); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for i, r := range part {
		g.Go(func() error {
			v, rd, err := t.detect(gctx, src, act, r, now, ds[i], whys[i], &reads[i])
			if gctx.Err() != nil {
				return gctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			rep.Errors = append(rep.Errors, rd.Errors...)
			if err != nil {
				rep.Errors = append(rep.Errors, &ResourceError{ResourceID: r.ID, Op: "detect", Err: err})
				return nil
			}
			rep.Verdicts = append(rep.Verdicts, v)
			if rd.Full {
				rep.Full[rd.Why]++
			} else {
				rep.Incremental++
			}
			rep.Queries += rd.Queries
			rep.Points += rd.Points
			rep.StateBytes += rd.StateBytes
			return nil
		})
	}
	return g.Wait()
}

// prefetch reads qs into got with provider.QueryMetrics: in one call when
// ms is a provider.MetricsBatcher, otherwise one query at a time. When the
// call fails as a whole, the reads that carry its error, or that it left
// unanswered (no series, no error), are left out of got, to be read one
// by one. It returns an error only when ctx ends.
func (t *Tracker) prefetch(ctx context.Context, ms provider.MetricsSource, qs []provider.Query, got map[prefetchKey]prefetchResult) error {
	if len(qs) == 0 {
		return nil
	}
	reads := make([]provider.MetricRead, len(qs))
	for i, q := range qs {
		reads[i].Query = q
	}
	err := provider.QueryMetrics(ctx, ms, reads)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, r := range reads {
		if err != nil && (errors.Is(r.Err, err) || r.Err == nil && r.Series.Step == 0) {
			// The call's failure, not the read's (a read it left
			// unanswered too, as Scan takes it): read it again alone.
			continue
		}
		got[keyOf(r.Query)] = prefetchResult{s: r.Series, err: r.Err}
	}
	return nil
}
