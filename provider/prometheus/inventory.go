package prometheus

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/idlescale/idlescale/provider"
)

// target is one resource found by the targets query.
type target struct {
	id     string
	labels map[string]string
	up     bool
}

// List returns the targets matching f, sorted by ID (see
// provider.Inventory). It runs the targets template as an instant query at
// the server's current time, with {{.Matchers}} selecting every value of
// the ID label (or only f.IDs) and {{.Range}} = Config.Lookback. Each series
// becomes a resource: ID from the ID label, Kind from Config.Kind, State
// running when the value is > 0 (the target is up) and stopped otherwise
// (a volume always running: see Inventory in the package doc), Tags = every label but __name__, and Region, Environment, Role, Owner and
// Name from the labels Config names (Environment, Role and Owner
// normalised by provider.Resource.NormalizeLabels, so " production " is
// "production"). Series of one ID from several jobs
// merge into one resource (running if any is up; tags from the first in
// label order). Series whose ID label is not a valid resource ID are
// skipped and logged. An invalid filter matches provider.ErrInvalid;
// server errors are as documented on QueryError.
func (s *Source) List(ctx context.Context, f provider.Filter) (_ []provider.Resource, err error) {
	defer s.red.Errorp(&err)
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	matchers := s.c.cfg.IDLabel + `=~".+"`
	if len(f.IDs) > 0 {
		alts := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			alts[i] = regexp.QuoteMeta(id)
		}
		matchers = s.c.cfg.IDLabel + "=~" + strconv.Quote(strings.Join(alts, "|"))
	}
	targets, err := s.targets(ctx, matchers)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Resource, 0, len(targets))
	for _, t := range targets {
		if r := s.resource(t); f.Match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Get returns the target whose ID label is id (see List), or an error
// matching provider.ErrNotFound when the targets query does not list it.
func (s *Source) Get(ctx context.Context, id string) (_ provider.Resource, err error) {
	defer s.red.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return provider.Resource{}, fmt.Errorf("prometheus: %w", err)
	}
	t, err := s.target(ctx, id)
	if err != nil {
		return provider.Resource{}, err
	}
	return s.resource(t), nil
}

// target finds one resource, or returns an error matching ErrNotFound.
func (s *Source) target(ctx context.Context, id string) (target, error) {
	ts, err := s.targets(ctx, s.c.cfg.IDLabel+"="+strconv.Quote(id))
	if err != nil {
		return target{}, err
	}
	for _, t := range ts {
		if t.id == id {
			return t, nil
		}
	}
	return target{}, fmt.Errorf("prometheus: resource %q: no target with %s=%q scraped in the last %s: %w",
		id, s.c.cfg.IDLabel, id, s.c.cfg.Lookback, provider.ErrNotFound)
}

// targets runs the targets template with the given matchers and returns
// the targets sorted by ID.
func (s *Source) targets(ctx context.Context, matchers string) ([]target, error) {
	promql, err := s.c.targets.render(targetsData(s.c.cfg.IDLabel, matchers, s.c.cfg.Lookback))
	if err != nil {
		return nil, fmt.Errorf("prometheus: targets template: %w", err)
	}
	vec, err := s.instant(ctx, promql, time.Time{})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(vec, func(a, b *model.Sample) int { return strings.Compare(a.Metric.String(), b.Metric.String()) })
	byID := map[string]int{}
	var out []target
	for _, smp := range vec {
		v, ok := smp.Metric[model.LabelName(s.c.cfg.IDLabel)]
		if !ok {
			return nil, &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("series %s has no label %q; the targets template must keep it", smp.Metric, s.c.cfg.IDLabel)}
		}
		id := string(v)
		if err := provider.ValidateID(id); err != nil {
			s.log.Warn("prometheus: skipping target with an unusable ID", "series", smp.Metric.String(), "err", err)
			continue
		}
		up := float64(smp.Value) > 0
		if i, seen := byID[id]; seen {
			out[i].up = out[i].up || up
			continue
		}
		labels := make(map[string]string, len(smp.Metric))
		for k, v := range smp.Metric {
			if k != model.MetricNameLabel {
				labels[string(k)] = string(v)
			}
		}
		byID[id] = len(out)
		out = append(out, target{id: id, labels: labels, up: up})
	}
	slices.SortFunc(out, func(a, b target) int { return strings.Compare(a.id, b.id) })
	return out, nil
}

// resource maps a target onto a Resource.
func (s *Source) resource(t target) provider.Resource {
	cfg := s.c.cfg
	state := provider.StateStopped
	if t.up || cfg.Kind == provider.KindVolume {
		// A volume is stopped only while detached (provider.State):
		// scrapes cannot tell, and a target down is not a detached disk.
		state = provider.StateRunning
	}
	r := provider.Resource{
		ID:          t.id,
		Kind:        cfg.Kind,
		Provider:    Name,
		State:       state,
		Tags:        maps.Clone(t.labels),
		Region:      t.labels[cfg.RegionLabel],
		Environment: t.labels[cfg.EnvironmentLabel],
		Role:        t.labels[cfg.RoleLabel],
		Owner:       t.labels[cfg.OwnerLabel],
	}
	if cfg.NameLabel != "" {
		r.Name = t.labels[cfg.NameLabel]
	}
	return r.NormalizeLabels()
}
