package safety

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// Dependent is a resource that depends on another one.
type Dependent struct {
	// ID is the dependent resource's ID.
	ID string `json:"id" yaml:"id"`
	// Relation says how it depends ("load balancer target", "database
	// client").
	Relation string `json:"relation,omitempty" yaml:"relation,omitempty"`
	// Live reports whether the dependency is in use now (traffic through
	// a load balancer, open database connections).
	Live bool `json:"live" yaml:"live"`
	// Detail quantifies the use ("120 req/min", "14 connections").
	Detail string `json:"detail,omitempty" yaml:"detail,omitempty"`
}

// DependencyGraph tells who depends on a resource. A host or a provider
// supplies it.
//
// Dependents returns the direct dependents of resourceID (those that would
// break if it went away), with their liveness at the time of the call; a
// resource nobody depends on has none (not an error). Implementations must
// be safe for concurrent use, honour ctx, and return slices the caller
// may keep.
type DependencyGraph interface {
	Dependents(ctx context.Context, resourceID string) ([]Dependent, error)
}

// DependencyGraphFunc adapts a function to a DependencyGraph.
type DependencyGraphFunc func(ctx context.Context, resourceID string) ([]Dependent, error)

// Dependents calls f(ctx, resourceID).
func (f DependencyGraphFunc) Dependents(ctx context.Context, resourceID string) ([]Dependent, error) {
	return f(ctx, resourceID)
}

// StaticGraph is a DependencyGraph from a fixed map of resource ID to
// direct dependents. It is immutable and safe for concurrent use.
type StaticGraph struct {
	deps map[string][]Dependent
}

var (
	_ DependencyGraph = (*StaticGraph)(nil)
	_ DependencyGraph = DependencyGraphFunc(nil)
)

// NewStaticGraph returns a StaticGraph over deps (copied). It fails with
// provider.ErrInvalid for an unusable ID and with ErrCycle, naming the
// cycle, when a resource depends on itself through the graph.
func NewStaticGraph(deps map[string][]Dependent) (*StaticGraph, error) {
	g := &StaticGraph{deps: make(map[string][]Dependent, len(deps))}
	for _, id := range slices.Sorted(maps.Keys(deps)) {
		if err := provider.ValidateID(id); err != nil {
			return nil, provider.Within("graph", err)
		}
		for i, d := range deps[id] {
			if err := provider.ValidateID(d.ID); err != nil {
				return nil, provider.Within(fmt.Sprintf("graph[%s][%d]", id, i), err)
			}
		}
		g.deps[id] = slices.Clone(deps[id])
	}
	if err := g.findCycle(); err != nil {
		return nil, err
	}
	return g, nil
}

// Dependents returns a copy of the direct dependents of resourceID.
func (g *StaticGraph) Dependents(ctx context.Context, resourceID string) ([]Dependent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return slices.Clone(g.deps[resourceID]), nil
}

// DependencyConfig configures DependencyRule. The zero value means the
// defaults.
type DependencyConfig struct {
	// Actions are the actions that must not break live dependents. Empty
	// means the default. Default: stop, terminate, resize.
	Actions []Action `json:"actions,omitempty" yaml:"actions,omitempty"`
	// MaxDepth is how many levels of dependents are followed (1 means
	// direct dependents only). A resource with a longer path of
	// dependents, over any of its paths, makes the rule fail rather than
	// be judged on part of its graph. Must be ≥ 0; 0 means the default.
	// Default: 8.
	MaxDepth int `json:"max_depth,omitempty" yaml:"max_depth,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c DependencyConfig) Validate() error {
	if c.MaxDepth < 0 {
		return invalidf("max_depth", c.MaxDepth, "must be ≥ 0 (0 means 8)")
	}
	_, err := newActionSet("actions", c.Actions, resourceActions)
	return err
}

// DependencyRule blocks an action while live dependents exist, directly or
// through other dependents (an instance behind a load balancer with
// traffic, a database with connections), and reports which. Every edge
// reachable from the resource is read: a dependent is live when any edge
// to it is live, including one reached through idle dependents or
// after an idle edge to the same dependent. The reason names each live
// dependent once, in ID order, with the distinct relations and details
// of its live edges, so the result does not depend on the order in which
// the graph lists dependents. A cycle in the graph, a path of dependents
// longer than MaxDepth, or a graph error makes the rule fail (the engine
// blocks). Safe for concurrent use if the graph is.
//
// Make one with NewDependencyRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type DependencyRule struct {
	graph    DependencyGraph
	actions  actionSet
	maxDepth int
	made     bool // set by NewDependencyRule; the zero value fails closed
}

var _ Rule = (*DependencyRule)(nil)

// NewDependencyRule returns a DependencyRule for cfg over graph
// (required). It fails with provider.ErrInvalid, naming the field, when
// cfg is invalid or graph is nil (including a nil DependencyGraphFunc).
func NewDependencyRule(cfg DependencyConfig, graph DependencyGraph) (*DependencyRule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if isNilSource(graph) {
		return nil, invalidf("graph", nil, "must not be nil")
	}
	acts, _ := newActionSet("actions", cfg.Actions, resourceActions)
	r := &DependencyRule{made: true, graph: graph, actions: acts, maxDepth: cfg.MaxDepth}
	if r.maxDepth == 0 {
		r.maxDepth = 8
	}
	return r, nil
}

// Name returns "dependencies".
func (r *DependencyRule) Name() string { return "dependencies" }

// Inline reports whether the graph is a *StaticGraph (in memory).
func (r *DependencyRule) Inline() bool {
	_, ok := r.graph.(*StaticGraph)
	return ok
}

// Check implements Rule.
func (r *DependencyRule) Check(ctx context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("DependencyRule", "NewDependencyRule")
	}
	if !r.actions.has(p.Action) {
		return pass, nil
	}
	live, err := walkDependents(ctx, r.graph, p.Resource.ID, r.maxDepth)
	if err != nil {
		return Result{}, err
	}
	if len(live) == 0 {
		return pass, nil
	}
	// One entry per dependent, in ID order, with the distinct
	// descriptions of its live edges in text order: the result does not
	// depend on the order in which the graph lists dependents.
	slices.SortFunc(live, func(a, b Dependent) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(describeDependent(a), describeDependent(b))
	})
	res := Result{Outcome: Block, Risk: RiskHigh}
	var names []string
	for i := 0; i < len(live); {
		id := live[i].ID
		var descs []string
		for ; i < len(live) && live[i].ID == id; i++ {
			if d := describeDependent(live[i]); d != "" && (len(descs) == 0 || descs[len(descs)-1] != d) {
				descs = append(descs, d)
			}
		}
		s := id
		if len(descs) > 0 {
			s += " (" + strings.Join(descs, "; ") + ")"
		}
		names = append(names, s)
		res.Factors = append(res.Factors, "live dependent "+s)
		res.Recommendations = append(res.Recommendations, "drain or detach "+id+" first")
	}
	res.Reason = "live dependents: " + strings.Join(names, ", ")
	return res, nil
}

// describeDependent returns d's relation and detail, comma-separated, or
// "" when it has neither.
func describeDependent(d Dependent) string {
	switch {
	case d.Relation == "":
		return d.Detail
	case d.Detail == "":
		return d.Relation
	}
	return d.Relation + ", " + d.Detail
}

// walkDependents returns every live edge (a Dependent with Live set)
// reachable from root, each once but in no particular order: a dependent
// reached over several edges appears once per live edge, and a live edge
// counts even when its dependent was first reached over an idle one. It
// fails on a cycle, and when a path from root is longer than maxDepth
// edges, whichever path the walk takes first (a dependent's depth below
// it is remembered, so one reached again over a longer path is judged by
// its longest path too).
func walkDependents(ctx context.Context, g DependencyGraph, root string, maxDepth int) ([]Dependent, error) {
	type frame struct {
		id     string
		deps   []Dependent
		next   int
		height int    // the longest path below id walked so far, in edges
		via    string // the dependent that path goes through
	}
	var live []Dependent
	var done doneSet
	path := func(stack []frame, ids ...string) string {
		p := make([]string, 0, len(stack)+len(ids))
		for _, f := range stack {
			p = append(p, f.id)
		}
		return strings.Join(append(p, ids...), " → ")
	}
	tooDeep := func(via string) error {
		return fmt.Errorf("dependents of %q: %w", root,
			invalidf("max_depth", maxDepth, "the graph is deeper (via "+via+")"))
	}
	push := func(stack []frame, id string) ([]frame, error) {
		deps, err := g.Dependents(ctx, id)
		if err != nil {
			return stack, fmt.Errorf("dependents of %q: %w", id, err)
		}
		if len(deps) > 0 && len(stack) >= maxDepth {
			return stack, tooDeep(path(stack, id, deps[0].ID))
		}
		return append(stack, frame{id: id, deps: deps}), nil
	}
	// reached records that the frame on top of stack has a dependent
	// (via) whose longest path below is height edges.
	reached := func(stack []frame, via string, height int) {
		top := &stack[len(stack)-1]
		if h := height + 1; h > top.height || h == top.height && via < top.via {
			top.height, top.via = h, via
		}
	}
	stack, err := push(make([]frame, 0, 4), root)
	if err != nil {
		return nil, err
	}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(top.deps) {
			done.add(doneNode{id: top.id, height: top.height, via: top.via})
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				reached(stack, top.id, top.height)
			}
			continue
		}
		d := top.deps[top.next]
		top.next++
		for i, f := range stack {
			if f.id == d.ID {
				return nil, fmt.Errorf("%w: %s", ErrCycle, path(stack[i:], d.ID))
			}
		}
		if d.Live {
			live = append(live, d)
		}
		if n, ok := done.get(d.ID); ok {
			// d would sit at depth len(stack), its longest path below
			// it n.height edges further down.
			if len(stack)+n.height > maxDepth {
				ids := []string{d.ID}
				for len(stack)+len(ids) <= maxDepth+1 {
					n, _ = done.get(n.via)
					ids = append(ids, n.id)
				}
				return nil, tooDeep(path(stack, ids...))
			}
			reached(stack, d.ID, n.height)
			continue
		}
		if stack, err = push(stack, d.ID); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// doneNode is a dependent whose dependents were all walked: the longest
// path below it, in edges, and the dependent that path goes through.
type doneNode struct {
	id     string
	height int
	via    string
}

// doneSet is a set of walked dependents by ID: the first eight in an
// array (no allocation for the usual handful of dependents), the rest in
// a map.
type doneSet struct {
	small [8]doneNode
	n     int
	m     map[string]doneNode
}

func (s *doneSet) get(id string) (doneNode, bool) {
	for _, n := range s.small[:s.n] {
		if n.id == id {
			return n, true
		}
	}
	n, ok := s.m[id]
	return n, ok
}

func (s *doneSet) add(n doneNode) {
	if s.n < len(s.small) {
		s.small[s.n] = n
		s.n++
		return
	}
	if s.m == nil {
		s.m = make(map[string]doneNode)
	}
	s.m[n.id] = n
}

// findCycle returns an ErrCycle error naming a cycle of g, or nil. It is a
// depth-first search over every node, O(nodes + edges).
func (g *StaticGraph) findCycle() error {
	const (
		white = iota
		grey
		black
	)
	color := make(map[string]int, len(g.deps))
	type frame struct {
		id   string
		next int
	}
	for _, root := range slices.Sorted(maps.Keys(g.deps)) {
		if color[root] != white {
			continue
		}
		stack := []frame{{id: root}}
		color[root] = grey
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			deps := g.deps[top.id]
			if top.next == len(deps) {
				color[top.id] = black
				stack = stack[:len(stack)-1]
				continue
			}
			d := deps[top.next].ID
			top.next++
			switch color[d] {
			case grey:
				var path []string
				for i := range stack {
					if stack[i].id == d {
						for _, f := range stack[i:] {
							path = append(path, f.id)
						}
						break
					}
				}
				return fmt.Errorf("%w: %s", ErrCycle, strings.Join(append(path, d), " → "))
			case white:
				color[d] = grey
				stack = append(stack, frame{id: d})
			}
		}
	}
	return nil
}
