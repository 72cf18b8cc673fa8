package etcdkv

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Client is the part of *clientv3.Client that a store writing keys with
// leases uses. The public packages declare the interface they consume
// under their own name; any of them is satisfied by a *clientv3.Client.
type Client interface {
	clientv3.KV
	clientv3.Lease
}

var _ Client = (*clientv3.Client)(nil)

// CheckClient returns a *provider.InvalidError for the field "client"
// when cli is nil, or a nil *clientv3.Client in an interface (which is not
// a nil interface, but on which every request panics); otherwise nil.
func CheckClient(cli any) error {
	if c, ok := cli.(*clientv3.Client); cli == nil || (ok && c == nil) {
		return provider.Invalid("client", nil, "must not be nil")
	}
	return nil
}

// CheckNew runs the checks every etcd-backed constructor starts with, in
// this order: cli (CheckClient), then cfg.Validate. It returns the first
// failure as "pkg: " + the *provider.InvalidError for the client, or
// "pkg: config: " + cfg's error; nil when both pass.
func CheckNew(pkg string, cli any, cfg interface{ Validate() error }) error {
	if err := CheckClient(cli); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: config: %w", pkg, err)
	}
	return nil
}

// ClockOf returns the clock a store built by package pkg runs on: c, or
// the real clock for a nil c. A nil pointer in c (a nil *clock.Mock),
// which is not a nil interface and would panic on first use, is a
// *provider.InvalidError for the field "clock".
func ClockOf(pkg string, c clock.Clock) (clock.Clock, error) {
	if c == nil {
		return clock.Real{}, nil
	}
	if nilcheck.Is(c) {
		return nil, fmt.Errorf("%s: %w", pkg, provider.Invalid("clock", fmt.Sprintf("%T", c), "must not be a nil pointer"))
	}
	return c, nil
}
