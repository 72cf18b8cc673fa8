package safety_test

import (
	"context"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// t0 is a Monday, 03:00 UTC: outside business hours in UTC.
var t0 = time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)

func instance(id string) provider.Resource {
	return provider.Resource{ID: id, Kind: provider.KindInstance, State: provider.StateRunning, Environment: "dev", Role: "web"}
}

func stop(id string) safety.Proposal {
	return safety.Proposal{Action: safety.ActionStop, Resource: instance(id), Requester: "reaper", Now: t0}
}

func scale(id string, from, to int) safety.Proposal {
	a := safety.ActionScaleOut
	if to < from {
		a = safety.ActionScaleIn
	}
	return safety.Proposal{
		Action:    a,
		Resource:  provider.Resource{ID: id, Kind: provider.KindGroup, State: provider.StateRunning},
		Current:   provider.CapacitySpec{Min: 0, Max: 100, Desired: from},
		Target:    provider.CapacitySpec{Min: 0, Max: 100, Desired: to},
		Requester: "autoscaler",
		Now:       t0,
	}
}

// fixed returns a rule that always answers res.
func fixed(name string, res safety.Result) safety.Rule {
	return safety.Named(name, safety.RuleFunc(func(_ context.Context, _ safety.Proposal) (safety.Result, error) {
		return res, nil
	}))
}

func nan() float64 { return math.NaN() }
