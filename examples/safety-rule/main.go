// Command safety-rule shows a host wiring its own safety rule next to the
// built-in ones, previewing a batch of proposals (a dry run), and taking
// one through the approval flow. Everything runs in memory; the time is
// fixed so the output is reproducible.
//
//	go run ./examples/safety-rule
//	go run ./examples/safety-rule -now 2026-03-30T20:00:00Z
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

func main() {
	now := flag.String("now", "2026-03-30T07:30:00Z", "decision time (RFC 3339)")
	flag.Parse()
	t, err := time.Parse(time.RFC3339, *now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "safety-rule: -now:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, t); err != nil {
		fmt.Fprintln(os.Stderr, "safety-rule:", err)
		os.Exit(1)
	}
}

// changeTicket is the host's own rule: changes to production need a change
// ticket ("CHG-1234") named in the proposal's Source.
func changeTicket(_ context.Context, p safety.Proposal) (safety.Result, error) {
	if !strings.EqualFold(p.Resource.Environment, "production") || !p.Action.Disruptive() {
		return safety.Result{}, nil
	}
	if strings.HasPrefix(p.Source, "CHG-") {
		return safety.Result{Risk: safety.RiskLow, Reason: "change ticket " + p.Source}, nil
	}
	return safety.Result{
		Outcome:         safety.Block,
		Risk:            safety.RiskHigh,
		Reason:          "production change without a change ticket",
		Recommendations: []string{"open a change ticket and put its ID in Proposal.Source"},
	}, nil
}

func run(ctx context.Context, w io.Writer, now time.Time) error {
	// In-memory sources for the built-in rules.
	backups := map[string][]provider.Backup{
		"i-web-1": {{ID: "snap-w1", ResourceID: "i-web-1", Time: now.Add(-3 * time.Hour), Complete: true, Verified: true}},
		"i-web-2": {{ID: "snap-w2", ResourceID: "i-web-2", Time: now.Add(-30 * time.Hour), Complete: true, Verified: true}},
		"db-main": {{ID: "snap-db", ResourceID: "db-main", Time: now.Add(-time.Hour), Complete: true, Verified: true}},
		"i-batch": {{ID: "snap-b", ResourceID: "i-batch", Time: now.Add(-2 * time.Hour), Complete: true, Verified: true}},
	}
	catalog := provider.BackupCatalogFunc(func(_ context.Context, id string, since time.Time) ([]provider.Backup, error) {
		var out []provider.Backup
		for _, b := range backups[id] {
			if !b.Time.Before(since) {
				out = append(out, b)
			}
		}
		return out, nil
	})
	graph, err := safety.NewStaticGraph(map[string][]safety.Dependent{
		"db-main": {{ID: "i-web-1", Relation: "database client", Live: true, Detail: "14 connections"}},
	})
	if err != nil {
		return err
	}
	history := &safety.MemoryHistory{}
	rules, err := safety.Builtin(safety.BuiltinConfig{
		BusinessHours: safety.BusinessHoursConfig{TimeZone: "Europe/Berlin"},
	}, safety.BuiltinSources{Backups: catalog, Graph: graph, History: history})
	if err != nil {
		return err
	}
	// The host's rule goes next to the built-in ones.
	rules = append(rules, safety.Named("change_ticket", safety.RuleFunc(changeTicket)))

	audit := &safety.AuditLog{}
	n := 0
	approvals, err := approval.New(approval.Config{}, approval.NewMemoryStore(), approval.WithAuditor(audit),
		approval.WithIDGenerator(func() string { n++; return fmt.Sprintf("apr-%d", n) }))
	if err != nil {
		return err
	}
	eng, err := safety.New(safety.Config{}, rules,
		safety.WithApprovals(approvals), safety.WithAuditor(audit),
		safety.WithInline("backup")) // the catalog above is a map: it never blocks
	if err != nil {
		return err
	}

	res := func(id string, kind provider.Kind, env, tz string) provider.Resource {
		return provider.Resource{ID: id, Kind: kind, State: provider.StateRunning, Environment: env, TimeZone: tz}
	}
	proposals := []safety.Proposal{
		{Action: safety.ActionStop, Resource: res("i-web-1", provider.KindInstance, "staging", "America/New_York")},
		{Action: safety.ActionStop, Resource: res("i-web-2", provider.KindInstance, "staging", "America/New_York")},
		{Action: safety.ActionStop, Resource: res("db-main", provider.KindDatabase, "production", ""), Source: "CHG-4711"},
		{Action: safety.ActionStop, Resource: res("i-batch", provider.KindInstance, "production", "America/New_York")},
		{Action: safety.ActionStop, Resource: res("i-batch", provider.KindInstance, "production", "America/New_York"), Source: "CHG-4712"},
		{Action: safety.ActionScaleIn, Resource: res("asg-api", provider.KindGroup, "staging", "Asia/Tokyo"),
			Current: provider.CapacitySpec{Min: 1, Max: 10, Desired: 8}, Target: provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}},
	}
	for i := range proposals {
		proposals[i].Requester, proposals[i].Now = "reaper", now
	}

	fmt.Fprintf(w, "Policy preview at %s (dry run: nothing is recorded)\n\n", now.Format(time.RFC3339))
	rep, err := eng.Preview(ctx, proposals)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tACTION\tOUTCOME\tRISK\tWHY")
	for _, d := range rep.Decisions {
		why := d.Summary()
		if len(d.Recommendations) > 0 {
			why += " → " + strings.Join(d.Recommendations, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ResourceID, d.Action, d.Outcome, d.Risk, why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	by := make([]string, 0, len(rep.BlockedBy))
	for _, rule := range slices.Sorted(maps.Keys(rep.BlockedBy)) {
		by = append(by, fmt.Sprintf("%s %d", rule, rep.BlockedBy[rule]))
	}
	fmt.Fprintf(w, "\nallowed %d, need approval %d, blocked %d", rep.Allowed, rep.NeedApproval, rep.Blocked)
	if len(by) > 0 {
		fmt.Fprintf(w, " (by %s)", strings.Join(by, ", "))
	}
	fmt.Fprintln(w)

	// Take the first proposal that needs approval through the flow.
	for i, d := range rep.Decisions {
		if d.Outcome != safety.RequireApproval {
			continue
		}
		p := proposals[i]
		d, err := eng.Check(ctx, p)
		if !errors.Is(err, safety.ErrApprovalRequired) {
			return fmt.Errorf("expected an approval requirement, got %w", err)
		}
		req, err := approvals.Request(ctx, p, d, "idle for 3 days")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\napproval %s requested for %s of %s: %s (expires %s)\n",
			req.ID, p.Action, p.Resource.ID, req.Reason, req.ExpiresAt.Format(time.RFC3339))
		// The requester may not approve its own request.
		switch _, err := approvals.Approve(ctx, req.ID, "reaper", now, ""); {
		case err == nil:
			return errors.New("self-approval by reaper: accepted")
		case !errors.Is(err, approval.ErrSelfApproval):
			return fmt.Errorf("self-approval by reaper: %w", err)
		}
		fmt.Fprintln(w, "self-approval by reaper: refused")
		if _, err := approvals.Approve(ctx, req.ID, "alice@example.com", now.Add(5*time.Minute), "ok"); err != nil {
			return err
		}
		p.ApprovalID, p.Now = req.ID, now.Add(10*time.Minute)
		if _, err := eng.Check(ctx, p); err != nil {
			return err
		}
		if _, err := approvals.Execute(ctx, req.ID, p); err != nil {
			return err
		}
		fleet := p.Fleet
		if fleet == "" {
			fleet = p.Resource.ID // a lone resource is its own fleet
		}
		if err := history.Record(fleet, p.Now, p.Units()); err != nil {
			return err
		}
		fmt.Fprintf(w, "approved by alice@example.com; %s of %s executed\n", p.Action, p.Resource.ID)
		break
	}
	fmt.Fprintln(w, "\naudit trail:")
	for _, ev := range audit.Events() {
		what := ev.Outcome.String()
		if ev.Kind != safety.AuditDecision {
			what = ev.To
		}
		fmt.Fprintf(w, "  %s  %-19s %-17s %-8s %s\n", ev.Time.Format("15:04"), ev.Kind, ev.Actor, ev.ResourceID, what)
	}
	return nil
}
