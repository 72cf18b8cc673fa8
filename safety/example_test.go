package safety_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A host wires its own rule next to the built-in ones: here, "never touch
// anything owned by the payments team on the last day of the month".
func ExampleRuleFunc() {
	monthEnd := safety.Named("month_end", safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
		if p.Resource.Owner != "payments" || p.Now.AddDate(0, 0, 1).Day() != 1 {
			return safety.Result{}, nil // does not apply: pass
		}
		return safety.Result{
			Outcome:         safety.Block,
			Risk:            safety.RiskHigh,
			Reason:          "payments closes the books on the last day of the month",
			Recommendations: []string{"retry on the 1st"},
		}, nil
	}))
	critical, _ := safety.NewCriticalRule(safety.CriticalConfig{})
	eng, err := safety.New(safety.Config{}, []safety.Rule{critical, monthEnd})
	if err != nil {
		panic(err)
	}

	p := safety.Proposal{
		Action:    safety.ActionStop,
		Resource:  provider.Resource{ID: "i-0abc", Kind: provider.KindInstance, Owner: "payments"},
		Requester: "reaper",
		Now:       time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC),
	}
	d, err := eng.Check(context.Background(), p)
	fmt.Println(errors.Is(err, safety.ErrBlocked))
	fmt.Println(d.Summary())
	fmt.Println(d.Recommendations)
	// Output:
	// true
	// blocked: month_end: payments closes the books on the last day of the month
	// [retry on the 1st]
}

// Named gives a RuleFunc the name decisions report it under.
func ExampleNamed() {
	r := safety.Named("always_ok", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{}, nil
	}))
	eng, _ := safety.New(safety.Config{}, []safety.Rule{r})
	fmt.Println(eng.Rules())
	// Output: [always_ok]
}

func exampleProposal() safety.Proposal {
	return safety.Proposal{
		Action: safety.ActionStop,
		Resource: provider.Resource{
			ID: "i-0abc", Kind: provider.KindInstance, State: provider.StateRunning,
			Environment: "staging", TimeZone: "Europe/Berlin",
		},
		Fleet: "web", FleetSize: 10,
		Requester: "reaper",
		Reason:    "idle for 3 days",
		Now:       time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC), // Monday 09:30 in Berlin
	}
}

func exampleCatalog() provider.BackupCatalog {
	return provider.BackupCatalogFunc(func(_ context.Context, id string, since time.Time) ([]provider.Backup, error) {
		return []provider.Backup{{
			ID: "snap-1", ResourceID: id, Time: time.Date(2026, 3, 30, 1, 0, 0, 0, time.UTC),
			Complete: true, Verified: true,
		}}, nil
	})
}

// New builds an engine from the built-in rules; Check decides one
// proposal. This stop is blocked because it falls in Berlin business
// hours.
func ExampleNew() {
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: exampleCatalog(), History: &safety.MemoryHistory{}})
	if err != nil {
		panic(err)
	}
	eng, err := safety.New(safety.Config{Timeout: time.Second}, rules)
	if err != nil {
		panic(err)
	}
	d, err := eng.Check(context.Background(), exampleProposal())
	var be *safety.BlockedError
	fmt.Println(errors.As(err, &be), be.Decision.BlockingRules())
	fmt.Println(d.Risk, d.Recommendations)
	// Output:
	// true [business_hours]
	// medium [schedule for Mon 2026-03-30 18:00 Europe/Berlin]
}

// Evaluate answers "would this be allowed?" for one proposal without
// recording anything: a dry run, or a plan being built.
func ExampleEngine_Evaluate() {
	rules, _ := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: exampleCatalog(), History: &safety.MemoryHistory{}})
	audit := &safety.AuditLog{}
	eng, _ := safety.New(safety.Config{}, rules, safety.WithAuditor(audit))
	p := exampleProposal()
	d, err := eng.Evaluate(context.Background(), p)
	fmt.Println(errors.Is(err, safety.ErrBlocked), d.BlockingRules())
	p.Now = time.Date(2026, 3, 30, 20, 0, 0, 0, time.UTC) // 22:00 in Berlin
	d, err = eng.Evaluate(context.Background(), p)
	fmt.Println(err, d.Outcome, d.Risk)
	fmt.Println(len(audit.Events()), "events recorded")
	// Output:
	// true [business_hours]
	// <nil> pass low
	// 0 events recorded
}

// ApprovalVerifierFunc plugs in a host's own approvals, here change
// tickets: a proposal that needs approval goes ahead with a ticket the
// host's system says covers it.
func ExampleApprovalVerifierFunc() {
	tickets := map[string]string{"CHG-4711": "i-0abc"} // ticket → resource it covers
	verifier := safety.ApprovalVerifierFunc(func(_ context.Context, id string, p safety.Proposal) error {
		if tickets[id] != p.Resource.ID {
			return fmt.Errorf("change ticket %s does not cover %s", id, p.Resource.ID)
		}
		return nil
	})
	critical, _ := safety.NewCriticalRule(safety.CriticalConfig{})
	eng, _ := safety.New(safety.Config{}, []safety.Rule{critical}, safety.WithApprovals(verifier))
	p := exampleProposal()
	p.Resource.Environment = "production"
	_, err := eng.Evaluate(context.Background(), p)
	fmt.Println(errors.Is(err, safety.ErrApprovalRequired))
	p.ApprovalID = "CHG-4711"
	d, err := eng.Evaluate(context.Background(), p)
	fmt.Println(err, d.Approved)
	// Output:
	// true
	// <nil> true
}

// Preview is a dry run over a batch: what would be blocked, and why.
func ExampleEngine_Preview() {
	rules, _ := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: exampleCatalog(), History: &safety.MemoryHistory{}})
	eng, _ := safety.New(safety.Config{}, rules)
	night := exampleProposal()
	night.Now = time.Date(2026, 3, 30, 20, 0, 0, 0, time.UTC) // 22:00 in Berlin
	prod := night
	prod.Resource.ID, prod.Resource.Environment = "i-0def", "production"
	rep, err := eng.Preview(context.Background(), []safety.Proposal{exampleProposal(), night, prod})
	if err != nil {
		panic(err)
	}
	fmt.Println("allowed:", rep.Allowed, "need approval:", rep.NeedApproval, "blocked:", rep.Blocked)
	fmt.Println(rep.BlockedBy)
	for _, d := range rep.Decisions {
		fmt.Println(d.ResourceID, d.Outcome)
	}
	// Output:
	// allowed: 1 need approval: 1 blocked: 1
	// map[business_hours:1]
	// i-0abc block
	// i-0abc pass
	// i-0def require_approval
}

// AuditorFunc sends audit events anywhere: a log, a queue, a database.
func ExampleAuditorFunc() {
	au := safety.AuditorFunc(func(_ context.Context, ev safety.AuditEvent) error {
		fmt.Println(ev.Kind, ev.ResourceID, ev.Outcome, strings.Join(ev.Rules, ","))
		return nil
	})
	block := safety.Named("freeze", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{Outcome: safety.Block, Reason: "release freeze"}, nil
	}))
	eng, _ := safety.New(safety.Config{}, []safety.Rule{block}, safety.WithAuditor(au))
	_, _ = eng.Check(context.Background(), exampleProposal())
	// Output: decision i-0abc block freeze
}

// AuditLog keeps events in memory, in order.
func ExampleAuditLog() {
	log := &safety.AuditLog{}
	_ = log.Record(context.Background(), safety.AuditEvent{Kind: safety.AuditApprovalDenied, Actor: "bob"})
	fmt.Println(len(log.Events()), log.Events()[0].Actor)
	// Output: 1 bob
}

func ExampleParseSchedule() {
	s, err := safety.ParseSchedule("mon-fri 08:00-12:00, 13:00-17:30; Sat 10:00-14:00")
	if err != nil {
		panic(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	fmt.Println(s)
	fmt.Println(s.Contains(time.Date(2026, 3, 28, 11, 0, 0, 0, berlin))) // Saturday 11:00
	fmt.Println(s.End(time.Date(2026, 3, 30, 9, 15, 0, 0, berlin)).Format("Mon 15:04 MST"))
	_, err = safety.ParseSchedule("Mon-Fri 18:00-09:00")
	fmt.Println(err)
	// Output:
	// Mon-Fri 08:00-12:00,13:00-17:30; Sat 10:00-14:00
	// true
	// Mon 12:00 CEST
	// invalid schedule "Mon-Fri 18:00-09:00": clause 1: time range "18:00-09:00": end 09:00 is not after start 18:00
}

func ExampleNewBusinessHoursRule() {
	r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{
		Hours:    "Mon-Fri 09:00-18:00",
		TimeZone: "America/New_York", // for resources without a time zone
		Holidays: []safety.Holiday{{Date: "07-04", Name: "Independence Day"}},
		Blackouts: []safety.Blackout{{Name: "launch",
			Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}},
	})
	if err != nil {
		panic(err)
	}
	p := exampleProposal()
	p.Resource.TimeZone = ""
	p.Now = time.Date(2026, 7, 6, 15, 0, 0, 0, time.UTC) // Monday 11:00 EDT
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason)
	fmt.Println(res.Recommendations)
	p.Now = time.Date(2026, 7, 4, 15, 0, 0, 0, time.UTC)
	res, _ = r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason)
	// Output:
	// block - inside business hours Mon-Fri 09:00-18:00 (America/New_York), local time Mon 11:00 EDT
	// [schedule for Mon 2026-07-06 18:00 America/New_York]
	// pass - holiday Independence Day: no business hours
}

func ExampleNewBackupRule() {
	r, _ := safety.NewBackupRule(safety.BackupConfig{MaxAge: 12 * time.Hour}, exampleCatalog())
	res, _ := r.Check(context.Background(), exampleProposal())
	fmt.Println(res.Outcome, "-", res.Reason)
	p := exampleProposal()
	p.Now = p.Now.Add(24 * time.Hour)
	res, _ = r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason, res.Recommendations)
	// Output:
	// pass - backup snap-1 is 6h30m0s old
	// block - no complete verified backup within 12h0m0s [take a snapshot first]
}

func ExampleNewCriticalRule() {
	r, _ := safety.NewCriticalRule(safety.CriticalConfig{
		Actions: map[safety.Action]safety.Outcome{safety.ActionStop: safety.Block},
	})
	p := exampleProposal()
	p.Resource.Role = "database"
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome, res.Risk, res.Factors)
	// Output: block high [role=database]
}

func ExampleNewStaticGraph() {
	_, err := safety.NewStaticGraph(map[string][]safety.Dependent{
		"db-1": {{ID: "app-1"}}, "app-1": {{ID: "db-1"}},
	})
	fmt.Println(err)
	// Output: safety: dependency cycle: app-1 → db-1 → app-1
}

func ExampleNewDependencyRule() {
	g, _ := safety.NewStaticGraph(map[string][]safety.Dependent{
		"i-0abc": {{ID: "lb-web", Relation: "load balancer target", Live: true, Detail: "120 req/min"}},
	})
	r, _ := safety.NewDependencyRule(safety.DependencyConfig{}, g)
	res, _ := r.Check(context.Background(), exampleProposal())
	fmt.Println(res.Outcome, "-", res.Reason)
	fmt.Println(res.Recommendations)
	// Output:
	// block - live dependents: lb-web (load balancer target, 120 req/min)
	// [drain or detach lb-web first]
}

// DependencyGraphFunc adapts a host's CMDB lookup.
func ExampleDependencyGraphFunc() {
	cmdb := safety.DependencyGraphFunc(func(_ context.Context, id string) ([]safety.Dependent, error) {
		if id == "db-orders" {
			return []safety.Dependent{{ID: "svc-orders", Relation: "database client", Live: true, Detail: "14 connections"}}, nil
		}
		return nil, nil
	})
	r, _ := safety.NewDependencyRule(safety.DependencyConfig{}, cmdb)
	p := exampleProposal()
	p.Resource.ID = "db-orders"
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Reason)
	// Output: live dependents: svc-orders (database client, 14 connections)
}

func ExampleNewGradualRule() {
	r, _ := safety.NewGradualRule(safety.GradualConfig{})
	p := exampleProposal()
	p.Action = safety.ActionScaleOut
	p.Current = provider.CapacitySpec{Min: 1, Max: 20, Desired: 4}
	p.Target = provider.CapacitySpec{Min: 1, Max: 20, Desired: 10}
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason)
	fmt.Println(res.Recommendations)
	// Output:
	// block - desired 4 → 10 changes 150% in one step (at most 2 instances, 50%, allowed)
	// [scale in steps: 4 → 6 → 9 → 10]
}

func ExampleNewLimitsRule() {
	hist := &safety.MemoryHistory{}
	p := exampleProposal()
	_ = hist.Record("web", p.Now.Add(-20*time.Minute), 5)
	r, _ := safety.NewLimitsRule(safety.LimitsConfig{MaxFleetShare: 0.5}, hist)
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason)
	// Output: block - fleet "web": 5 of 10 acted on in the last 1h0m0s, 1 more would make 60% (limit 50%)
}

// MemoryHistory counts what was acted on; the host records each executed
// action.
func ExampleMemoryHistory() {
	h := &safety.MemoryHistory{}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_ = h.Record("web", now.Add(-2*time.Hour), 3)
	_ = h.Record("web", now.Add(-10*time.Minute), 1)
	n, _ := h.ActedOn(context.Background(), "web", now.Add(-time.Hour))
	fmt.Println(n)
	// Output: 1
}

// ActionHistoryFunc adapts a shared counter (a database, etcd).
func ExampleActionHistoryFunc() {
	shared := safety.ActionHistoryFunc(func(context.Context, string, time.Time) (int, error) { return 0, nil })
	r, _ := safety.NewLimitsRule(safety.LimitsConfig{}, shared)
	res, _ := r.Check(context.Background(), exampleProposal())
	fmt.Println(res.Outcome)
	// Output: pass
}

func ExampleNewHealthRule() {
	r, _ := safety.NewHealthRule(safety.HealthConfig{}, []safety.HealthCheck{
		{Name: "orders-db", Checker: safety.HealthCheckerFunc(func(context.Context, safety.Proposal) error {
			return errors.New("replica lag 40s")
		})},
	})
	res, _ := r.Check(context.Background(), exampleProposal())
	fmt.Println(res.Outcome, "-", res.Reason)
	// Output: block - unhealthy dependencies: orders-db: replica lag 40s
}

// HealthCheckerFunc adapts any probe.
func ExampleHealthCheckerFunc() {
	var lb safety.HealthChecker = safety.HealthCheckerFunc(func(_ context.Context, p safety.Proposal) error {
		return nil // e.g. ask the load balancer for its healthy target count
	})
	fmt.Println(lb.Healthy(context.Background(), exampleProposal()))
	// Output: <nil>
}

func ExampleNewRollbackRule() {
	r, _ := safety.NewRollbackRule(safety.RollbackConfig{Irreversible: safety.Block}, nil)
	p := exampleProposal()
	p.Action = safety.ActionTerminate
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason, res.Recommendations)
	// Output: block - terminate cannot be undone [take a snapshot first prefer stop over terminate]
}

// RestorerFunc confirms the previous state can be restored.
func ExampleRestorerFunc() {
	templates := map[string]bool{"i-0abc": true}
	r, _ := safety.NewRollbackRule(safety.RollbackConfig{}, safety.RestorerFunc(func(_ context.Context, p safety.Proposal) error {
		if !templates[p.Resource.ID] {
			return errors.New("no launch template recorded")
		}
		return nil
	}))
	p := exampleProposal()
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome)
	p.Resource.ID = "i-0zzz"
	res, _ = r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason)
	// Output:
	// pass
	// block - previous state not restorable: no launch template recorded
}

// Builtin returns every built-in rule configured from one struct, as a
// host would load it from YAML or JSON.
func ExampleBuiltin() {
	rules, err := safety.Builtin(safety.BuiltinConfig{
		BusinessHours: safety.BusinessHoursConfig{TimeZone: "Europe/Berlin"},
		Limits:        safety.LimitsConfig{MaxCapacity: 50},
	}, safety.BuiltinSources{Backups: exampleCatalog(), History: &safety.MemoryHistory{}})
	if err != nil {
		panic(err)
	}
	eng, _ := safety.New(safety.Config{}, rules)
	fmt.Println(eng.Rules())
	_, err = safety.Builtin(safety.BuiltinConfig{Limits: safety.LimitsConfig{MinCapacity: -1}},
		safety.BuiltinSources{Backups: exampleCatalog(), History: &safety.MemoryHistory{}})
	fmt.Println(err)
	// Output:
	// [critical backup business_hours gradual limits rollback]
	// safety.Builtin: invalid limits.min_capacity -1: must be ≥ 0
}

// HolidayCalendarFunc plugs in holidays the host computes.
func ExampleHolidayCalendarFunc() {
	companyDay := safety.HolidayCalendarFunc(func(day time.Time) (string, bool) {
		_, m, d := day.Date()
		return "company day", m == time.June && d == 12
	})
	r, _ := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{TimeZone: "Europe/Berlin"}, companyDay)
	p := exampleProposal()
	p.Now = time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC) // a Friday, 11:00 in Berlin
	res, _ := r.Check(context.Background(), p)
	fmt.Println(res.Outcome, "-", res.Reason)
	// Output: pass - holiday company day: no business hours
}

// quotaRule is a host rule over in-memory state: it never blocks, so it
// implements Inliner and the engine runs it on the calling goroutine.
type quotaRule struct{ maxStops int }

func (quotaRule) Name() string { return "quota" }
func (quotaRule) Inline() bool { return true }
func (q quotaRule) Check(_ context.Context, p safety.Proposal) (safety.Result, error) {
	if p.Action == safety.ActionStop && p.FleetSize > 0 && q.maxStops == 0 {
		return safety.Result{Outcome: safety.Block, Reason: "stop quota used up"}, nil
	}
	return safety.Result{}, nil
}

func ExampleInliner() {
	eng, _ := safety.New(safety.Config{}, []safety.Rule{quotaRule{maxStops: 0}})
	d, _ := eng.Check(context.Background(), exampleProposal())
	fmt.Println(d.Summary())
	// Output: blocked: quota: stop quota used up
}

// WithInline vouches for rules whose sources are in memory, such as a
// backup catalog over a map.
func ExampleWithInline() {
	rules, _ := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: exampleCatalog(), History: &safety.MemoryHistory{}})
	eng, err := safety.New(safety.Config{}, rules, safety.WithInline("backup"))
	fmt.Println(err)
	_, err = safety.New(safety.Config{}, rules, safety.WithInline("bakup"))
	fmt.Println(err != nil)
	_ = eng
	// Output:
	// <nil>
	// true
}
