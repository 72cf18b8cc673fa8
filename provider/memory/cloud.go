package memory

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Cloud is an in-memory cloud that implements every provider capability:
// Inventory, MetricsSource, Actuator, Scaler, Resizer, BackupCatalog and
// ActivitySource. Resources move through their states like a real cloud's
// (stopping becomes stopped after Config.StopDelay, a group's instances
// become ready after Config.LaunchDelay), driven by the Cloud's clock; every
// mutation is recorded in a log; faults can be injected per operation.
//
// A Cloud is safe for concurrent use. Its constructor starts no goroutines:
// transitions are computed from the clock when the Cloud is next read.
type Cloud struct {
	clock clock.Clock
	cfg   Config
	log   *slog.Logger

	mu        sync.RWMutex
	resources map[string]*entry
	order     []*entry // resources sorted by ID, for List
	backups   map[string][]provider.Backup
	activity  map[string]*activityData
	mutations []Mutation
	faults    faultSet
}

// entry is one resource with its pending lifecycle transition and, for
// groups, its capacity.
type entry struct {
	res     provider.Resource
	next    provider.State // state reached at due, when due is set
	due     time.Time
	group   *groupState
	metrics []metricSlot // its metrics' data, a few
}

var (
	_ provider.Inventory      = (*Cloud)(nil)
	_ provider.MetricsSource  = (*Cloud)(nil)
	_ provider.Actuator       = (*Cloud)(nil)
	_ provider.Scaler         = (*Cloud)(nil)
	_ provider.Resizer        = (*Cloud)(nil)
	_ provider.BackupCatalog  = (*Cloud)(nil)
	_ provider.ActivitySource = (*Cloud)(nil)
	_ provider.Namer          = (*Cloud)(nil)
)

// New returns an empty Cloud configured by cfg (the zero Config means the
// defaults) and wired by opts. It returns an error matching
// provider.ErrInvalid, naming the field, when cfg is invalid (see
// Config.Validate). It starts no goroutines.
func New(cfg Config, opts ...Option) (*Cloud, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	cfg = cfg.withDefaults()
	c := &Cloud{
		clock:     clock.Real{},
		cfg:       cfg,
		log:       slog.New(slog.DiscardHandler),
		resources: map[string]*entry{},
		backups:   map[string][]provider.Backup{},
		activity:  map[string]*activityData{},
	}
	for _, o := range opts {
		o(c)
	}
	if nilcheck.Is(c.clock) { // a nil *clock.Mock: not the default, and would panic
		return nil, fmt.Errorf("memory: %w", provider.Invalid("clock", fmt.Sprintf("%T", c.clock), "must not be a nil pointer"))
	}
	return c, nil
}

// Name returns the provider name, Config.Name (default "memory").
func (c *Cloud) Name() string { return c.cfg.Name }

// Now returns the time of the Cloud's clock.
func (c *Cloud) Now() time.Time { return c.clock.Now() }

// Add adds resources. Each is validated, with its labels normalised first
// (provider.Resource.NormalizeLabels: " production " is stored as
// "production"); its Provider is set to the Cloud's name, its State
// defaults to running and its LaunchTime to now. A resource added stopping
// is stopped after Config.StopDelay, one added pending runs after
// Config.StartDelay, as if the Cloud had moved it there. A group starts with the
// capacity {min 0, max 0, desired 0}; set it with SetCapacity or AddGroup. Adding an ID that exists returns an error matching
// provider.ErrConflict, and nothing is added.
func (c *Cloud) Add(resources ...provider.Resource) (err error) {
	defer redact.Errorp(&err)
	now := c.clock.Now()
	prepared, err := c.prepare(now, resources)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.insertLocked(now, prepared, nil)
}

// prepare returns resources as Add stores them, validated, or the error
// naming the first invalid one.
func (c *Cloud) prepare(now time.Time, resources []provider.Resource) ([]provider.Resource, error) {
	prepared := make([]provider.Resource, 0, len(resources))
	seen := map[string]bool{}
	for i, r := range resources {
		r = r.Clone().NormalizeLabels()
		r.Provider = c.cfg.Name
		if r.State == "" {
			r.State = provider.StateRunning
		}
		if r.LaunchTime.IsZero() {
			r.LaunchTime = now
		}
		r = withCatalogSize(r)
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("memory: add: %w", provider.Within(fmt.Sprintf("resources[%d]", i), err))
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("memory: add %q: %w: duplicate ID in the call", r.ID, provider.ErrConflict)
		}
		seen[r.ID] = true
		prepared = append(prepared, r)
	}
	return prepared, nil
}

// insertLocked stores the prepared resources, the groups among them with
// the capacity specs gives them (all ready) or none, or nothing when an
// ID exists; c.mu must be held for writing.
func (c *Cloud) insertLocked(now time.Time, prepared []provider.Resource, specs map[string]provider.CapacitySpec) error {
	for _, r := range prepared {
		if _, ok := c.resources[r.ID]; ok {
			return fmt.Errorf("memory: add %q: %w: resource exists", r.ID, provider.ErrConflict)
		}
	}
	for _, r := range prepared {
		e := &entry{res: r}
		switch r.State { // a transition under way finishes as one the Cloud started
		case provider.StateStopping:
			e.next, e.due = provider.StateStopped, now.Add(c.cfg.StopDelay)
		case provider.StatePending:
			e.next, e.due = provider.StateRunning, now.Add(c.cfg.StartDelay)
		}
		if r.Kind == provider.KindGroup {
			spec := specs[r.ID]
			e.group = &groupState{spec: spec, ready: spec.Desired}
		}
		c.resources[r.ID] = e
		i, _ := slices.BinarySearchFunc(c.order, r.ID, func(x *entry, id string) int { return strings.Compare(x.res.ID, id) })
		c.order = slices.Insert(c.order, i, e)
		c.record(now, OpAdd, r.ID, "", string(r.State), nil)
	}
	return nil
}

// AddGroup adds a group resource with the given capacity, all of whose
// instances are ready at once (no read sees the group without it). A capacity whose Max exceeds MaxGroupSize
// is refused (provider.ErrInvalid).
func (c *Cloud) AddGroup(r provider.Resource, spec provider.CapacitySpec) (err error) {
	defer redact.Errorp(&err)
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("memory: add group %q: %w", r.ID, provider.Within("capacity", err))
	}
	if err := checkGroupSize("capacity.max", spec); err != nil {
		return fmt.Errorf("memory: add group %q: %w", r.ID, err)
	}
	r.Kind = provider.KindGroup
	now := c.clock.Now()
	prepared, err := c.prepare(now, []provider.Resource{r})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.insertLocked(now, prepared, map[string]provider.CapacitySpec{r.ID: spec}) // at once: no read sees the group without its capacity
}

// List implements provider.Inventory: resources matching f, sorted by ID.
func (c *Cloud) List(ctx context.Context, f provider.Filter) (_ []provider.Resource, err error) {
	defer redact.Errorp(&err)
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("memory: list: %w", err)
	}
	fault, err := c.enter(ctx, OpList, "")
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	c.mu.RLock()
	var out []provider.Resource
	candidates := c.order
	if len(f.IDs) > 0 && len(f.IDs) < len(c.order)/8 {
		// A short ID list: look the IDs up instead of scanning the fleet.
		candidates = make([]*entry, 0, len(f.IDs))
		for _, id := range f.IDs {
			if e, ok := c.resources[id]; ok && !slices.Contains(candidates, e) {
				candidates = append(candidates, e)
			}
		}
		slices.SortFunc(candidates, func(a, b *entry) int { return strings.Compare(a.res.ID, b.res.ID) })
	}
	for _, e := range candidates {
		r := e.view(now)
		if f.Match(r) {
			out = append(out, r.Clone())
		}
	}
	c.mu.RUnlock()
	if out == nil {
		out = []provider.Resource{}
	}
	if fault.partial() {
		return out[:len(out)/2], fault.err(OpList, "")
	}
	return out, nil
}

// Get implements provider.Inventory.
func (c *Cloud) Get(ctx context.Context, id string) (_ provider.Resource, err error) {
	defer redact.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return provider.Resource{}, fmt.Errorf("memory: get: %w", err)
	}
	if _, err := c.enter(ctx, OpGet, id); err != nil {
		return provider.Resource{}, err
	}
	now := c.clock.Now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.resources[id]
	if !ok {
		return provider.Resource{}, notFound("get", id)
	}
	return e.view(now).Clone(), nil
}

// Update replaces the metadata of an existing resource (tags, environment,
// role, criticality, owner, cost, ...) with r, keeping its state, kind and
// provider, and normalises its labels and fills a catalogue instance
// type's VCPU, MemoryMiB and (when 0) HourlyCost as Add does. When r moves
// the resource to another catalogue type, the VCPU, MemoryMiB and
// HourlyCost it carries over unchanged from the old type (as a resource
// read with Get does) are the new type's too: only the values r changes
// are kept. It records a mutation.
// Unknown IDs return provider.ErrNotFound. One state change is an update:
// a volume's, from running (attached to an instance) to stopped
// (detached) or back (see provider.State), when r asks for it; r's State
// is otherwise ignored.
func (c *Cloud) Update(r provider.Resource) (err error) {
	defer redact.Errorp(&err)
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.resources[r.ID]
	if !ok {
		return notFound("update", r.ID)
	}
	cur := e.view(now)
	r = r.Clone().NormalizeLabels()
	from := cur.State
	if !attachment(cur, r.State) {
		r.State = cur.State
	}
	r.Kind, r.Provider = cur.Kind, c.cfg.Name
	if r.LaunchTime.IsZero() {
		r.LaunchTime = cur.LaunchTime
	}
	if t, ok := catalog[r.Size.InstanceType]; ok && r.Size.InstanceType != cur.Size.InstanceType {
		// Another type: what r carries over from the old one (a resource
		// read with Get and given a new type) is the old type's size.
		if r.Size.VCPU == cur.Size.VCPU {
			r.Size.VCPU = t.VCPU
		}
		if r.Size.MemoryMiB == cur.Size.MemoryMiB {
			r.Size.MemoryMiB = t.MemoryMiB
		}
		if r.HourlyCost == cur.HourlyCost {
			r.HourlyCost = t.HourlyCost
		}
	}
	r = withCatalogSize(r)
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memory: update: %w", err)
	}
	e.settle(now)
	e.res = r
	if r.State != from {
		c.record(now, OpUpdate, r.ID, string(from), string(r.State), nil)
	} else {
		c.record(now, OpUpdate, r.ID, "", "", nil)
	}
	return nil
}

// attachment reports whether changing cur to state attaches or detaches
// a volume: running to stopped or back.
func attachment(cur provider.Resource, state provider.State) bool {
	if cur.Kind != provider.KindVolume || state == cur.State {
		return false
	}
	running := func(s provider.State) bool { return s == provider.StateRunning }
	stopped := func(s provider.State) bool { return s == provider.StateStopped }
	return running(cur.State) && stopped(state) || stopped(cur.State) && running(state)
}

// view returns the resource as seen at now, with any due transition applied.
func (e *entry) view(now time.Time) provider.Resource {
	var r provider.Resource
	e.viewTo(&r, now)
	return r
}

// viewTo is view writing into *r (a batch's read: one copy of the
// resource instead of two).
func (e *entry) viewTo(r *provider.Resource, now time.Time) {
	*r = e.res
	if !e.due.IsZero() && !now.Before(e.due) {
		r.State = e.next
	}
}

// settle applies a due transition for good.
func (e *entry) settle(now time.Time) {
	if !e.due.IsZero() && !now.Before(e.due) {
		e.res.State = e.next
		e.due, e.next = time.Time{}, ""
	}
}

func notFound(op, id string) error {
	return fmt.Errorf("memory: %s %q: %w", op, id, provider.ErrNotFound)
}
