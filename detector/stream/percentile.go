package stream

import (
	"math"
	"time"
)

// PercentileSummary is a Summary with a Sketch: 384 bytes per
// resource-metric. An update touches the summary's fields, the sketch's
// scale right after them and one bucket. (It is deliberately not padded to
// 512 bytes: a power-of-two stride makes a slice of them alias in the CPU
// caches.) 100 k of them take 38.4 MB.
type PercentileSummary struct {
	Summary
	Sketch
}

// NewPercentileSummary returns an empty PercentileSummary; scale is the
// Sketch's (1 for utilization fractions).
func NewPercentileSummary(cfg SummaryConfig, scale float64) (PercentileSummary, error) {
	s, err := NewSummary(cfg)
	if err != nil {
		return PercentileSummary{}, err
	}
	k, err := NewSketch(scale)
	if err != nil {
		return PercentileSummary{}, err
	}
	return PercentileSummary{Summary: s, Sketch: k}, nil
}

// Update adds one value to the summary and the sketch in O(1) without
// allocating; a NaN gap, or an infinite value, ends the run and is not
// added (see Summary.Update).
func (p *PercentileSummary) Update(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		p.run = 0
		return
	}
	p.update(v)
	p.add(v)
}

// Observe checks and adds the value v observed at t (see Summary.Observe).
func (p *PercentileSummary) Observe(t time.Time, v float64) error {
	if err := p.Summary.Observe(t, v); err != nil {
		return err
	}
	p.Add(v)
	return nil
}

// Count returns the number of values the summary has seen.
func (p *PercentileSummary) Count() int { return p.Summary.Count() }

// ResourceSummaries is the streaming state of one resource for the three
// metrics a fleet watcher typically follows: CPU, network and requests,
// with percentiles. It takes 1152 bytes.
type ResourceSummaries struct {
	// CPU follows cpu utilization (fraction).
	CPU PercentileSummary
	// Network follows network bytes per second.
	Network PercentileSummary
	// Requests follows requests per second.
	Requests PercentileSummary
}
