package quota

import (
	"time"

	"github.com/idlescale/idlescale/provider"
)

// CostOf returns what reading q alone costs at now under lim: one call per
// PointsPerCall data points (a longer read is paged), its steps as points,
// those that start within lim.RecentAge of now as recent.
func CostOf(q provider.Query, now time.Time, lim Limits) Cost {
	lim = lim.withDefaults()
	n := q.Steps()
	c := Cost{Calls: max(1, (n+lim.PointsPerCall-1)/lim.PointsPerCall), Points: n}
	if q.Step > 0 && n > 0 {
		recentFrom := now.Add(-lim.RecentAge)
		if !q.Start.Before(recentFrom) {
			c.RecentPoints = n
		} else if q.End.After(recentFrom) {
			old := int((recentFrom.Sub(q.Start) + q.Step - 1) / q.Step)
			c.RecentPoints = max(n-old, 0)
		}
	}
	return c
}

// Batch is a set of queries sent in one call (or, for one query longer
// than a call's points, in the pages it needs).
type Batch struct {
	// Queries are indices into the planned queries.
	Queries []int
	// Cost is what the batch spends.
	Cost Cost
}

// Plan packs qs into batches as GetMetricData takes them: queries of one
// batch share a time range (one call has one), and a batch holds at most
// lim.MetricsPerCall queries and lim.PointsPerCall points. A query longer
// than PointsPerCall goes alone, paged. Batches keep the order in which
// their first query appears; each batch lists its queries in order.
func Plan(qs []provider.Query, now time.Time, lim Limits) []Batch {
	lim = lim.withDefaults()
	type span struct{ start, end int64 }
	open := map[span]int{} // the batch still being filled for a range
	var out []Batch
	for i, q := range qs {
		c := CostOf(q, now, lim)
		if c.Calls > 1 {
			out = append(out, Batch{Queries: []int{i}, Cost: c})
			continue
		}
		s := span{q.Start.UnixNano(), q.End.UnixNano()}
		k, ok := open[s]
		if ok && (len(out[k].Queries) == lim.MetricsPerCall || out[k].Cost.Points+c.Points > lim.PointsPerCall) {
			ok = false
		}
		if !ok {
			out = append(out, Batch{Cost: Cost{Calls: 1}})
			k = len(out) - 1
			open[s] = k
		}
		out[k].Queries = append(out[k].Queries, i)
		out[k].Cost.Points += c.Points
		out[k].Cost.RecentPoints += c.RecentPoints
	}
	return out
}
