// Package sim replays demand traces through scaling strategies, so that a
// host can prove a policy on its own history before switching it on.
//
// A Simulator takes a demand series (requests, connections: a load that
// does not depend on the capacity), the capacity one instance serves, the
// target utilization, the provisioning delay of a scale out and the
// group's bounds, and replays every step on a simulated clock, far faster
// than real time: at the start of step t each Policy's strategy gets a
// scaling.State with the demand of the steps before t and the History of
// its own recommendations and changes, and its recommendation (passed
// through the safety rules when the policy has a Gate, rate limited when
// it has a Limiter) sets the capacity; added
// instances serve after Config.LeadTime, removed ones stop at once.
//
// Beside the policies it replays an oracle, which sizes every step for its
// own demand, n_t = ⌈d_t / (c·u)⌉, and reactive baselines (an HPA-like
// one by default; HeadroomFor finds the least headroom a reactive policy
// needs to reach a violation share). The Report has, per policy, the
// totals (capacity-hours and cost, the SLO violation share τ_U, the SPEC
// RG under- and over-provisioning shares θ_U and θ_O, τ_O, changes and
// direction reversals per hour) and optionally every step (desired,
// actual, demand); it is written as a table (WriteTable), as JSON
// (encoding/json, as it is) and as an SVG chart (WriteSVG).
//
//	s, err := sim.New(sim.Config{CapacityPerInstance: 120, LeadTime: 5 * time.Minute, From: from})
//	pred, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 120})
//	rep, err := s.Run(ctx, demand, sim.Policy{Name: "predictive", Strategy: pred})
//	err = rep.WriteTable(os.Stdout)
//
// examples/replay prints the tables for the repository's real traces.
package sim
