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
	// direct dependents only). Must be ≥ 0; 0 means the default.
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
// traffic, a database with connections), and reports which. A cycle in the
// graph, a graph deeper than MaxDepth, or a graph error makes the rule
// fail (the engine blocks). Safe for concurrent use if the graph is.
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
	if isNilFunc(graph) {
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
	res := Result{Outcome: Block, Risk: RiskHigh}
	names := make([]string, len(live))
	for i, d := range live {
		s := d.ID
		var extra []string
		if d.Relation != "" {
			extra = append(extra, d.Relation)
		}
		if d.Detail != "" {
			extra = append(extra, d.Detail)
		}
		if len(extra) > 0 {
			s += " (" + strings.Join(extra, ", ") + ")"
		}
		names[i] = s
		res.Factors = append(res.Factors, "live dependent "+s)
		res.Recommendations = append(res.Recommendations, "drain or detach "+d.ID+" first")
	}
	res.Reason = "live dependents: " + strings.Join(names, ", ")
	return res, nil
}

// walkDependents returns the live dependents of root up to maxDepth
// levels, in depth-first order, failing on a cycle or a deeper graph.
func walkDependents(ctx context.Context, g DependencyGraph, root string, maxDepth int) ([]Dependent, error) {
	type frame struct {
		id   string
		deps []Dependent
		next int
	}
	var live []Dependent
	var seen, done idSet
	push := func(stack []frame, id string) ([]frame, error) {
		deps, err := g.Dependents(ctx, id)
		if err != nil {
			return stack, fmt.Errorf("dependents of %q: %w", id, err)
		}
		if len(deps) > 0 && len(stack) >= maxDepth {
			path := make([]string, 0, len(stack)+2)
			for _, f := range stack {
				path = append(path, f.id)
			}
			return stack, fmt.Errorf("dependents of %q: %w", root,
				invalidf("max_depth", maxDepth, "the graph is deeper (via "+strings.Join(append(path, id, deps[0].ID), " → ")+")"))
		}
		return append(stack, frame{id: id, deps: deps}), nil
	}
	stack, err := push(make([]frame, 0, 4), root)
	if err != nil {
		return nil, err
	}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(top.deps) {
			done.add(top.id)
			stack = stack[:len(stack)-1]
			continue
		}
		d := top.deps[top.next]
		top.next++
		for i, f := range stack {
			if f.id == d.ID {
				path := make([]string, 0, len(stack)-i+1)
				for _, f := range stack[i:] {
					path = append(path, f.id)
				}
				return nil, fmt.Errorf("%w: %s", ErrCycle, strings.Join(append(path, d.ID), " → "))
			}
		}
		if !seen.has(d.ID) {
			seen.add(d.ID)
			if d.Live {
				live = append(live, d)
			}
		}
		if done.has(d.ID) {
			continue
		}
		if stack, err = push(stack, d.ID); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// idSet is a set of IDs: the first eight in an array (no allocation for
// the usual handful of dependents), the rest in a map.
type idSet struct {
	small [8]string
	n     int
	m     map[string]struct{}
}

func (s *idSet) has(id string) bool {
	if slices.Contains(s.small[:s.n], id) {
		return true
	}
	_, ok := s.m[id]
	return ok
}

func (s *idSet) add(id string) {
	if s.n < len(s.small) {
		s.small[s.n] = id
		s.n++
		return
	}
	if s.m == nil {
		s.m = make(map[string]struct{})
	}
	s.m[id] = struct{}{}
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
