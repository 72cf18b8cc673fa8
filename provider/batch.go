package provider

import "context"

// ResourceRead is one resource of a batch read: ID is the input,
// Resource and Err the answer of Inventory.Get(ID).
type ResourceRead struct {
	// ID is the resource to read.
	ID string
	// Resource is the resource read (a copy the caller may change).
	Resource Resource
	// Err is the read's error; nil when it succeeded.
	Err error
}

// CapacityRead is one group of a batch read: ID is the input, Capacity
// and Err the answer of Scaler.Capacity(ID).
type CapacityRead struct {
	// ID is the group to read.
	ID string
	// Capacity is the group's capacity.
	Capacity Capacity
	// Err is the read's error; nil when it succeeded.
	Err error
}

// MetricRead is one query of a batch read: Query is the input, Series and
// Err the answer of MetricsSource.QueryMetric(Query).
//
// Series.Values is a destination: a batch method may write the answer's
// values into the capacity Series.Values already has (as append does),
// so that a caller that reuses its reads across calls allocates no values.
// A caller that keeps a series past its next batch call copies it.
type MetricRead struct {
	// Query is the query.
	Query Query
	// Series is the answer, on the query's grid.
	Series Series
	// Err is the read's error; nil when it succeeded.
	Err error
}

// ActivityRead is one query of a batch read: Query is the input, Counts
// and Err the answer of ActivitySource.Activity(Query).
type ActivityRead struct {
	// Query is the query.
	Query ActivityQuery
	// Counts is the answer: one count per kind the source observes,
	// sorted by kind (a kind it cannot observe is absent).
	Counts []ActivityCount
	// Err is the read's error; nil when it succeeded.
	Err error
}

// ResourceBatcher is an Inventory that reads many resources in one call.
// GetResources answers every read as Inventory.Get would (the contract is
// in the package documentation, "Batch reads").
type ResourceBatcher interface {
	GetResources(ctx context.Context, reads []ResourceRead) error
}

// CapacityBatcher is a Scaler that reads many groups' capacity in one
// call. GetCapacities answers every read as Scaler.Capacity would (the
// contract is in the package documentation, "Batch reads").
type CapacityBatcher interface {
	GetCapacities(ctx context.Context, reads []CapacityRead) error
}

// MetricsBatcher is a MetricsSource that answers many queries in one
// call. QueryMetrics answers every read as MetricsSource.QueryMetric would
// (the contract is in the package documentation, "Batch reads"), writing
// values into the capacity of each read's Series.Values.
type MetricsBatcher interface {
	QueryMetrics(ctx context.Context, reads []MetricRead) error
}

// ActivityBatcher is an ActivitySource that answers many queries in one
// call. Activities answers every read as ActivitySource.Activity would
// (the contract is in the package documentation, "Batch reads"). A driver
// whose activity reads share what they list (the Kubernetes driver's
// PersistentVolumes, judged against the cluster's claims and attachments)
// answers a batch from one listing instead of one per read.
type ActivityBatcher interface {
	Activities(ctx context.Context, reads []ActivityRead) error
}

// GetResources reads every resource of reads through inv: in one call when
// inv is a ResourceBatcher, else with one Get per read, stopping at the
// first read after ctx ended. It returns the error of the call as a whole
// (ctx's when it ended); each read carries its own.
func GetResources(ctx context.Context, inv Inventory, reads []ResourceRead) error {
	if len(reads) == 0 {
		return nil
	}
	if b, ok := inv.(ResourceBatcher); ok {
		return b.GetResources(ctx, reads)
	}
	for i := range reads {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(reads); j++ {
				reads[j].Resource, reads[j].Err = Resource{}, err
			}
			return err
		}
		reads[i].Resource, reads[i].Err = inv.Get(ctx, reads[i].ID)
	}
	return nil
}

// GetCapacities reads every group's capacity of reads through s: in one
// call when s is a CapacityBatcher, else with one Capacity per read,
// stopping at the first read after ctx ended. It returns the error of the
// call as a whole (ctx's when it ended); each read carries its own.
func GetCapacities(ctx context.Context, s Scaler, reads []CapacityRead) error {
	if len(reads) == 0 {
		return nil
	}
	if b, ok := s.(CapacityBatcher); ok {
		return b.GetCapacities(ctx, reads)
	}
	for i := range reads {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(reads); j++ {
				reads[j].Capacity, reads[j].Err = Capacity{}, err
			}
			return err
		}
		reads[i].Capacity, reads[i].Err = s.Capacity(ctx, reads[i].ID)
	}
	return nil
}

// QueryMetrics answers every query of reads through src: in one call when
// src is a MetricsBatcher, else with one QueryMetric per read, stopping at
// the first read after ctx ended. It returns the error of the call as a
// whole (ctx's when it ended); each read carries its own.
func QueryMetrics(ctx context.Context, src MetricsSource, reads []MetricRead) error {
	if len(reads) == 0 {
		return nil
	}
	if b, ok := src.(MetricsBatcher); ok {
		return b.QueryMetrics(ctx, reads)
	}
	for i := range reads {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(reads); j++ {
				reads[j].Series, reads[j].Err = Series{Values: reads[j].Series.Values[:0]}, err
			}
			return err
		}
		reads[i].Series, reads[i].Err = src.QueryMetric(ctx, reads[i].Query)
	}
	return nil
}

// Activities answers every query of reads through src: in one call when
// src is an ActivityBatcher, else with one Activity per read, stopping at
// the first read after ctx ended. It returns the error of the call as a
// whole (ctx's when it ended); each read carries its own.
func Activities(ctx context.Context, src ActivitySource, reads []ActivityRead) error {
	if len(reads) == 0 {
		return nil
	}
	if b, ok := src.(ActivityBatcher); ok {
		return b.Activities(ctx, reads)
	}
	for i := range reads {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(reads); j++ {
				reads[j].Counts, reads[j].Err = nil, err
			}
			return err
		}
		reads[i].Counts, reads[i].Err = src.Activity(ctx, reads[i].Query)
	}
	return nil
}

type batchConcurrencyKey struct{}

// WithBatchConcurrency returns a context that tells a batch read made
// with it to make at most n calls at once, for a driver that answers part
// of a batch with one call per read (the Kubernetes driver reads a
// workload's metrics one by one): a caller that bounds its reads, such as
// a detector Scan with ScanConfig.Concurrency, bounds them inside a batch
// too. n < 1 is 1. A driver that makes one call per batch ignores it.
func WithBatchConcurrency(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, batchConcurrencyKey{}, max(n, 1))
}

// BatchConcurrency returns the bound WithBatchConcurrency set on ctx, or
// def when none was set.
func BatchConcurrency(ctx context.Context, def int) int {
	if n, ok := ctx.Value(batchConcurrencyKey{}).(int); ok {
		return n
	}
	return def
}
