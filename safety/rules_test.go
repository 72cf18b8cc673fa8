package safety_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func TestCriticalRule(t *testing.T) {
	t.Parallel()
	def, err := safety.NewCriticalRule(safety.CriticalConfig{})
	require.NoError(t, err)
	custom, err := safety.NewCriticalRule(safety.CriticalConfig{
		Environments:   []string{"Payments", "pci"},
		Roles:          []string{"queue"},
		ProtectionTags: []string{"keep"},
		Actions: map[safety.Action]safety.Outcome{
			safety.ActionStop: safety.Block, safety.ActionTerminate: safety.RequireApproval, safety.ActionScaleIn: safety.Pass,
		},
	})
	require.NoError(t, err)
	res := func(mod func(*provider.Resource)) provider.Resource {
		r := instance("i-1")
		mod(r2p(&r))
		return r
	}
	tests := []struct {
		name        string
		rule        *safety.CriticalRule
		give        provider.Resource
		action      safety.Action
		wantOutcome safety.Outcome
		wantRisk    safety.Risk
		wantFactors []string
	}{
		{"dev web passes", def, instance("i-1"), safety.ActionStop, safety.Pass, safety.RiskNone, nil},
		{"production stop needs approval", def, res(func(r *provider.Resource) { r.Environment = "Production" }),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"environment=Production"}},
		{"production terminate blocked", def, res(func(r *provider.Resource) { r.Environment = "production" }),
			safety.ActionTerminate, safety.Block, safety.RiskHigh, []string{"environment=production"}},
		{"production start passes, low risk", def, res(func(r *provider.Resource) { r.Environment = "production" }),
			safety.ActionStart, safety.Pass, safety.RiskLow, []string{"environment=production"}},
		{"database role", def, res(func(r *provider.Resource) { r.Role = "database" }),
			safety.ActionResize, safety.RequireApproval, safety.RiskHigh, []string{"role=database"}},
		{"database kind", def, res(func(r *provider.Resource) { r.Kind = provider.KindDatabase; r.Role = "" }),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"kind=database"}},
		{"load balancer kind", def, res(func(r *provider.Resource) { r.Kind = provider.KindLoadBalancer; r.Role = "" }),
			safety.ActionTerminate, safety.Block, safety.RiskHigh, []string{"kind=load_balancer"}},
		{"monitoring role", def, res(func(r *provider.Resource) { r.Role = "monitoring" }),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"role=monitoring"}},
		{"standby role", def, res(func(r *provider.Resource) { r.Role = "standby" }),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"role=standby"}},
		{"replica role", def, res(func(r *provider.Resource) { r.Role = "replica" }),
			safety.ActionTerminate, safety.Block, safety.RiskHigh, []string{"role=replica"}},
		{"criticality high", def, res(func(r *provider.Resource) { r.Criticality = provider.CriticalityHigh }),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"criticality=high"}},
		{"criticality medium passes", def, res(func(r *provider.Resource) { r.Criticality = provider.CriticalityMedium }),
			safety.ActionStop, safety.Pass, safety.RiskNone, nil},
		{"protected flag", def, res(func(r *provider.Resource) { r.Protected = true }),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"protected"}},
		{"protection tags", def, res(func(r *provider.Resource) {
			r.Tags = map[string]string{"protected": "yes", "do-not-stop": "1", "x": "y"}
		}),
			safety.ActionStop, safety.RequireApproval, safety.RiskHigh, []string{"tag do-not-stop=1", "tag protected=yes"}},
		{"protection tag false", def, res(func(r *provider.Resource) { r.Tags = map[string]string{"protected": "False"} }),
			safety.ActionStop, safety.Pass, safety.RiskNone, nil},
		{"scale out of production passes", def, res(func(r *provider.Resource) { r.Environment = "production" }),
			safety.ActionScaleOut, safety.Pass, safety.RiskLow, []string{"environment=production"}},
		{"custom env", custom, res(func(r *provider.Resource) { r.Environment = "PAYMENTS" }),
			safety.ActionStop, safety.Block, safety.RiskHigh, []string{"environment=PAYMENTS"}},
		{"custom env replaces default", custom, res(func(r *provider.Resource) { r.Environment = "production" }),
			safety.ActionStop, safety.Pass, safety.RiskNone, nil},
		{"custom role and tag, terminate approval", custom, res(func(r *provider.Resource) { r.Role = "queue"; r.Tags = map[string]string{"keep": "true"} }),
			safety.ActionTerminate, safety.RequireApproval, safety.RiskHigh, []string{"role=queue", "tag keep=true"}},
		{"custom roles replace the default standby", custom, res(func(r *provider.Resource) { r.Role = "standby" }),
			safety.ActionStop, safety.Pass, safety.RiskNone, nil},
		{"custom pass is low risk", custom, res(func(r *provider.Resource) { r.Role = "queue" }),
			safety.ActionScaleIn, safety.Pass, safety.RiskLow, []string{"role=queue"}},
		{"custom keeps other defaults", custom, res(func(r *provider.Resource) { r.Role = "queue" }),
			safety.ActionResize, safety.RequireApproval, safety.RiskHigh, []string{"role=queue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := stop("i-1")
			p.Action, p.Resource = tt.action, tt.give
			if tt.action.IsScale() {
				p.Current, p.Target = provider.CapacitySpec{Max: 10, Desired: 2}, provider.CapacitySpec{Max: 10, Desired: 3}
			}
			got, err := tt.rule.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantRisk, got.Risk)
			assert.Equal(t, tt.wantFactors, got.Factors)
			if tt.wantOutcome != safety.Pass {
				assert.NotEmpty(t, got.Reason)
				assert.NotEmpty(t, got.Recommendations)
			}
		})
	}
	t.Run("bad policy", func(t *testing.T) {
		t.Parallel()
		for _, p := range []safety.CriticalConfig{
			{Actions: map[safety.Action]safety.Outcome{"reboot": safety.Block}},
			{Actions: map[safety.Action]safety.Outcome{safety.ActionStop: "5"}},
			{Actions: map[safety.Action]safety.Outcome{safety.ActionStop: ""}},
			{Roles: []string{" "}},
		} {
			_, err := safety.NewCriticalRule(p)
			require.ErrorIs(t, err, provider.ErrInvalid)
		}
	})
	t.Run("bad policy names the field", func(t *testing.T) {
		t.Parallel()
		// An unknown action is a key of actions: the error named
		// "actions.action", a field no config has.
		for _, tt := range []struct {
			give      map[safety.Action]safety.Outcome
			wantField string
			wantValue string
		}{
			{map[safety.Action]safety.Outcome{"reboot": safety.Block}, "actions", "reboot"},
			{map[safety.Action]safety.Outcome{safety.ActionStop: "5"}, "actions.stop", "5"},
		} {
			_, err := safety.NewCriticalRule(safety.CriticalConfig{Actions: tt.give})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field, "%v", tt.give)
			assert.Equal(t, tt.wantValue, ie.Value, "%v", tt.give)
		}
	})
}

func r2p(r *provider.Resource) *provider.Resource { return r }

func catalogOf(backups ...provider.Backup) provider.BackupCatalog {
	return provider.BackupCatalogFunc(func(ctx context.Context, id string, since time.Time) ([]provider.Backup, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var out []provider.Backup
		for _, b := range backups {
			if b.ResourceID == id && !b.Time.Before(since) {
				out = append(out, b)
			}
		}
		return out, nil
	})
}

func TestBackupRule(t *testing.T) {
	t.Parallel()
	bk := func(id string, age time.Duration, complete, verified bool) provider.Backup {
		return provider.Backup{ID: id, ResourceID: "i-1", Time: t0.Add(-age), Complete: complete, Verified: verified}
	}
	tests := []struct {
		name        string
		backups     []provider.Backup
		policy      safety.BackupConfig
		action      safety.Action
		kind        provider.Kind
		wantOutcome safety.Outcome
		wantReason  string
		wantRec     string
	}{
		{name: "recent verified", backups: []provider.Backup{bk("snap-1", 3*time.Hour, true, true)},
			wantOutcome: safety.Pass, wantReason: "backup snap-1 is 3h0m0s old"},
		{name: "newest verified wins", backups: []provider.Backup{bk("old", 20*time.Hour, true, true), bk("new", 90*time.Minute, true, true)},
			wantOutcome: safety.Pass, wantReason: "backup new is 1h30m0s old"},
		{name: "none", wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s", wantRec: "take a snapshot first"},
		{name: "too old", backups: []provider.Backup{bk("snap-1", 25*time.Hour, true, true)},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
		{name: "exactly 24h", backups: []provider.Backup{bk("snap-1", 24*time.Hour, true, true)},
			wantOutcome: safety.Pass, wantReason: "backup snap-1 is 24h0m0s old"},
		{name: "unverified", backups: []provider.Backup{bk("snap-1", time.Hour, true, false)},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s (backup snap-1, 1h0m0s old, is not verified)",
			wantRec: "verify backup snap-1 or take a snapshot first"},
		{name: "unverified allowed", backups: []provider.Backup{bk("snap-1", time.Hour, true, false)},
			policy: safety.BackupConfig{AllowUnverified: true}, wantOutcome: safety.Pass, wantReason: "backup snap-1 is 1h0m0s old"},
		{name: "incomplete", backups: []provider.Backup{bk("snap-1", time.Hour, false, true)},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
		{name: "from the future", backups: []provider.Backup{bk("snap-1", -time.Hour, true, true)},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
		{name: "custom max age", backups: []provider.Backup{bk("snap-1", 3*time.Hour, true, true)},
			policy: safety.BackupConfig{MaxAge: 2 * time.Hour}, wantOutcome: safety.Block, wantReason: "no complete verified backup within 2h0m0s"},
		{name: "start needs none", action: safety.ActionStart, wantOutcome: safety.Pass},
		{name: "functions need none", kind: provider.KindFunction, wantOutcome: safety.Pass},
		{name: "custom actions", action: safety.ActionStart, policy: safety.BackupConfig{Actions: []safety.Action{safety.ActionStart}},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
		{name: "custom kinds", kind: provider.KindFunction, policy: safety.BackupConfig{Kinds: []provider.Kind{provider.KindFunction}},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewBackupRule(tt.policy, catalogOf(tt.backups...))
			require.NoError(t, err)
			p := stop("i-1")
			if tt.action != "" {
				p.Action = tt.action
			}
			if tt.kind != "" {
				p.Resource.Kind = tt.kind
			}
			got, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
			if tt.wantRec != "" {
				assert.Equal(t, []string{tt.wantRec}, got.Recommendations)
			}
			if tt.wantOutcome == safety.Block {
				assert.Equal(t, safety.RiskHigh, got.Risk)
			}
		})
	}
	t.Run("catalog errors fail closed", func(t *testing.T) {
		t.Parallel()
		for _, give := range []error{provider.ErrNotFound, provider.ErrThrottled, context.DeadlineExceeded} {
			r, err := safety.NewBackupRule(safety.BackupConfig{}, provider.BackupCatalogFunc(func(context.Context, string, time.Time) ([]provider.Backup, error) {
				return nil, give
			}))
			require.NoError(t, err)
			eng, err := safety.New(safety.Config{}, []safety.Rule{r})
			require.NoError(t, err)
			d, err := eng.Check(t.Context(), stop("i-1"))
			require.ErrorIs(t, err, safety.ErrBlocked)
			require.ErrorIs(t, err, give)
			assert.Equal(t, []string{"backup"}, d.BlockingRules())
		}
	})
	t.Run("catalog returning another resource's backup fails", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewBackupRule(safety.BackupConfig{}, provider.BackupCatalogFunc(func(context.Context, string, time.Time) ([]provider.Backup, error) {
			return []provider.Backup{{ID: "s", ResourceID: "i-2", Time: t0, Complete: true, Verified: true}}, nil
		}))
		require.NoError(t, err)
		_, err = r.Check(t.Context(), stop("i-1"))
		require.Error(t, err)
	})
	t.Run("bad policy", func(t *testing.T) {
		t.Parallel()
		_, err := safety.NewBackupRule(safety.BackupConfig{}, nil)
		require.ErrorIs(t, err, provider.ErrInvalid)
		for _, p := range []safety.BackupConfig{
			{MaxAge: -time.Hour}, {Actions: []safety.Action{"reboot"}}, {Kinds: []provider.Kind{"bucket"}},
		} {
			_, err := safety.NewBackupRule(p, catalogOf())
			require.ErrorIs(t, err, provider.ErrInvalid)
		}
	})
}

// A backup counts as verified only when it was verified by the
// proposal's Now, and by a verification made after it was taken. The
// review's scenario: a complete backup of 2h ago, Verified with VerifiedAt
// 3h after Now, passed; at Now it was not verified yet. A zero VerifiedAt
// (unknown) still trusts Verified, AllowUnverified accepts either, and a
// backup taken after Now never counts.
func TestBackupRuleVerifiedByNow(t *testing.T) {
	t.Parallel()
	bk := func(id string, age, verifiedAgo time.Duration) provider.Backup {
		return provider.Backup{ID: id, ResourceID: "i-1", Time: t0.Add(-age), Complete: true,
			Verified: true, VerifiedBy: "restore-test", VerifiedAt: t0.Add(-verifiedAgo)}
	}
	tests := []struct {
		name        string
		backups     []provider.Backup
		policy      safety.BackupConfig
		wantOutcome safety.Outcome
		wantReason  string
		wantRec     string
	}{
		{name: "verified after now", backups: []provider.Backup{bk("snap-1", 2*time.Hour, -3*time.Hour)},
			wantOutcome: safety.Block,
			wantReason:  "no complete verified backup within 24h0m0s (backup snap-1, 2h0m0s old, is verified only after now, at 2026-03-02T06:00:00Z)",
			wantRec:     "verify backup snap-1 or take a snapshot first"},
		{name: "verified a nanosecond after now", backups: []provider.Backup{bk("snap-1", 2*time.Hour, -time.Nanosecond)},
			wantOutcome: safety.Block,
			wantReason:  "no complete verified backup within 24h0m0s (backup snap-1, 2h0m0s old, is verified only after now, at 2026-03-02T03:00:00.000000001Z)",
			wantRec:     "verify backup snap-1 or take a snapshot first"},
		{name: "verified before it was taken", backups: []provider.Backup{bk("snap-1", 2*time.Hour, 5*time.Hour)},
			wantOutcome: safety.Block,
			wantReason:  "no complete verified backup within 24h0m0s (backup snap-1, 2h0m0s old, has a verification at 2026-03-01T22:00:00Z, before the backup was taken at 2026-03-02T01:00:00Z)",
			wantRec:     "verify backup snap-1 or take a snapshot first"},
		{name: "verified at now", backups: []provider.Backup{bk("snap-1", 2*time.Hour, 0)},
			wantOutcome: safety.Pass, wantReason: "backup snap-1 is 2h0m0s old"},
		{name: "verified as it was taken", backups: []provider.Backup{bk("snap-1", 2*time.Hour, 2*time.Hour)},
			wantOutcome: safety.Pass, wantReason: "backup snap-1 is 2h0m0s old"},
		{name: "verification time unknown", backups: []provider.Backup{{ID: "snap-1", ResourceID: "i-1", Time: t0.Add(-2 * time.Hour), Complete: true, Verified: true}},
			wantOutcome: safety.Pass, wantReason: "backup snap-1 is 2h0m0s old"},
		{name: "older backup verified in time wins", backups: []provider.Backup{bk("old", 20*time.Hour, 19*time.Hour), bk("new", time.Hour, -time.Hour)},
			wantOutcome: safety.Pass, wantReason: "backup old is 20h0m0s old"},
		{name: "unverified allowed", backups: []provider.Backup{bk("snap-1", 2*time.Hour, -3*time.Hour)},
			policy: safety.BackupConfig{AllowUnverified: true}, wantOutcome: safety.Pass, wantReason: "backup snap-1 is 2h0m0s old"},
		{name: "taken after now", backups: []provider.Backup{bk("snap-1", -time.Hour, -time.Hour)},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
		{name: "taken a nanosecond after now", backups: []provider.Backup{bk("snap-1", -time.Nanosecond, -time.Nanosecond)},
			wantOutcome: safety.Block, wantReason: "no complete verified backup within 24h0m0s"},
		{name: "taken and verified at now", backups: []provider.Backup{bk("snap-1", 0, 0)},
			wantOutcome: safety.Pass, wantReason: "backup snap-1 is 0s old"},
		{name: "taken after now, unverified allowed", backups: []provider.Backup{bk("snap-1", -time.Hour, -time.Hour)},
			policy: safety.BackupConfig{AllowUnverified: true}, wantOutcome: safety.Block, wantReason: "no complete backup within 24h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewBackupRule(tt.policy, catalogOf(tt.backups...))
			require.NoError(t, err)
			got, err := r.Check(t.Context(), stop("i-1"))
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
			if tt.wantRec != "" {
				assert.Equal(t, []string{tt.wantRec}, got.Recommendations)
			}
		})
	}
}

func TestDependencyRule(t *testing.T) {
	t.Parallel()
	graph, err := safety.NewStaticGraph(map[string][]safety.Dependent{
		"db-1":  {{ID: "app-1", Relation: "database client", Live: true, Detail: "14 connections"}, {ID: "app-2", Relation: "database client"}},
		"app-1": {{ID: "lb-1", Relation: "load balancer target", Live: true, Detail: "120 req/min"}},
		"app-2": {{ID: "lb-1", Relation: "load balancer target", Live: true, Detail: "120 req/min"}},
		"app-3": {{ID: "lb-2", Relation: "load balancer target"}},
	})
	require.NoError(t, err)
	r, err := safety.NewDependencyRule(safety.DependencyConfig{}, graph)
	require.NoError(t, err)
	tests := []struct {
		name        string
		id          string
		action      safety.Action
		wantOutcome safety.Outcome
		wantReason  string
	}{
		{"no dependents", "app-9", safety.ActionStop, safety.Pass, ""},
		{"idle dependents only", "app-3", safety.ActionStop, safety.Pass, ""},
		{"behind a load balancer with traffic", "app-1", safety.ActionStop, safety.Block,
			"live dependents: lb-1 (load balancer target, 120 req/min)"},
		{"database with connections, transitively", "db-1", safety.ActionTerminate, safety.Block,
			"live dependents: app-1 (database client, 14 connections), lb-1 (load balancer target, 120 req/min)"},
		{"start is not checked", "db-1", safety.ActionStart, safety.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := stop(tt.id)
			p.Action = tt.action
			got, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
		})
	}
	t.Run("cycle in a static graph", func(t *testing.T) {
		t.Parallel()
		_, err := safety.NewStaticGraph(map[string][]safety.Dependent{
			"a": {{ID: "b"}}, "b": {{ID: "c"}}, "c": {{ID: "a"}},
		})
		require.ErrorIs(t, err, safety.ErrCycle)
		assert.Contains(t, err.Error(), "a → b → c → a")
		_, err = safety.NewStaticGraph(map[string][]safety.Dependent{"a": {{ID: "a"}}})
		require.ErrorIs(t, err, safety.ErrCycle)
		_, err = safety.NewStaticGraph(map[string][]safety.Dependent{"a": {{ID: ""}}})
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
	t.Run("cycle in a host graph fails closed", func(t *testing.T) {
		t.Parallel()
		edges := map[string]string{"x": "y", "y": "x"}
		g := safety.DependencyGraphFunc(func(_ context.Context, id string) ([]safety.Dependent, error) {
			return []safety.Dependent{{ID: edges[id]}}, nil
		})
		r, err := safety.NewDependencyRule(safety.DependencyConfig{}, g)
		require.NoError(t, err)
		eng, err := safety.New(safety.Config{}, []safety.Rule{r})
		require.NoError(t, err)
		d, err := eng.Check(t.Context(), stop("x"))
		require.ErrorIs(t, err, safety.ErrBlocked)
		require.ErrorIs(t, err, safety.ErrCycle)
		assert.Equal(t, []string{"dependencies"}, d.BlockingRules())
	})
	t.Run("deeper than max depth fails", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: 1}, graph)
		require.NoError(t, err)
		_, err = r.Check(t.Context(), stop("db-1"))
		require.ErrorIs(t, err, provider.ErrInvalid)
		got, err := r.Check(t.Context(), stop("app-1"))
		require.NoError(t, err, "one level is within depth 1")
		assert.Equal(t, safety.Block, got.Outcome)
	})
	t.Run("graph error fails", func(t *testing.T) {
		t.Parallel()
		down := errors.New("cmdb down")
		r, err := safety.NewDependencyRule(safety.DependencyConfig{}, safety.DependencyGraphFunc(func(context.Context, string) ([]safety.Dependent, error) {
			return nil, down
		}))
		require.NoError(t, err)
		_, err = r.Check(t.Context(), stop("i-1"))
		require.ErrorIs(t, err, down)
	})
	t.Run("bad policy", func(t *testing.T) {
		t.Parallel()
		_, err := safety.NewDependencyRule(safety.DependencyConfig{}, nil)
		require.ErrorIs(t, err, provider.ErrInvalid)
		_, err = safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: -1}, graph)
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
}

// A live edge counts even when its dependent was first reached over an
// idle one: x → app (idle) → lb (live) blocks whether x lists app or lb
// first (the walk used to mark lb seen over the idle x → lb edge and skip
// the live app → lb one).
func TestDependencyRuleLiveEdgeAfterIdleEdge(t *testing.T) {
	t.Parallel()
	for _, xDeps := range [][]safety.Dependent{
		{{ID: "app"}, {ID: "lb"}},
		{{ID: "lb"}, {ID: "app"}},
	} {
		g, err := safety.NewStaticGraph(map[string][]safety.Dependent{
			"x":   xDeps,
			"app": {{ID: "lb", Live: true, Detail: "120 req/min"}},
		})
		require.NoError(t, err)
		r, err := safety.NewDependencyRule(safety.DependencyConfig{}, g)
		require.NoError(t, err)
		got, err := r.Check(t.Context(), stop("x"))
		require.NoError(t, err)
		assert.Equal(t, safety.Block, got.Outcome, "x lists %s first", xDeps[0].ID)
		assert.Equal(t, "live dependents: lb (120 req/min)", got.Reason)
	}
}

// A dependent with several live edges is named once, with the distinct
// descriptions of its edges in text order, whichever edge the walk meets
// first.
func TestDependencyRuleMergesLiveEdgesToOneDependent(t *testing.T) {
	t.Parallel()
	for _, order := range [][]string{{"app-1", "app-2"}, {"app-2", "app-1"}} {
		g, err := safety.NewStaticGraph(map[string][]safety.Dependent{
			"db":    {{ID: order[0]}, {ID: order[1]}},
			"app-1": {{ID: "lb", Relation: "target", Live: true, Detail: "80 req/min"}},
			"app-2": {{ID: "lb", Relation: "target", Live: true, Detail: "120 req/min"}},
		})
		require.NoError(t, err)
		r, err := safety.NewDependencyRule(safety.DependencyConfig{}, g)
		require.NoError(t, err)
		got, err := r.Check(t.Context(), stop("db"))
		require.NoError(t, err)
		assert.Equal(t, "live dependents: lb (target, 120 req/min; target, 80 req/min)", got.Reason)
		assert.Equal(t, []string{"drain or detach lb first"}, got.Recommendations)
	}
}

// A graph deeper than MaxDepth fails however its lists are ordered: b,
// reached first directly from the root, lies on the path x → a → b → c
// of 3 edges, and used to be judged only by the short path x → b when x
// listed b first.
func TestDependencyRuleDepthIgnoresListOrder(t *testing.T) {
	t.Parallel()
	for _, xDeps := range [][]safety.Dependent{
		{{ID: "a"}, {ID: "b"}},
		{{ID: "b"}, {ID: "a"}},
	} {
		g, err := safety.NewStaticGraph(map[string][]safety.Dependent{
			"x": xDeps, "a": {{ID: "b"}}, "b": {{ID: "c", Live: true}},
		})
		require.NoError(t, err)
		r, err := safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: 2}, g)
		require.NoError(t, err)
		_, err = r.Check(t.Context(), stop("x"))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "x lists %s first", xDeps[0].ID)
		assert.Equal(t, "max_depth", ie.Field)
		assert.Contains(t, err.Error(), "x → a → b → c")

		r, err = safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: 3}, g)
		require.NoError(t, err)
		got, err := r.Check(t.Context(), stop("x"))
		require.NoError(t, err, "3 edges fit a depth of 3")
		assert.Equal(t, "live dependents: c", got.Reason)
	}
}

// The verdict, its reason and whether the walk fails are functions of
// the graph, not of the order of its lists: random acyclic graphs, each
// checked with every list shuffled several times and at several depths,
// get one answer.
func TestDependencyRuleIgnoresListOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	type answer struct {
		outcome safety.Outcome
		reason  string
		err     string // the failure's kind: "", "max_depth" or "cycle"
	}
	check := func(deps map[string][]safety.Dependent, maxDepth int) answer {
		g, err := safety.NewStaticGraph(deps)
		require.NoError(t, err)
		r, err := safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: maxDepth}, g)
		require.NoError(t, err)
		got, err := r.Check(t.Context(), stop("n0"))
		var ie *provider.InvalidError
		switch {
		case errors.As(err, &ie):
			return answer{err: ie.Field}
		case errors.Is(err, safety.ErrCycle):
			return answer{err: "cycle"}
		}
		require.NoError(t, err)
		return answer{outcome: got.Outcome, reason: got.Reason}
	}
	for range 300 {
		n := 2 + rng.IntN(9)
		deps := map[string][]safety.Dependent{}
		for i := range n {
			for j := i + 1; j < n; j++ { // edges point forward: no cycle
				for range rng.IntN(2) + rng.IntN(2)*rng.IntN(2) { // 0, 1 or 2 edges
					deps[fmt.Sprintf("n%d", i)] = append(deps[fmt.Sprintf("n%d", i)], safety.Dependent{
						ID: fmt.Sprintf("n%d", j), Live: rng.IntN(4) == 0, Relation: []string{"", "client", "target"}[rng.IntN(3)],
					})
				}
			}
		}
		for _, maxDepth := range []int{1, 2, 3, 8} {
			want := check(deps, maxDepth)
			for range 6 {
				shuffled := make(map[string][]safety.Dependent, len(deps))
				for id, ds := range deps {
					ds = slices.Clone(ds)
					rng.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
					shuffled[id] = ds
				}
				require.Equal(t, want, check(shuffled, maxDepth), "graph %v, max depth %d, lists shuffled to %v", deps, maxDepth, shuffled)
			}
		}
	}
}

func TestGradualRule(t *testing.T) {
	t.Parallel()
	def, err := safety.NewGradualRule(safety.GradualConfig{})
	require.NoError(t, err)
	tests := []struct {
		name     string
		from, to int
		wantOK   bool
		wantRec  string
	}{
		{"+50%", 4, 6, true, ""},
		{"-50%", 10, 5, true, ""},
		{"+75%", 4, 7, false, "scale in steps: 4 → 6 → 7"},
		{"-60%", 10, 4, false, "scale in steps: 10 → 5 → 4"},
		{"doubling", 8, 16, false, "scale in steps: 8 → 12 → 16"},
		{"from one", 1, 2, true, ""},
		{"from zero", 0, 1, true, ""},
		{"from zero too far", 0, 3, false, "scale in steps: 0 → 1 → 2 → 3"},
		{"to zero from one", 1, 0, true, ""},
		{"to zero from three", 3, 0, false, "scale in steps: 3 → 2 → 1 → 0"},
		{"no change", 5, 5, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := def.Check(t.Context(), scale("g-1", tt.from, tt.to))
			require.NoError(t, err)
			if tt.wantOK {
				assert.Equal(t, safety.Pass, got.Outcome)
				return
			}
			assert.Equal(t, safety.Block, got.Outcome)
			assert.Equal(t, safety.RiskMedium, got.Risk)
			assert.Equal(t, []string{tt.wantRec}, got.Recommendations)
		})
	}
	t.Run("stop is not a capacity change", func(t *testing.T) {
		t.Parallel()
		got, err := def.Check(t.Context(), stop("i-1"))
		require.NoError(t, err)
		assert.Equal(t, safety.Pass, got.Outcome)
	})
	t.Run("custom", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewGradualRule(safety.GradualConfig{MaxStepFraction: 0.25, MinStep: 2})
		require.NoError(t, err)
		assert.Equal(t, 2, r.MaxStep(4))
		assert.Equal(t, 5, r.MaxStep(20))
		got, err := r.Check(t.Context(), scale("g-1", 20, 26))
		require.NoError(t, err)
		assert.Equal(t, safety.Block, got.Outcome)
	})
	t.Run("a product that floats just below a whole step", func(t *testing.T) {
		t.Parallel()
		// 0.29 × 100 is 28.999999999999996 in float64: the step is 29
		// instances, as written, not 28 (and 0.07 × 100, 7.000000000000001,
		// stays 7).
		r, err := safety.NewGradualRule(safety.GradualConfig{MaxStepFraction: 0.29})
		require.NoError(t, err)
		assert.Equal(t, 29, r.MaxStep(100))
		got, err := r.Check(t.Context(), scale("g-1", 100, 71))
		require.NoError(t, err)
		assert.Equal(t, safety.Pass, got.Outcome, "%+v", got)
		r, err = safety.NewGradualRule(safety.GradualConfig{MaxStepFraction: 0.07})
		require.NoError(t, err)
		assert.Equal(t, 7, r.MaxStep(100))
	})
	t.Run("a fraction that means no limit", func(t *testing.T) {
		t.Parallel()
		// 1e18 × current is beyond every int: converted as it was, it
		// became math.MinInt64 on amd64, and the rule allowed MinStep (1)
		// and blocked 10 → 100. It saturates instead, as the engine's
		// planner does (scaling's maxStepFunc).
		r, err := safety.NewGradualRule(safety.GradualConfig{MaxStepFraction: 1e18})
		require.NoError(t, err)
		assert.Equal(t, math.MaxInt32, r.MaxStep(10))
		assert.Equal(t, 1, r.MaxStep(0), "from zero: MinStep")
		got, err := r.Check(t.Context(), scale("g-1", 10, 100))
		require.NoError(t, err)
		assert.Equal(t, safety.Pass, got.Outcome, "%+v", got)
	})
	t.Run("bad policy", func(t *testing.T) {
		t.Parallel()
		for _, p := range []safety.GradualConfig{{MaxStepFraction: -0.1}, {MaxStepFraction: nan()}, {MinStep: -1}} {
			_, err := safety.NewGradualRule(p)
			require.ErrorIs(t, err, provider.ErrInvalid)
		}
	})
}

func TestLimitsRule(t *testing.T) {
	t.Parallel()
	hist := &safety.MemoryHistory{}
	require.NoError(t, hist.Record("web", t0.Add(-30*time.Minute), 2))
	require.NoError(t, hist.Record("web", t0.Add(-2*time.Hour), 5)) // outside the window
	require.NoError(t, hist.Record("g-1", t0.Add(-10*time.Minute), 2))
	r, err := safety.NewLimitsRule(safety.LimitsConfig{}, hist)
	require.NoError(t, err)
	inFleet := func(size int) safety.Proposal {
		p := stop("i-1")
		p.Fleet, p.FleetSize = "web", size
		return p
	}
	tests := []struct {
		name        string
		give        safety.Proposal
		wantOutcome safety.Outcome
		wantReason  string
	}{
		{"within bounds", scale("g-2", 4, 3), safety.Pass, ""},
		{"below min", scale("g-2", 1, 0), safety.Block, "desired 0 is below the minimum capacity 1"},
		{"above max", scale("g-2", 8, 11), safety.Block, "desired 11 is above the maximum capacity 10"},
		{"fleet share ok", inFleet(10), safety.Pass, ""},
		{"fleet share exactly half", inFleet(6), safety.Pass, ""},
		{"fleet share exceeded", inFleet(5), safety.Block,
			`fleet "web": 2 of 5 acted on in the last 1h0m0s, 1 more would make 60% (limit 50%)`},
		{"unknown fleet size", inFleet(0), safety.Block, `fleet "web" has unknown size: cannot bound the share acted on`},
		{"lone resource not share-limited", stop("i-9"), safety.Pass, ""},
		{"group is its own fleet", scale("g-1", 8, 6), safety.Pass, ""},
		{"group share exceeded", scale("g-1", 6, 4), safety.Block,
			`fleet "g-1": 2 of 6 acted on in the last 1h0m0s, 2 more would make 67% (limit 50%)`},
		{"scale out not share-limited", scale("g-1", 2, 3), safety.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Check(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
		})
	}
	t.Run("scale to zero allowed", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewLimitsRule(safety.LimitsConfig{AllowZero: true, MaxCapacity: 50, NoFleetShare: true}, nil)
		require.NoError(t, err)
		got, err := r.Check(t.Context(), scale("g-2", 1, 0))
		require.NoError(t, err)
		assert.Equal(t, safety.Pass, got.Outcome)
		got, err = r.Check(t.Context(), scale("g-2", 30, 45))
		require.NoError(t, err)
		assert.Equal(t, safety.Pass, got.Outcome)
	})
	t.Run("history error fails", func(t *testing.T) {
		t.Parallel()
		down := errors.New("etcd down")
		r, err := safety.NewLimitsRule(safety.LimitsConfig{}, safety.ActionHistoryFunc(func(context.Context, string, time.Time) (int, error) {
			return 0, down
		}))
		require.NoError(t, err)
		_, err = r.Check(t.Context(), inFleet(10))
		require.ErrorIs(t, err, down)
	})
	t.Run("bad policy", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			give  safety.LimitsConfig
			field string
		}{
			{safety.LimitsConfig{MinCapacity: -1}, "min_capacity"},
			{safety.LimitsConfig{MaxCapacity: -3}, "max_capacity"},
			{safety.LimitsConfig{MinCapacity: 20}, "min_capacity"},
			{safety.LimitsConfig{MaxFleetShare: 1.5}, "max_fleet_share"},
			{safety.LimitsConfig{MaxFleetShare: -0.5}, "max_fleet_share"},
			{safety.LimitsConfig{MaxFleetShare: nan()}, "max_fleet_share"},
			{safety.LimitsConfig{Window: -time.Minute}, "window"},
		}
		for _, tt := range tests {
			_, err := safety.NewLimitsRule(tt.give, nil)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		}
		_, err := safety.NewLimitsRule(safety.LimitsConfig{MaxFleetShare: 1}, &safety.MemoryHistory{})
		require.NoError(t, err, "a share of 1 (the whole fleet) is allowed")
		h := &safety.MemoryHistory{}
		require.ErrorIs(t, h.Record("web", t0, 0), provider.ErrInvalid)
		require.ErrorIs(t, h.Record("web", time.Time{}, 1), provider.ErrInvalid)
	})
}

func TestMemoryHistoryPrunes(t *testing.T) {
	t.Parallel()
	h := &safety.MemoryHistory{Keep: time.Hour}
	require.NoError(t, h.Record("web", t0, 3))
	require.NoError(t, h.Record("web", t0.Add(90*time.Minute), 1))
	_, err := h.ActedOn(t.Context(), "web", t0.Add(-time.Hour))
	require.ErrorIs(t, err, provider.ErrInvalid, "a since reaching the pruned record is refused, not undercounted")
	n, err := h.ActedOn(t.Context(), "web", t0.Add(time.Nanosecond))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the record older than Keep before the newest is gone")
}

// A MemoryHistory that keeps less than the limits window would forget
// actions the fleet share counts. The review's scenario: a 48h window over
// the default Keep (24h); 5 of 10 stopped 30h ago, 1 a minute ago (whose
// Record pruned the 30h-old one), and one more stop passed as 2 of 10
// instead of 7. NewLimitsRule and Builtin refuse such a history, naming
// history.keep; with Keep set to the window the scenario blocks.
func TestLimitsRuleRefusesHistoryShorterThanWindow(t *testing.T) {
	t.Parallel()
	cfg := safety.LimitsConfig{Window: 48 * time.Hour}
	var ie *provider.InvalidError
	_, err := safety.NewLimitsRule(cfg, &safety.MemoryHistory{})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history.keep", ie.Field)
	assert.Equal(t, 24*time.Hour, ie.Value, "the effective Keep")
	assert.Contains(t, err.Error(), "set MemoryHistory.Keep to 48h0m0s or more")
	_, err = safety.NewLimitsRule(cfg, &safety.MemoryHistory{Keep: 47 * time.Hour})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = safety.NewLimitsRule(safety.LimitsConfig{}, &safety.MemoryHistory{Keep: -time.Hour})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history.keep", ie.Field, "a negative Keep is not a silent 24h")
	_, err = safety.NewLimitsRule(safety.LimitsConfig{}, (*safety.MemoryHistory)(nil))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history", ie.Field, "a nil *MemoryHistory would panic on every Check")
	_, err = safety.NewLimitsRule(safety.LimitsConfig{Window: 24 * time.Hour}, &safety.MemoryHistory{})
	require.NoError(t, err, "the default Keep covers a 24h window")

	_, err = safety.Builtin(safety.BuiltinConfig{Limits: cfg},
		safety.BuiltinSources{Backups: catalogOf(), History: &safety.MemoryHistory{}})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "limits.history.keep", ie.Field)

	h := &safety.MemoryHistory{Keep: 48 * time.Hour}
	r, err := safety.NewLimitsRule(cfg, h)
	require.NoError(t, err)
	require.NoError(t, h.Record("web", t0.Add(-30*time.Hour), 5))
	require.NoError(t, h.Record("web", t0.Add(-time.Minute), 1))
	p := stop("i-7")
	p.Fleet, p.FleetSize = "web", 10
	got, err := r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, `fleet "web": 6 of 10 acted on in the last 48h0m0s, 1 more would make 70% (limit 50%)`, got.Reason)
}

// A MemoryHistory whose Keep is lowered below the window after the rule
// was made fails the rule (the engine blocks) instead of undercounting.
func TestLimitsRuleFailsWhenHistoryKeepLowered(t *testing.T) {
	t.Parallel()
	h := &safety.MemoryHistory{Keep: 2 * time.Hour}
	r, err := safety.NewLimitsRule(safety.LimitsConfig{Window: 2 * time.Hour}, h)
	require.NoError(t, err)
	h.Keep = time.Hour
	p := stop("i-7")
	p.Fleet, p.FleetSize = "web", 10
	_, err = r.Check(t.Context(), p)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history.keep", ie.Field)
	eng, err := safety.New(safety.Config{}, []safety.Rule{r})
	require.NoError(t, err)
	d, err := eng.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrBlocked)
	assert.Equal(t, []string{"limits"}, d.BlockingRules())
}

func TestHealthRule(t *testing.T) {
	t.Parallel()
	healthy := safety.HealthCheckerFunc(func(context.Context, safety.Proposal) error { return nil })
	sick := func(msg string) safety.HealthChecker {
		return safety.HealthCheckerFunc(func(context.Context, safety.Proposal) error { return errors.New(msg) })
	}
	tests := []struct {
		name        string
		checks      []safety.HealthCheck
		action      safety.Action
		wantOutcome safety.Outcome
		wantReason  string
	}{
		{"all healthy", []safety.HealthCheck{{Name: "db", Checker: healthy}, {Name: "lb", Checker: healthy}}, safety.ActionStop, safety.Pass, ""},
		{"one sick", []safety.HealthCheck{{Name: "db", Checker: sick("replica lag 40s")}, {Name: "lb", Checker: healthy}},
			safety.ActionStop, safety.Block, "unhealthy dependencies: db: replica lag 40s"},
		{"two sick", []safety.HealthCheck{{Name: "db", Checker: sick("down")}, {Name: "payments-api", Checker: sick("5xx 12%")}},
			safety.ActionStop, safety.Block, "unhealthy dependencies: db: down; payments-api: 5xx 12%"},
		{"start not checked", []safety.HealthCheck{{Name: "db", Checker: sick("down")}}, safety.ActionStart, safety.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewHealthRule(safety.HealthConfig{}, tt.checks)
			require.NoError(t, err)
			p := stop("i-1")
			p.Action = tt.action
			got, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
		})
	}
	t.Run("cancelled check is a failure", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewHealthRule(safety.HealthConfig{}, []safety.HealthCheck{{Name: "db", Checker: safety.HealthCheckerFunc(
			func(ctx context.Context, _ safety.Proposal) error { return ctx.Err() })}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = r.Check(ctx, stop("i-1"))
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("bad config", func(t *testing.T) {
		t.Parallel()
		for _, c := range [][]safety.HealthCheck{
			{{Name: "", Checker: healthy}}, {{Name: "db"}}, {{Name: "db", Checker: healthy}, {Name: "db", Checker: healthy}},
		} {
			_, err := safety.NewHealthRule(safety.HealthConfig{}, c)
			require.ErrorIs(t, err, provider.ErrInvalid)
		}
		_, err := safety.NewHealthRule(safety.HealthConfig{Actions: []safety.Action{"x"}}, nil)
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
}

func TestRollbackRule(t *testing.T) {
	t.Parallel()
	def, err := safety.NewRollbackRule(safety.RollbackConfig{}, nil)
	require.NoError(t, err)
	refuse, err := safety.NewRollbackRule(safety.RollbackConfig{Irreversible: safety.Block}, safety.RestorerFunc(func(_ context.Context, p safety.Proposal) error {
		if p.Resource.ID == "i-gone" {
			return errors.New("launch template deleted")
		}
		return nil
	}))
	require.NoError(t, err)
	resize := func(known bool) safety.Proposal {
		p := stop("i-1")
		p.Action = safety.ActionResize
		p.TargetSize = provider.Size{InstanceType: "m5.large"}
		if known {
			p.CurrentSize = provider.Size{InstanceType: "m5.xlarge"}
		}
		return p
	}
	term := stop("i-1")
	term.Action = safety.ActionTerminate
	tests := []struct {
		name        string
		rule        *safety.RollbackRule
		give        safety.Proposal
		wantOutcome safety.Outcome
		wantRisk    safety.Risk
	}{
		{"stop is reversible", def, stop("i-1"), safety.Pass, safety.RiskNone},
		{"terminate needs approval", def, term, safety.RequireApproval, safety.RiskHigh},
		{"terminate blocked by policy", refuse, term, safety.Block, safety.RiskHigh},
		{"resize with recorded size", def, resize(true), safety.Pass, safety.RiskNone},
		{"resize without recorded size", def, resize(false), safety.Block, safety.RiskMedium},
		{"scale has its current capacity", def, scale("g-1", 4, 3), safety.Pass, safety.RiskNone},
		{"restorer confirms", refuse, stop("i-1"), safety.Pass, safety.RiskNone},
		{"restorer refuses", refuse, stop("i-gone"), safety.Block, safety.RiskMedium},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rule.Check(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantRisk, got.Risk)
		})
	}
	_, err = safety.NewRollbackRule(safety.RollbackConfig{Irreversible: "9"}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// A limits rule built without a history used to turn the fleet-share
// limit off silently, though the defaults promise at most half a fleet an
// hour: a host that took Builtin's defaults could stop a whole fleet.
// Now a missing history is an error naming it, unless NoFleetShare says
// the limit is meant to be off (and then a history is refused, since it
// would never be read).
func TestLimitsRuleNeedsHistoryOrNoFleetShare(t *testing.T) {
	t.Parallel()
	var ie *provider.InvalidError
	_, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: catalogOf()})
	require.ErrorAs(t, err, &ie, "the defaults without a history must not drop the fleet-share limit")
	assert.Equal(t, "limits.history", ie.Field)
	assert.Contains(t, err.Error(), "at most 50% of a fleet per 1h0m0s")
	assert.Contains(t, err.Error(), "no_fleet_share")
	_, err = safety.NewLimitsRule(safety.LimitsConfig{}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history", ie.Field)
	_, err = safety.NewLimitsRule(safety.LimitsConfig{}, safety.ActionHistoryFunc(nil))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history", ie.Field, "a nil func is no history")

	off := safety.LimitsConfig{NoFleetShare: true}
	r, err := safety.NewLimitsRule(off, nil)
	require.NoError(t, err)
	p := stop("i-1")
	p.Fleet, p.FleetSize = "web", 1
	got, err := r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, got.Outcome, "the share limit is off, as asked")
	got, err = r.Check(t.Context(), scale("g-1", 4, 11))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome, "capacity bounds still apply")
	_, err = safety.Builtin(safety.BuiltinConfig{Limits: off}, safety.BuiltinSources{Backups: catalogOf()})
	require.NoError(t, err)

	_, err = safety.NewLimitsRule(off, &safety.MemoryHistory{})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history", ie.Field, "a history with the limit off would never be read")
	for _, tt := range []struct {
		give  safety.LimitsConfig
		field string
	}{
		{safety.LimitsConfig{NoFleetShare: true, MaxFleetShare: 0.3}, "max_fleet_share"},
		{safety.LimitsConfig{NoFleetShare: true, Window: time.Hour}, "window"},
	} {
		require.ErrorAs(t, tt.give.Validate(), &ie)
		assert.Equal(t, tt.field, ie.Field)
	}
}

// Proposal.FleetPlanned counts as acted on: a dry run's own would-act
// decisions bound the rest of the run as recorded actions would. A
// negative count is refused, naming the field.
func TestLimitsRuleCountsFleetPlanned(t *testing.T) {
	t.Parallel()
	hist := &safety.MemoryHistory{}
	require.NoError(t, hist.Record("web", t0.Add(-time.Minute), 1))
	r, err := safety.NewLimitsRule(safety.LimitsConfig{}, hist)
	require.NoError(t, err)
	p := stop("i-1")
	p.Fleet, p.FleetSize = "web", 6
	p.FleetPlanned = 1
	got, err := r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, got.Outcome, "1 recorded + 1 planned + 1 = 3 of 6")
	p.FleetPlanned = 2
	got, err = r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, `fleet "web": 3 of 6 acted on in the last 1h0m0s (2 of them planned, not yet recorded), 1 more would make 67% (limit 50%)`, got.Reason)
	p.FleetPlanned = -1
	var ie *provider.InvalidError
	_, err = r.Check(t.Context(), p)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "fleet_planned", ie.Field)
	require.ErrorAs(t, p.Validate(), &ie)
	assert.Equal(t, "fleet_planned", ie.Field)
	q := p
	q.FleetPlanned = 5
	assert.Equal(t, p.Fingerprint(), q.Fingerprint(), "an approval does not depend on what else a run plans")
}

// A count the limits rule adds to cannot wrap around: a history that
// saturates its count at math.MaxInt (as etcdhistory does), a
// MemoryHistory whose records sum past it, or a FleetPlanned near it made
// the sum negative, and the share passed (the rule failed open). A
// negative count is not a count: the rule fails, naming it.
func TestLimitsRuleCountsDoNotWrap(t *testing.T) {
	t.Parallel()
	inFleet := func(planned int) safety.Proposal {
		p := stop("i-1")
		p.Fleet, p.FleetSize, p.FleetPlanned = "web", 10, planned
		return p
	}
	counting := func(n int) safety.ActionHistory {
		return safety.ActionHistoryFunc(func(context.Context, string, time.Time) (int, error) { return n, nil })
	}
	mem := &safety.MemoryHistory{}
	require.NoError(t, mem.Record("web", t0.Add(-time.Minute), math.MaxInt))
	require.NoError(t, mem.Record("web", t0.Add(-time.Minute), 1))
	n, err := mem.ActedOn(t.Context(), "web", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, math.MaxInt, n, "a MemoryHistory's count saturates")
	tests := []struct {
		name    string
		history safety.ActionHistory
		planned int
	}{
		{"saturated count", counting(math.MaxInt), 0},
		{"count and planned", counting(1), math.MaxInt},
		{"saturated count and planned", counting(math.MaxInt), math.MaxInt},
		{"memory history", mem, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewLimitsRule(safety.LimitsConfig{}, tt.history)
			require.NoError(t, err)
			got, err := r.Check(t.Context(), inFleet(tt.planned))
			require.NoError(t, err)
			assert.Equal(t, safety.Block, got.Outcome, got.Reason)
		})
	}
	t.Run("negative count", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewLimitsRule(safety.LimitsConfig{}, counting(-3))
		require.NoError(t, err)
		_, err = r.Check(t.Context(), inFleet(0))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "acted_on", ie.Field)
		assert.Contains(t, err.Error(), `fleet "web"`)
	})
}
