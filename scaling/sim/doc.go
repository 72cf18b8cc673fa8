// Package sim replays demand traces through scaling strategies, so that a
// host can prove a policy on its own history before switching it on.
//
// A Simulator takes a demand series (requests, connections: a load that
// does not depend on the capacity), the capacity one instance serves, the
// target utilization, the provisioning delay of a scale out and the
// group's bounds, and replays every step on a simulated clock, far faster
// than real time: at the start of step t each Policy's strategy gets a
// scaling.State with the demand of the steps before t, the group's
// utilization over them (for strategies on CPU, such as an HPA) and the
// target's History, and its recommendation (passed through the safety
// rules when the policy has a Gate, rate limited when it has a Limiter)
// sets the capacity; added instances serve after Config.LeadTime, removed
// ones stop at once.
//
// A policy is one strategy, or a target's strategies as a host's policy
// file lists them (scaling.TargetConfig.Candidates): a scaling.Engine
// decides every step as it does for the Autoscaler, carrying out the
// pinned strategy or the fittest, and keeping the History its strategies
// read (an HPA's stabilization windows and rate policies): the replay
// makes the decisions the host's Autoscaler would make on that demand,
// and Result.Chosen says which strategy made each (a predictive strategy
// falling back to a reactive one). A policy's Gate is asked about each of
// the gradual steps the engine would plan for a change, as the engine asks
// it, and the change goes as far as the steps it lets through; the change
// then takes effect at once or after the lead time: the steps' settling
// and verification are not replayed.
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
//	pred, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 120, LeadTime: 5 * time.Minute,
//		Step: demand.Step}) // a strategy reads the demand at its own step: Run refuses another
//	rep, err := s.Run(ctx, demand, sim.Policy{Name: "predictive", Strategy: pred})
//	err = rep.WriteTable(os.Stdout)
//
//	policy, err := scaling.LoadConfigFile("autoscaler.yaml")
//	web := policy.Targets[0]
//	candidates, err := web.Candidates(nil) // the policy file's strategies at the demand's step
//	cfg := sim.Config{CapacityPerInstance: 120, LeadTime: 5 * time.Minute, From: from}
//	lo, hi := web.Bounds() // the policy's min (0 scales to zero) and max, with their defaults
//	cfg.Min, cfg.Max = &lo, hi
//	s, err = sim.New(cfg)
//	rep, err = s.Run(ctx, demand, sim.Policy{Name: web.ID, Candidates: candidates, Pinned: web.Strategy})
//
// examples/replay prints the tables for the repository's real traces.
package sim
