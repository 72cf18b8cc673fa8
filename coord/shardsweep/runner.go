package shardsweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdagree"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Decision is one resource the leader of its shard acts on, for one
// period.
type Decision struct {
	// Shard is the resource's shard.
	Shard int
	// Period is the start of the period the verdict is for (the sweep's
	// now).
	Period time.Time
	// Resource is the resource as read again just before it was claimed
	// (it reads as listed: see Report.Changed).
	Resource provider.Resource
	// Verdict is its verdict; Verdict.Action is not detector.ActionNone.
	Verdict detector.Verdict
}

// Actor carries out decisions: the host's gate and actuator, typically a
// safety check of the proposal and the provider's Stop (the reaper's
// pipeline): its verdicts recommend no terminate unless the ensemble's
// quiet period is at least its terminate window (see "Terminate" in the
// package doc). The runner calls Act at most once per resource and
// period across all replicas, only after the shard's leader claimed the
// resource for the period under its fence, and with a context that is
// not cancelled when the leadership ends (the claim is the leader's to
// finish) but bounded by Config.ActTimeout. Act is called from one
// goroutine per shard, for several shards at once; it must be safe for
// concurrent use. Act should check the resource's current state itself
// (a resource stopped in an earlier period and still idle is decided
// again) and return an error when it did not act: the error is reported
// (Report.Failed) and kept on the claim, and the resource is not tried
// again in that period, only decided again in the next. A stop or a
// terminate reaches Act only when the resource's activity, read again
// just before the claim, showed no use since the period's start (see
// Report.InUse and Report.Unchecked).
type Actor interface {
	Act(ctx context.Context, d Decision) error
}

// ActorFunc adapts a function to an Actor.
type ActorFunc func(ctx context.Context, d Decision) error

// Act calls f(ctx, d).
func (f ActorFunc) Act(ctx context.Context, d Decision) error { return f(ctx, d) }

// Report is the outcome of one pass of a shard's leader over one period.
type Report struct {
	// Shard and Period are the shard and the period swept; Replica is the
	// leader's ID and Fence its term. Period is zero in the report of a
	// shard whose progress (the last period done) could not be read: the
	// period due is not known then (Err says why, matching coord.ErrStore
	// when etcd failed).
	Shard   int
	Period  time.Time
	Replica string
	Fence   coord.Fence
	// Resources is how many listed resources hash to the shard, each
	// resource once (those in Duplicated too).
	Resources int
	// Duplicated lists, sorted, the resource IDs the inventory listed
	// more than once (a cloud API paging while an instance restarts can
	// list it with a stale copy): their copies may disagree (a launch
	// time, a tag) and a verdict on one could be acted on with the
	// evidence of another, so they are neither swept nor acted on in this
	// pass; they are logged (a warning) and decided again in the next
	// period, when listed once. The pass goes on with the others.
	Duplicated []string
	// Sweep sums the Tracker's reports of the pass's chunks: how many
	// resources were read incrementally (a new leader resumes from the
	// stored states) or in full, the queries, points and state bytes, and
	// the resources' errors (sorted by resource ID). Its Verdicts is nil:
	// a pass does not keep its shard's verdicts (a VerdictObserver
	// receives them chunk by chunk).
	Sweep detector.SweepReport
	// Verdicts counts the verdicts made, one per resource evaluated.
	Verdicts int
	// Acted lists the resources acted on: claimed, and Act returned nil.
	Acted []string
	// Failed lists the claimed resources whose Act failed (Op "act").
	Failed []*detector.ResourceError
	// Claimed lists the resources skipped because an earlier leader of
	// the shard had claimed them for the period.
	Claimed []string
	// Fenced lists the resources whose claim was refused because the
	// leadership had ended (coord.ErrFenced): not acted on, and not
	// counted in Acted.
	Fenced []string
	// Changed lists the resources with an action that were not claimed
	// because, read again just before their claim, they differ from the
	// listing the verdict was made on (provider.Resource.ChangedFrom:
	// restarted, retagged, resized), could not be read, or, for a
	// terminate, are a volume no longer detached (stopped: attached to an
	// instance since it was listed): they are decided again in the next
	// period.
	Changed []string
	// InUse lists the resources with a stop or terminate that were not
	// claimed because their activity, read again just before the claim
	// (from Period to the pass's time on the runner's clock, and at least
	// the ensemble's quiet period: detector.Recheck), shows use: a login
	// during the Delay or the pass. They are decided again in the next
	// period.
	InUse []string
	// Unchecked lists, with the error (Op "activity"), the resources with
	// a stop or terminate that were not claimed because that read of their
	// activity failed: it could have shown use (fail closed). They are
	// decided again in the next period.
	Unchecked []*detector.ResourceError
	// Mismatches lists, as of the pass's start, the other live replicas
	// whose shared configuration differs from this one's, or whose
	// fingerprint is unreadable (see ConfigStatus); nil when they all
	// agree, or have not been read yet. A pass runs beside a replica that
	// differs in the period, the delay, the filter, the tracker or the
	// ensemble (a rolling deploy changing them), and is refused, with an
	// Err matching ErrConfigMismatch, while one differs in Prefix or is
	// unreadable.
	Mismatches []ConfigMismatch
	// Done is set when the period was recorded as done for the shard.
	Done bool
	// Err is why the pass ended early: an error matching coord.ErrFenced
	// (deposed: a write refused under its fence, or its session's lease
	// lost), coord.ErrStore (etcd failed: nothing more was acted on), the
	// inventory's error, the context's (the replica stopping, the shard
	// moving to another replica), or ErrConfigMismatch (the pass was
	// refused before it began: see Mismatches); nil when Done. A pass
	// refused before it began because the configuration check is down
	// (ConfigStatus.Err) ends with the check's error, matching
	// coord.ErrStore.
	Err error
}

// Observer receives the report of every pass, including those that
// failed. It is called from the shards' goroutines, several at once; it
// must be safe for concurrent use and return quickly.
type Observer interface {
	Swept(r Report)
}

// VerdictObserver receives the verdicts of every pass, a chunk
// (Config.Chunk resources) at a time, once the chunk's actions are done
// (or the pass ended during them). It is called from the shards'
// goroutines, several at once; it must be safe for concurrent use and
// return quickly. It may keep vs. A stop or terminate that was not
// claimed because its resource's activity, read again, showed use or
// could not be read (Report.InUse, Report.Unchecked) is in vs with no
// action (detector.ActionNone, no savings) and a reason of the "recheck"
// signal saying why.
type VerdictObserver interface {
	Verdicts(shard int, period time.Time, vs []detector.Verdict)
}

// VerdictObserverFunc adapts a function to a VerdictObserver.
type VerdictObserverFunc func(shard int, period time.Time, vs []detector.Verdict)

// Verdicts calls f(shard, period, vs).
func (f VerdictObserverFunc) Verdicts(shard int, period time.Time, vs []detector.Verdict) {
	f(shard, period, vs)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(r Report)

// Swept calls f(r).
func (f ObserverFunc) Swept(r Report) { f(r) }

// Option configures a Runner's wiring.
type Option func(*options)

type options struct {
	clock    clock.Clock
	logger   *slog.Logger
	observer Observer
	verdicts VerdictObserver
}

// WithClock sets the clock that paces the periods and the listings'
// lifetime. Default (nil): the real clock; New refuses a nil pointer to a
// fake clock, which would have run a host's test on real time. The
// membership and the elections run on etcd's leases, in real time.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger of the runner and of its coord.Shards.
// Default (also for nil): discard.
func WithLogger(lg *slog.Logger) Option { return func(o *options) { o.logger = lg } }

// WithObserver sends the report of every pass to obs. Default (also for
// nil, or a typed nil such as a nil ObserverFunc): none.
func WithObserver(obs Observer) Option { return func(o *options) { o.observer = obs } }

// WithVerdicts sends the verdicts of every pass to obs, chunk by chunk.
// Default (also for nil, or a typed nil such as a nil
// VerdictObserverFunc): none (the Actor still receives every verdict with
// an action).
func WithVerdicts(obs VerdictObserver) Option { return func(o *options) { o.verdicts = obs } }

// Runner runs one replica's share of a sharded fleet: it takes part in a
// coord.Shards cluster and, for every shard it leads, sweeps the shard's
// resources once per period with a detector.Tracker whose states live in
// etcd under the shard's fence, and acts on the verdicts through the
// Actor, at most once per resource and period. See the package
// documentation. A Runner is safe for concurrent use; a replica runs one
// Run.
type Runner struct {
	cfg      Config
	cli      *clientv3.Client
	ens      *detector.Ensemble
	fleet    detector.Fleet
	actor    Actor
	shards   *coord.Shards
	store    *etcdstore.Store
	r        etcdkv.Retrier
	clock    clock.Clock
	logger   *slog.Logger
	obs      Observer
	verdicts VerdictObserver
	recheck  detector.Recheck // reads a stop's or terminate's activity again before its claim
	lists    listings         // the inventory's listings, shared by the shards' passes
	leading  func() []int     // the shards led now: shards.Leading
	agree    *etcdagree.Check // the replicas' shared configurations compared
}

// New returns a Runner for cfg on cli, evaluating fleet with ens and
// acting through actor. It returns a *provider.InvalidError naming the
// field when cfg is invalid ("shards.id", "shards.shards", "period", …), a
// collaborator is missing ("client", "ensemble", "fleet.inventory",
// "fleet.metrics", "actor") or a typed nil that would fail on first use (a
// nil ActorFunc or provider.MetricsSourceFunc, a nil pointer;
// "fleet.activity" may be nil, meaning none, but not a typed nil), or ens
// cannot run in a Tracker: a replica fails here, not in a shard's
// goroutine. It makes no request and starts no goroutine.
func New(cfg Config, cli *clientv3.Client, ens *detector.Ensemble, fleet detector.Fleet, actor Actor, opts ...Option) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("shardsweep: %w", err)
	}
	switch {
	case cli == nil:
		return nil, fmt.Errorf("shardsweep: %w", provider.Invalid("client", nil, "must not be nil"))
	case ens == nil:
		return nil, fmt.Errorf("shardsweep: %w", provider.Invalid("ensemble", nil, "must not be nil"))
	case nilcheck.Is(fleet.Inventory):
		return nil, fmt.Errorf("shardsweep: %w", provider.Invalid("fleet.inventory", nil, "must not be nil (nor a typed nil)"))
	case nilcheck.Is(fleet.Metrics):
		return nil, fmt.Errorf("shardsweep: %w", provider.Invalid("fleet.metrics", nil, "must not be nil (nor a nil MetricsSourceFunc)"))
	case fleet.Activity != nil && nilcheck.Is(fleet.Activity):
		return nil, fmt.Errorf("shardsweep: %w", provider.Invalid("fleet.activity", nil, "must be nil (none) or a usable source, not a typed nil such as a nil ActivitySourceFunc"))
	case nilcheck.Is(actor):
		return nil, fmt.Errorf("shardsweep: %w", provider.Invalid("actor", nil, "must not be nil (nor a nil ActorFunc)"))
	}
	// The ensemble must fit a Tracker; find out now rather than in a shard.
	if _, err := detector.NewTracker(ens, cfg.Tracker, &detector.MemoryStateStore{}); err != nil {
		return nil, fmt.Errorf("shardsweep: %w", err)
	}
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	// A nil *clock.Mock, taken for the real clock, had a host's test run
	// on real time.
	var err error
	if o.clock, err = etcdkv.ClockOf("shardsweep", o.clock); err != nil {
		return nil, err
	}
	// A nil ObserverFunc or VerdictObserverFunc is no observer, as nil is:
	// called, it would panic in a shard's goroutine.
	if nilcheck.Is(o.observer) {
		o.observer = nil
	}
	if nilcheck.Is(o.verdicts) {
		o.verdicts = nil
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	shards, err := coord.NewShards(cfg.Shards, cli, coord.WithLogger(o.logger))
	if err != nil {
		return nil, fmt.Errorf("shardsweep: %w", err)
	}
	sc := shards.Config()
	// The shards' resolved retries: a negative count (none) stays
	// negative, so the state store does not take its own default.
	store, err := etcdstore.New(etcdstore.Config{Prefix: cfg.Prefix + "state/", RequestTimeout: sc.RequestTimeout, MaxRetries: sc.MaxRetries}, cli)
	if err != nil {
		return nil, fmt.Errorf("shardsweep: %w", err)
	}
	cfg.Shards = sc
	act := fleet.Activity
	if act == nil {
		act, _ = fleet.Metrics.(provider.ActivitySource) // as the Tracker reads it
	}
	r := &Runner{
		cfg: cfg, cli: cli, ens: ens, fleet: fleet, actor: actor, shards: shards, store: store,
		r:     etcdkv.Retrier{Timeout: sc.RequestTimeout, MaxRetries: sc.MaxRetries},
		clock: o.clock, logger: o.logger, obs: o.observer, verdicts: o.verdicts, recheck: ens.Recheck(act),
	}
	r.leading = shards.Leading
	fp, err := etcdagree.NewFingerprint(sc.ID, sharedOf(cfg, ens.Config()))
	if err != nil {
		return nil, fmt.Errorf("shardsweep: %w", err)
	}
	// The check publishes again RetryDelay after a failure in real time,
	// as coord.Shards campaigns again: a backoff of etcd calls, not a
	// decision's timing. On the runner's clock (a mock in a host's
	// simulation) one lost lease kept it down, and every pass refused
	// (see agreed), until the host moved that clock on.
	r.agree, err = etcdagree.New(cli, etcdagree.Config{
		Name: "shardsweep", Prefix: sc.Prefix + "config/", ID: sc.ID, TTL: sc.SessionTTL, RetryDelay: sc.RetryDelay, Retrier: r.r,
		Shared: reflect.TypeFor[shared](),
	}, fp, clock.Real{}, o.logger)
	if err != nil {
		return nil, fmt.Errorf("shardsweep: %w", err)
	}
	return r, nil
}

// Config returns the configuration with the defaults filled in.
func (r *Runner) Config() Config { return r.cfg }

// Leading returns the shards this replica leads now (see
// coord.Shards.Leading).
func (r *Runner) Leading() []int { return r.shards.Leading() }

// Store returns the store of the resources' states (unguarded: for
// inspection and for deleting the states of resources that are gone).
func (r *Runner) Store() *etcdstore.Store { return r.store }

// Run takes part in the cluster until ctx ends and returns nil then; it
// returns an error matching coord.ErrShardCount when the cluster runs
// another shard count (see coord.Shards.Run). Each shard this replica
// leads is swept once per period, for the periods not yet recorded as
// done: a new leader first finishes the period its predecessor left
// undone, then waits for the next. When etcd fails, the shard's pass
// stops acting, the error is logged (and reported to the Observer), and
// the shard is resigned and campaigned for again. When the inventory
// fails, the pass acts on nothing, is logged and reported, and the leader
// keeps the shard and tries again after a backoff on the runner's clock
// (Shards.RetryDelay, doubling, at most Delay). While it runs, it
// forgets each listing of the inventory once it is older than
// Config.Delay (on the runner's clock), and all of them when it returns;
// it starts no goroutine that outlives it.
func (r *Runner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.lists.expire(ctx, r.clock, r.cfg.Delay) })
	wg.Go(func() { _ = r.agree.Run(ctx) })
	defer wg.Wait() // runs after cancel (deferred calls run in reverse)
	defer cancel()
	return r.shards.Run(ctx, r.lead)
}

// lead is the loop of the leader of shard k.
func (r *Runner) lead(ctx context.Context, k int, l *coord.Leadership) error {
	tr, err := detector.NewTracker(r.ens, r.cfg.Tracker, r.store.Guarded(l.Fence().Cmp()))
	if err != nil {
		return err // checked by New: not expected
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "shardsweep: leading", slog.Int("shard", k), slog.String("id", l.ID), slog.Int64("rev", l.Fence().Rev))
	var backoff time.Duration // before a failed pass is tried again
	for {
		due, err := r.due(ctx, k)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Reported as a pass that failed before it began: the period
			// due is not known without the progress.
			if r.obs != nil {
				r.obs.Swept(Report{Shard: k, Replica: l.ID, Fence: l.Fence(), Mismatches: r.agree.Status().Mismatches, Err: ended(k, l, err)})
			}
			r.logger.LogAttrs(ctx, slog.LevelError, "shardsweep: read progress failed; shard stopped", slog.Int("shard", k), slog.Any("error", err))
			return err
		}
		if at := due.Add(r.cfg.Delay); r.clock.Now().Before(at) {
			timer, moved := r.at(at)
			select {
			case <-ctx.Done():
				return nil
			case <-timer:
			case <-moved:
			}
			continue
		}
		if !r.agreed(ctx, k, l, due) {
			if ctx.Err() != nil {
				return nil
			}
			continue // the period due may have moved on
		}
		rep := r.pass(ctx, k, l, tr, due)
		if r.obs != nil {
			r.obs.Swept(rep)
		}
		if rep.Err != nil {
			if ctx.Err() != nil && !errors.Is(rep.Err, coord.ErrFenced) {
				return nil
			}
			if errors.Is(rep.Err, errListing) {
				// The inventory failed, not the leadership nor etcd, and
				// nothing was claimed: keep the shard and try again after
				// a backoff on the clock. Resigning would have it
				// campaigned for and listed again every RetryDelay: a
				// storm on a failing API. (A pass that claimed is never
				// tried again in its term: a claim of the term still
				// "claimed" reads as the retry of a lost reply.)
				backoff = min(max(2*backoff, r.cfg.Shards.RetryDelay), r.cfg.Delay)
				r.logger.LogAttrs(ctx, slog.LevelError, "shardsweep: pass failed; nothing more acted on", slog.Int("shard", k),
					slog.Time("period", due), slog.Int("acted", len(rep.Acted)), slog.Duration("retry_in", backoff), slog.Any("error", rep.Err))
				select {
				case <-ctx.Done():
					return nil
				case <-r.clock.After(backoff):
				}
				continue
			}
			r.logger.LogAttrs(ctx, slog.LevelError, "shardsweep: pass failed; nothing more acted on", slog.Int("shard", k),
				slog.Time("period", due), slog.Int("acted", len(rep.Acted)), slog.Any("error", rep.Err))
			return rep.Err
		}
		backoff = 0
		r.logger.LogAttrs(ctx, slog.LevelInfo, "shardsweep: pass done", slog.Int("shard", k), slog.Time("period", due),
			slog.Int("resources", rep.Resources), slog.Int("incremental", rep.Sweep.Incremental), slog.Int("acted", len(rep.Acted)))
	}
}

// agreed reports whether shard k's pass of period due may run now: the
// other live replicas' fingerprints have been read, the check is up (its
// Status has no Err), and none differs from this replica's in a failClosed
// field or is unreadable. While one does, or the check is down, the pass
// is refused: logged (an error) and reported to the Observer (Err
// matching ErrConfigMismatch, naming the replicas, keys and fields, or,
// while the check is down, its error, matching coord.ErrStore) once per
// change and once per period, and nothing is swept until they agree, as
// when the other replica leaves or is redeployed, or the check reads them
// again. It waits until then,
// until the next period is due (on the runner's clock), or until ctx
// ends (it waits on the runner's clock only while a pass is refused);
// when it waited it returns false, and the caller finds the period due
// again.
func (r *Runner) agreed(ctx context.Context, k int, l *coord.Leadership, due time.Time) bool {
	var said string
	var next, moved <-chan time.Time // set once a conflict is known: the clock is not waited on otherwise
	for waited := false; ; waited = true {
		changed := r.agree.Changed()
		st := r.agree.Status()
		var cerr error
		switch {
		case st.Err != nil:
			// The check is down: this replica's fingerprint is not
			// published (its lease was revoked), so the others cannot
			// read it, and a replica that joined since is not known.
			cerr = fmt.Errorf("the replicas' configurations cannot be compared (those last read are in Mismatches): %w", st.Err)
		case st.Checked:
			cerr = st.Conflict(failClosed...)
			if cerr == nil {
				if said != "" {
					r.logger.LogAttrs(ctx, slog.LevelInfo, "shardsweep: the replicas' shared configurations agree again; sweeping", slog.Int("shard", k))
				}
				return !waited
			}
		}
		if cerr != nil {
			if next == nil {
				next, moved = r.at(due.Add(r.cfg.Period + r.cfg.Delay))
			}
			err := fmt.Errorf("shardsweep: shard %d: pass of %s refused: %w", k, due.UTC().Format(time.RFC3339), cerr)
			if s := err.Error(); s != said {
				said = s
				r.logger.LogAttrs(ctx, slog.LevelError, "shardsweep: a live replica runs another prefix, its fingerprint is unreadable, or the configuration check is down; nothing swept until they agree",
					slog.Int("shard", k), slog.Time("period", due), slog.Any("error", err))
				if r.obs != nil {
					r.obs.Swept(Report{Shard: k, Period: due, Replica: l.ID, Fence: l.Fence(), Mismatches: st.Mismatches, Err: err})
				}
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-next:
			return false
		case <-moved:
			return false
		case <-changed:
		}
	}
}

// at returns the channels of the timers that wait until the runner's
// clock reads t: the first fires then, unless the clock moved on while it
// was being set (a fake clock moved from another goroutine, a test's or a
// host simulation's, between the Now that measured the wait and the After
// that set it, which sets it the whole wait after the moved time: late by
// the move, a period late for a pass when the move was to it). So the
// clock is read again once it is set and, when it moved, the second
// (otherwise nil) is set for what is left: wait on both. On the real clock
// the second fires a moment after the first.
func (r *Runner) at(t time.Time) (timer, moved <-chan time.Time) {
	now := r.clock.Now()
	timer = r.clock.After(t.Sub(now))
	if then := r.clock.Now(); then.After(now) {
		moved = r.clock.After(t.Sub(then))
	}
	return timer, moved
}

// due returns the period shard k sweeps next: the one after the last done,
// or the latest started Delay ago when that is later (or none is done).
func (r *Runner) due(ctx context.Context, k int) (time.Time, error) {
	latest := r.clock.Now().Add(-r.cfg.Delay).Truncate(r.cfg.Period)
	done, ok, err := r.progress(ctx, k)
	if err != nil || !ok {
		return latest, err
	}
	next := done.Add(r.cfg.Period)
	if next.Before(latest) {
		return latest, nil // periods without a leader are not caught up one by one
	}
	return next, nil
}

// pass sweeps shard k for period due and acts on its verdicts, a chunk
// of Config.Chunk resources at a time: the verdicts of a chunk are acted
// on and handed to the VerdictObserver before the next chunk is read, so
// a pass holds one chunk's verdicts, not its shard's (a shard of a
// million-resource fleet holds tens of thousands, at a few KB each).
func (r *Runner) pass(ctx context.Context, k int, l *coord.Leadership, tr *detector.Tracker, due time.Time) Report {
	f := l.Fence()
	rep := Report{Shard: k, Period: due, Replica: l.ID, Fence: f, Mismatches: r.agree.Status().Mismatches}
	listed, err := r.resources(ctx, k, due)
	if err != nil {
		rep.Err = stopped(ctx, k, l, fmt.Errorf("shardsweep: shard %d: list: %w: %w", k, errListing, err))
		return rep
	}
	mine, dups := listedOnce(listed)
	rep.Resources, rep.Duplicated = len(mine)+len(dups), dups
	if len(dups) > 0 {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "shardsweep: resources listed more than once by the inventory; not swept nor acted on this period",
			slog.Int("shard", k), slog.Time("period", due), slog.Int("count", len(dups)),
			slog.Any("resources", dups[:min(len(dups), 20)])) // the first 20: Report.Duplicated has them all
	}
	for lo := 0; lo < len(mine); lo += r.cfg.Chunk {
		if err := r.chunk(ctx, f, k, tr, due, mine[lo:min(lo+r.cfg.Chunk, len(mine))], &rep); err != nil {
			rep.Err = stopped(ctx, k, l, err)
			slices.SortFunc(rep.Sweep.Errors, byResource)
			return rep
		}
	}
	slices.SortFunc(rep.Sweep.Errors, byResource)
	if err := r.markDone(ctx, f, k, due); err != nil {
		rep.Err = stopped(ctx, k, l, err)
		return rep
	}
	rep.Done = true
	if err := r.prune(ctx, f, k, due); err != nil {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "shardsweep: prune old claims failed", slog.Int("shard", k), slog.Any("error", err))
	}
	return rep
}

// errListing marks the error of a pass that failed listing the inventory,
// before it claimed anything.
var errListing = errors.New("the inventory failed")

// ended returns err, why shard k's pass under l stopped, or, when l's
// session has ended (its lease expired or was revoked, which ends the
// pass's context), an error matching coord.ErrFenced: the pass stopped
// because its leader was deposed, whatever request failed first with the
// ended context.
func ended(k int, l *coord.Leadership, err error) error {
	if errors.Is(err, coord.ErrFenced) {
		return err
	}
	select {
	case <-l.Done():
		// err is the symptom, not wrapped: a request that failed with the
		// ended context must not read as an etcd failure (coord.ErrStore).
		return fmt.Errorf("shardsweep: shard %d: the leadership under %s@%d ended (its session's lease is gone): %w (the pass stopped at: %v)",
			k, l.Fence().Key, l.Fence().Rev, coord.ErrFenced, err) //nolint:errorlint // see above
	default:
		return err
	}
}

// stopped returns err, why shard k's pass under l stopped, as ended does,
// but, when ctx has ended (the replica stopping, the shard moving to
// another replica) and err is an etcd failure, ctx's error: the request
// failed because ctx had ended, and etcd did not fail (coord.ErrStore),
// which a host alerting on etcd failures would be paged for at every
// deploy. err is named, not wrapped.
func stopped(ctx context.Context, k int, l *coord.Leadership, err error) error {
	err = ended(k, l, err)
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, coord.ErrStore) && !errors.Is(err, coord.ErrFenced) {
		return fmt.Errorf("shardsweep: shard %d: the pass stopped: %w (at: %v)", k, cerr, err) //nolint:errorlint // see above
	}
	return err
}

// listedOnce is provider.ListedOnce with the repeated IDs sorted.
func listedOnce(listed []provider.Resource) ([]provider.Resource, []string) {
	once, repeated := provider.ListedOnce(listed)
	dups := slices.Sorted(maps.Keys(repeated))
	return once, dups
}

// chunk sweeps chunk, part of shard k's resources, acts on its verdicts
// and adds its counts to rep. It returns why the pass must end: the
// leadership ended (a state save refused, a claim fenced) or etcd failed.
func (r *Runner) chunk(ctx context.Context, f coord.Fence, k int, tr *detector.Tracker, due time.Time, chunk []provider.Resource, rep *Report) error {
	sw, err := tr.Sweep(ctx, r.fleet.Metrics, r.fleet.Activity, chunk, detector.SweepConfig{Now: due, Chunk: len(chunk), Concurrency: r.cfg.Concurrency})
	if err != nil {
		return fmt.Errorf("shardsweep: shard %d: sweep: %w", k, err)
	}
	addSweep(&rep.Sweep, sw)
	rep.Verdicts += len(sw.Verdicts)
	for _, e := range sw.Errors {
		if errors.Is(e, etcdstore.ErrGuard) {
			// A state save was refused: this replica no longer leads.
			return fmt.Errorf("shardsweep: shard %d: %w: %w", k, coord.ErrFenced, e)
		}
	}
	// Each ID is in the chunk once (pass leaves out those listed more than
	// once), so a verdict is re-read against the copy it was made on.
	byID := make(map[string]int, len(chunk))
	for i, res := range chunk {
		byID[res.ID] = i
	}
	if r.verdicts != nil {
		defer r.verdicts.Verdicts(k, due, sw.Verdicts)
	}
	for j := range sw.Verdicts {
		v := sw.Verdicts[j]
		if v.Action == detector.ActionNone {
			continue
		}
		if err := ctx.Err(); err != nil {
			// The term or the replica ended: a re-read would fail with it,
			// and not because the resource changed.
			return fmt.Errorf("shardsweep: shard %d: %w", k, err)
		}
		i, ok := byID[v.ResourceID]
		if !ok {
			continue // Sweep gives a verdict per resource it was given: not expected
		}
		now, ok := r.reread(ctx, k, chunk[i], v.Action)
		if !ok {
			if err := ctx.Err(); err != nil {
				// The read failed because the term or the replica ended:
				// the resource did not change.
				return fmt.Errorf("shardsweep: shard %d: %w", k, err)
			}
			rep.Changed = append(rep.Changed, v.ResourceID)
			continue
		}
		if (v.Action == detector.ActionStop || v.Action == detector.ActionTerminate) && !r.quietSince(ctx, k, due, &sw.Verdicts[j], rep) {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("shardsweep: shard %d: %w", k, err)
			}
			continue
		}
		c, err := r.claim(ctx, f, k, due, v)
		switch {
		case errors.Is(err, coord.ErrFenced):
			rep.Fenced = append(rep.Fenced, v.ResourceID)
			return err
		case err != nil:
			return err
		case !c.ours:
			rep.Claimed = append(rep.Claimed, v.ResourceID)
			continue
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ActTimeout)
		aerr := r.actor.Act(actx, Decision{Shard: k, Period: due, Resource: now, Verdict: v})
		cancel()
		if aerr != nil {
			rep.Failed = append(rep.Failed, &detector.ResourceError{ResourceID: v.ResourceID, Op: "act", Err: aerr})
		} else {
			rep.Acted = append(rep.Acted, v.ResourceID)
		}
		if err := r.settle(ctx, c, aerr); err != nil {
			r.logger.LogAttrs(ctx, slog.LevelWarn, "shardsweep: record outcome failed", slog.Int("shard", k), slog.String("resource", v.ResourceID), slog.Any("error", err))
		}
	}
	return nil
}

// addSweep adds the counts and errors of a chunk's sweep to the pass's;
// the verdicts are not kept.
func addSweep(to *detector.SweepReport, sw detector.SweepReport) {
	to.Errors = append(to.Errors, sw.Errors...)
	to.Incremental += sw.Incremental
	for why, n := range sw.Full {
		if to.Full == nil {
			to.Full = map[detector.FullRead]int{}
		}
		to.Full[why] += n
	}
	to.Queries += sw.Queries
	to.Points += sw.Points
	to.StateBytes += sw.StateBytes
}

// byResource orders resource errors by resource ID.
func byResource(a, b *detector.ResourceError) int { return strings.Compare(a.ResourceID, b.ResourceID) }

// quietSince reads the activity of v's resource, a stop or a terminate,
// again just before its claim (detector.Recheck, the ensemble's kinds):
// from the period's start, the end of the window the Tracker read it
// over, to now on the runner's clock (the Delay, the sweep and the
// earlier acts of the pass), and at least the ensemble's quiet period. It
// reports whether v may be claimed. Otherwise the resource was used in
// that window (Report.InUse) or the read failed (Report.Unchecked: it
// could have shown use, fail closed); v is then not acted on in this
// period, and the VerdictObserver gets it with no action
// (detector.ActionNone, no savings) and a reason from the "recheck"
// signal saying why (detector.ReasonInUse per kind used, or
// detector.ReasonReadFailed). A read cut short because ctx ended is
// neither: it reports false and records nothing, and the caller ends the
// pass.
func (r *Runner) quietSince(ctx context.Context, k int, due time.Time, v *detector.Verdict, rep *Report) bool {
	at := r.clock.Now()
	rc := r.recheck
	rc.Known = detector.ReadActivity(*v) // a source that no longer reads it: use unknown
	used, err := rc.Used(ctx, v.ResourceID, due, at)
	switch {
	case err != nil && ctx.Err() != nil:
		// Cut short by the end of the term or of the replica, not a
		// failed read: the caller ends the pass, and v is left as it is,
		// as the verdicts after it are.
		return false
	case err != nil:
		r.logger.LogAttrs(ctx, slog.LevelWarn, "shardsweep: re-reading a resource's activity before acting failed; not acted on this period",
			slog.Int("shard", k), slog.String("resource", v.ResourceID), slog.Any("error", err))
		rep.Unchecked = append(rep.Unchecked, &detector.ResourceError{ResourceID: v.ResourceID, Op: "activity", Err: err})
		v.Reasons = append(v.Reasons, detector.Reason{Signal: "recheck", Code: detector.ReasonReadFailed, Action: v.Action, Err: err})
	case len(used) > 0:
		from, to := r.recheck.Window(due, at)
		kinds := make([]string, len(used))
		for i, c := range used {
			kinds[i] = string(c.Kind)
			v.Reasons = append(v.Reasons, detector.Reason{Signal: "recheck", Code: detector.ReasonInUse, Kind: c.Kind, Action: v.Action,
				Value: c.Count, Duration: to.Sub(from)})
		}
		r.logger.LogAttrs(ctx, slog.LevelInfo, "shardsweep: resource used since its verdict; not acted on this period",
			slog.Int("shard", k), slog.String("resource", v.ResourceID), slog.Any("kinds", kinds))
		rep.InUse = append(rep.InUse, v.ResourceID)
	default:
		return true
	}
	v.Action, v.MonthlySavings = detector.ActionNone, 0
	return false
}

// reread reads listed, a resource with an action, again just before it is
// claimed, and returns the fresh copy when it reads as listed. A verdict
// was made on the listing, which can be up to Delay older than this pass
// (see listings) plus the sweep's and the earlier acts' time; a resource
// restarted (a new launch time, which a grace period may cover),
// retagged or resized since is left out, as is one that could not be read,
// and, for a terminate, a volume no longer detached (stopped): attached to
// an instance since (running), which ChangedFrom does not count, or being
// attached or detached.
func (r *Runner) reread(ctx context.Context, k int, listed provider.Resource, action detector.Action) (provider.Resource, bool) {
	res, err := r.fleet.Inventory.Get(ctx, listed.ID)
	if err != nil {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "shardsweep: re-reading a resource before acting failed", slog.Int("shard", k), slog.String("resource", listed.ID), slog.Any("error", err))
		return provider.Resource{}, false
	}
	if changed := res.ChangedFrom(listed); len(changed) > 0 {
		r.logger.LogAttrs(ctx, slog.LevelInfo, "shardsweep: resource changed since it was listed; not acted on this period", slog.Int("shard", k), slog.String("resource", listed.ID), slog.Any("changed", changed))
		return provider.Resource{}, false
	}
	if action == detector.ActionTerminate && res.Kind == provider.KindVolume && res.State != provider.StateStopped {
		r.logger.LogAttrs(ctx, slog.LevelInfo, "shardsweep: volume not detached (stopped) when read again; not terminated this period", slog.Int("shard", k), slog.String("resource", listed.ID), slog.String("state", string(res.State)))
		return provider.Resource{}, false
	}
	return res, true
}
