package shardsweep

import (
	"fmt"
	"strings"
	"time"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// Config configures a Runner, as a host loads it from JSON or YAML.
// Shards.ID, Shards.Shards and Period are required; the zero values of
// the other fields mean the defaults.
type Config struct {
	// Shards configures the membership and the shards' elections:
	// Shards.ID (this replica) and Shards.Shards (the shard count, the
	// same on every replica) are required. Its RequestTimeout and
	// MaxRetries also bound the runner's own etcd requests (states,
	// claims, progress).
	Shards coord.ShardsConfig `json:"shards"`
	// Period is how often every resource is evaluated: the sweep of a
	// shard is for now = each multiple of Period (in UTC). Required: a
	// whole number of hours, because a Tracker reads incrementally only on
	// the hour.
	Period time.Duration `json:"period"`
	// Delay is how long after a period's start its sweep runs, so that the
	// cloud has published the period's last steps (CloudWatch takes
	// minutes): the sweep for 10:00 runs at 10:00 + Delay. It is also how
	// long a listing of the inventory is shared by the passes that start
	// after it, and kept: a replica forgets a listing once it is older
	// than Delay. Less than Period. Default: 10m.
	Delay time.Duration `json:"delay,omitempty"`
	// Prefix is prepended to every key the runner writes: the states
	// (Prefix+"state/", see detector/etcdstore), the claims and the
	// progress of each shard (Prefix+ShardName+"/"). The two key spaces
	// must not meet: Prefix must not start with Shards.Prefix+"members/",
	// Shards.Prefix+"election/" or Shards.Prefix+"config/" (the runner's
	// keys would read as members, sit in a shard's election and hold its
	// next campaign forever, or read as the replicas' configuration
	// fingerprints), and Shards.Prefix must not start with Prefix+"state/" or
	// Prefix+"shard-". They may be equal. Default: "idlescale/shardsweep/".
	Prefix string `json:"prefix,omitempty"`
	// Filter selects the resources listed from the inventory; each shard
	// keeps those that hash to it. Default: every resource.
	Filter provider.Filter `json:"filter,omitzero"`
	// Tracker configures the Tracker of each shard (its step and
	// statistic); every replica must use the same, or states are read in
	// full again.
	Tracker detector.TrackerConfig `json:"tracker,omitzero"`
	// Chunk and Concurrency are the shard sweep's (see
	// detector.SweepConfig). A pass sweeps its shard Chunk resources at a
	// time and acts on a chunk's verdicts before it reads the next, so
	// that its memory does not grow with the shard: a replica holds about
	// (shards led) × Chunk resources' loaded states and verdicts at once,
	// some 13 KB each with 28 days of 4 metrics (64 shards × 1000 was
	// 0.8 GB; more with more metrics). Defaults: 250 (1000 queries of 4
	// metrics, two GetMetricData calls of 500, or 1500 of the 6 the
	// default ensemble reads on AWS, three: the batching is as good) and
	// 8.
	Chunk       int `json:"chunk,omitempty"`
	Concurrency int `json:"concurrency,omitempty"`
	// ActTimeout bounds each call of the Actor. Default: 5m.
	ActTimeout time.Duration `json:"act_timeout,omitempty"`
}

// Validate returns a *provider.InvalidError naming the field (with its
// path, such as "shards.id"): a missing or malformed shards.id, a
// shards.shards that is not positive, a period that is not a positive
// whole number of hours, a negative delay or one not less than the period,
// a negative chunk, concurrency or act_timeout, an invalid tracker or
// filter, the invalid timings of shards, a prefix with a NUL byte, and a
// prefix and a shards.prefix whose keys would meet (see Prefix).
func (c Config) Validate() error {
	if err := c.Shards.Validate(); err != nil {
		return provider.Within("shards", err)
	}
	if err := c.checkPrefixes(); err != nil {
		return err
	}
	switch {
	case c.Period <= 0 || c.Period%time.Hour != 0:
		return provider.Invalid("period", c.Period, "must be a positive whole number of hours")
	case c.Delay < 0:
		return provider.Invalid("delay", c.Delay, "must not be negative (0 means the default 10m)")
	case c.withDefaults().Delay >= c.Period:
		return provider.Invalid("delay", c.Delay, "must be less than the period "+c.Period.String())
	case c.Chunk < 0:
		return provider.Invalid("chunk", c.Chunk, "must not be negative (0 means the default 250)")
	case c.Concurrency < 0:
		return provider.Invalid("concurrency", c.Concurrency, "must not be negative (0 means the default 8)")
	case c.ActTimeout < 0:
		return provider.Invalid("act_timeout", c.ActTimeout, "must not be negative (0 means the default 5m)")
	}
	if err := c.Tracker.Validate(); err != nil {
		return err // named "tracker.…" already
	}
	return c.Filter.Validate() // named "filter.…" already
}

// checkPrefixes checks that the runner's keys (under Prefix) and
// coord.Shards' (under Shards.Prefix), defaults applied, do not meet.
func (c Config) checkPrefixes() error {
	p, sp := c.withDefaults().Prefix, c.Shards.Prefix
	if sp == "" {
		sp = coord.DefaultShardsPrefix
	}
	if strings.ContainsRune(p, 0) {
		return provider.Invalid("prefix", c.Prefix, "must not contain NUL")
	}
	for _, space := range []string{"members/", "election/", "config/"} {
		if strings.HasPrefix(p, sp+space) {
			return provider.Invalid("prefix", p, fmt.Sprintf("must not start with shards.prefix+%q (%q): the runner's keys would read as coord.Shards' %s", space, sp+space, strings.TrimSuffix(space, "/")))
		}
	}
	for _, space := range []string{"state/", "shard-"} {
		if strings.HasPrefix(sp, p+space) {
			return provider.Invalid("shards.prefix", sp, fmt.Sprintf("must not start with prefix+%q (%q): coord.Shards' keys would sit among the runner's", space, p+space))
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Delay == 0 {
		c.Delay = 10 * time.Minute
	}
	if c.Prefix == "" {
		c.Prefix = "idlescale/shardsweep/"
	}
	if c.Chunk == 0 {
		c.Chunk = 250
	}
	if c.ActTimeout == 0 {
		c.ActTimeout = 5 * time.Minute
	}
	return c
}
