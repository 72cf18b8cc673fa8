package detector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// DefaultRecheckQuiet is the least window a Recheck reads when its Quiet
// is zero: the activity strategy's default quiet period.
const DefaultRecheckQuiet = 30 * time.Minute

// Recheck reads a resource's activity again just before a stop or a
// terminate is carried out on a verdict made earlier: the verdict read the
// activity up to its now, and the host acts minutes later (a run over a
// large fleet, a sweep that starts after its period). The reaper and
// coord/shardsweep use it; Ensemble.Recheck makes the one that counts what
// the ensemble counts.
//
// Used reads [min(judged, t−Quiet), t) with t = max(at, judged):
// everything since the verdict's now and, however little time passed (a
// fake clock that does not move, a run of a few milliseconds), at least
// the last Quiet before at; with at before judged (a clock behind the
// verdict's), the last Quiet before judged, the verdict's own quiet
// window. The part before judged is the verdict's own quiet window
// read again: the stop needed it quiet, so use found there is use the
// verdict did not see (an event a source published late: a scrape
// interval, CloudWatch's minutes), not a second opinion on the same data.
// A source's least window (the Prometheus source refuses windows under
// 2 ms, and reads no counter with fewer than two samples in it) is then
// never what blocks or passes a stop.
type Recheck struct {
	// Source reads the activity. Optional: nil means none, and Used finds
	// no use (the verdict had no activity data either). A nil pointer or
	// nil Func adapter in it (a source not built) is not none: Used
	// refuses it with a *provider.InvalidError naming recheck.source.
	Source provider.ActivitySource
	// Kinds are the activity kinds that count. Default (nil): every kind.
	Kinds []provider.ActivityKind
	// Quiet is the least window read, ending at the time of acting.
	// Must be ≥ 0. Default (0): DefaultRecheckQuiet.
	Quiet time.Duration
	// Known says that the verdict acted on read the resource's activity
	// (ReadActivity): then a source that now answers
	// provider.ErrUnsupported (a volume a claim holds again, a source
	// reconfigured) no longer sees what the verdict saw, and Used returns
	// that error (fail closed) instead of finding no use; so, with Kinds
	// set (the kinds the verdict counted: Ensemble.Recheck sets them), does
	// an answer with no count of any of Kinds, with an error matching
	// provider.ErrUnsupported: an absent kind is unknown (a function that
	// may now run at Lambda@Edge, a volume attached again without a
	// datapoint yet). With Kinds nil which kinds the verdict counted is not
	// known (a detector of the host's, whose terminate may have read none),
	// and an answer without counts is no use. Default (false): ErrUnsupported is no use, as the verdict had no activity
	// data either.
	Known bool
}

// ReadActivity reports whether v rests on activity data: its activity
// signal voted on counts (Idle or NotIdle: a signal without data, or
// whose source failed or had none, is Unknown), or v recommends a
// terminate, which needs activity over the whole terminate window (see
// EvidenceConfig.TerminateWindow). A Recheck of its resource before
// acting on v sets Known to it.
func ReadActivity(v Verdict) bool {
	if v.Action == ActionTerminate {
		return true
	}
	for _, c := range v.Signals {
		if c.Signal == SignalActivity && (c.State == Idle || c.State == NotIdle) {
			return true
		}
	}
	return false
}

// Rechecker is implemented by detectors that say how a resource's
// activity is read again before a stop or a terminate is carried out on
// their verdict: which kinds count and the least window (see Recheck).
// The reaper uses it; for a detector without it, it counts every kind
// over DefaultRecheckQuiet. A type that embeds *Ensemble
// implements it, counting what the ensemble counts; a detector of a
// host's own that reads activity should too, with the kinds it counts and
// its quiet period, so that the read before acting finds the use it would
// have found.
type Rechecker interface {
	// Recheck returns the Recheck that reads src.
	Recheck(src provider.ActivitySource) Recheck
}

var _ Rechecker = (*Ensemble)(nil)

// Recheck returns the Recheck that reads src and counts what e counts:
// its activity kinds, over at least its activity's quiet period.
func (e *Ensemble) Recheck(src provider.ActivitySource) Recheck {
	if e.act == nil {
		return Recheck{Source: src} // not made by NewEnsemble: the defaults
	}
	return Recheck{Source: src, Kinds: slices.Clone(e.act.cfg.Kinds), Quiet: e.act.cfg.Quiet}
}

// Window returns the window Used reads for a verdict made at judged and
// acted on at at (see Recheck).
func (c Recheck) Window(judged, at time.Time) (from, to time.Time) {
	quiet := c.Quiet
	if quiet <= 0 {
		quiet = DefaultRecheckQuiet
	}
	to = at
	if to.Before(judged) {
		to = judged
	}
	from = to.Add(-quiet)
	if judged.Before(from) {
		from = judged
	}
	return from, to
}

// Used reads the activity of resource id over Window(judged, at) and
// returns the counted kinds used in it (a count above zero, or a last
// event inside it), in the source's order; none when nothing was used,
// Source is nil or it returns provider.ErrUnsupported (no activity data,
// as the verdict had) while Known is false. With Known, that answer is an
// error matching provider.ErrUnsupported: the verdict read activity the
// source no longer reads, so use since is unknown; and so, with Kinds
// set, is an answer with no count of any of Kinds. Any other error of the source, a count that is
// not valid or a kind given twice is an error: the read could have shown
// use, so a caller must not act (fail closed), as is a Since after the
// window's end. When no kind shows use, a counted kind whose count
// begins after the window's start (its Since) is ErrPartialActivity: the
// part before it is not known to be quiet. judged and at must be set.
func (c Recheck) Used(ctx context.Context, id string, judged, at time.Time) ([]provider.ActivityCount, error) {
	switch {
	case judged.IsZero():
		return nil, provider.Invalid("recheck.judged", judged, "is required (the verdict's now)")
	case at.IsZero():
		return nil, provider.Invalid("recheck.at", at, "is required (the time of acting)")
	}
	if c.Quiet < 0 {
		return nil, provider.Invalid("recheck.quiet", c.Quiet, "must be ≥ 0 (0 means the default 30m)")
	}
	if c.Source == nil {
		return nil, nil
	}
	if nilcheck.Is(c.Source) { // a nil *memory.Cloud or ActivitySourceFunc: its call panics
		return nil, provider.Invalid("recheck.source", fmt.Sprintf("%T", c.Source), "must be nil or a usable source, not a nil pointer or func")
	}
	from, to := c.Window(judged, at)
	counts, err := c.Source.Activity(ctx, provider.ActivityQuery{ResourceID: id, Start: from, End: to})
	switch {
	case errors.Is(err, provider.ErrUnsupported) && c.Known:
		return nil, fmt.Errorf("activity of %s over [%s, %s): the verdict read it and the source no longer does, so its use since is unknown: %w", id, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), err)
	case errors.Is(err, provider.ErrUnsupported):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("activity of %s over [%s, %s): %w", id, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), err)
	}
	var used []provider.ActivityCount
	var partial []string // counted kinds that cover less than the window
	counted := false     // a count of a counted kind was answered
	seen := make(map[provider.ActivityKind]bool, len(counts))
	for i, a := range counts {
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("activity of %s: [%d]: %w", id, i, err)
		}
		if seen[a.Kind] {
			return nil, fmt.Errorf("activity of %s: [%d]: %w", id, i, provider.Invalid("activity.kind", string(a.Kind), "is given twice"))
		}
		if a.Since.After(to) {
			return nil, fmt.Errorf("activity of %s: [%d]: %w", id, i, provider.Invalid("activity.since", a.Since.Format(time.RFC3339Nano), "must not be after the window's end "+to.Format(time.RFC3339Nano)))
		}
		seen[a.Kind] = true
		if c.Kinds != nil && !slices.Contains(c.Kinds, a.Kind) {
			continue
		}
		counted = true
		if a.Count > 0 || !a.Last.IsZero() && !a.Last.Before(from) {
			used = append(used, a)
			continue
		}
		if a.Since.After(from) {
			partial = append(partial, fmt.Sprintf("%s since %s", a.Kind, a.Since.Format(time.RFC3339Nano)))
		}
	}
	if !counted && c.Known && c.Kinds != nil {
		// A kind absent from the answer is unknown: the source no longer
		// reads what the verdict read, as when it answers ErrUnsupported.
		return nil, fmt.Errorf("activity of %s over [%s, %s): the verdict read it and the source counts none of its kinds now, so its use since is unknown: %w", id, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), provider.ErrUnsupported)
	}
	if len(used) == 0 && len(partial) > 0 {
		return nil, fmt.Errorf("activity of %s over [%s, %s): %s: %w", id, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano),
			strings.Join(partial, ", "), ErrPartialActivity)
	}
	return used, nil
}
