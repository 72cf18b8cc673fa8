package ratelimit

import (
	"context"
	"log/slog"
)

// Peers tells a Limiter the Configs of the other live replicas' limiters
// on its Store (ratelimit/etcdstore's ConfigCheck is one), so that it
// decides by the strictest of them and its own: see "Replicas that
// disagree" in the package documentation.
type Peers interface {
	// PeerConfigs returns the Configs of the other live replicas'
	// limiters (those that differ from this one's are enough), and a
	// version that changes whenever they do: the Limiter resolves them
	// again only then. It is called on every reservation and
	// cancellation, from several goroutines at once: it must be safe for
	// concurrent use, cheap, and must not change a slice it returned. An
	// invalid Config among them is logged and left out.
	PeerConfigs() (cfgs []Config, version uint64)
}

// PeersFunc adapts a function to Peers.
type PeersFunc func() ([]Config, uint64)

// PeerConfigs calls f().
func (f PeersFunc) PeerConfigs() ([]Config, uint64) { return f() }

// WithPeers makes the Limiter decide every reservation by its own Config
// and by those p reports, the strictest of each: an event must fit every
// one's budgets (events per window, interval), its units are clamped to
// the smallest MaxUnits, it goes to the global bucket when any of them
// sets a global budget, and a bucket keeps its events for the longest of
// their histories. Default (also for nil, or a nil PeersFunc): its own
// Config alone.
func WithPeers(p Peers) Option { return func(l *Limiter) { l.peers = p } }

// peerSet is the peers' Configs of one version, resolved.
type peerSet struct {
	version uint64
	rs      []resolved
}

// peerLimits returns the peers' resolved Configs (none without Peers),
// resolving them again when their version changed.
func (l *Limiter) peerLimits() []resolved {
	if l.peers == nil {
		return nil
	}
	cfgs, v := l.peers.PeerConfigs()
	if p := l.peerCache.Load(); p != nil && p.version == v {
		return p.rs
	}
	rs := make([]resolved, 0, len(cfgs))
	for i, c := range cfgs {
		if err := c.Validate(); err != nil {
			l.logger.LogAttrs(context.Background(), slog.LevelWarn, "ratelimit: a peer's config is invalid; left out",
				slog.Int("peer", i), slog.Any("error", err))
			continue
		}
		r, _ := c.resolve() // Validate resolved it
		rs = append(rs, r)
	}
	l.peerCache.Store(&peerSet{version: v, rs: rs})
	return rs
}
