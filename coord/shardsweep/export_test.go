package shardsweep

// HeldListings returns how many listed resources the runner holds in its
// listings of the inventory (the passes' own parts aside), for the tests.
func (r *Runner) HeldListings() int {
	r.lists.mu.Lock()
	defer r.lists.mu.Unlock()
	n := 0
	for _, l := range r.lists.byAt {
		for _, part := range l.shards {
			n += len(part)
		}
	}
	return n
}

// Ended is ended, for the tests.
var Ended = ended
