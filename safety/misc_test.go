package safety_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func TestBuiltin(t *testing.T) {
	t.Parallel()
	names := func(rs []safety.Rule) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.(safety.Namer).Name())
		}
		return out
	}
	graph, err := safety.NewStaticGraph(nil)
	require.NoError(t, err)
	all, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{
		Backups: catalogOf(), Graph: graph, History: &safety.MemoryHistory{},
		Health: []safety.HealthCheck{{Name: "db", Checker: safety.HealthCheckerFunc(func(context.Context, safety.Proposal) error { return nil })}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"critical", "dependencies", "backup", "business_hours", "gradual", "limits", "health", "rollback"}, names(all))
	var inline []string
	for _, r := range all {
		if in, ok := r.(safety.Inliner); ok && in.Inline() {
			inline = append(inline, r.(safety.Namer).Name())
		}
	}
	assert.Equal(t, []string{"critical", "dependencies", "business_hours", "gradual", "limits", "rollback"}, inline,
		"rules over in-memory sources run inline; the catalog and health checks are host functions")

	some, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: catalogOf(), History: &safety.MemoryHistory{}})
	require.NoError(t, err)
	assert.Equal(t, []string{"critical", "backup", "business_hours", "gradual", "limits", "rollback"}, names(some))

	tests := []struct {
		name  string
		cfg   safety.BuiltinConfig
		src   safety.BuiltinSources
		field string
	}{
		{"no catalog", safety.BuiltinConfig{}, safety.BuiltinSources{}, "sources.backups"},
		{"critical", safety.BuiltinConfig{Critical: safety.CriticalConfig{Roles: []string{""}}}, safety.BuiltinSources{Backups: catalogOf()}, "critical.roles"},
		{"backup", safety.BuiltinConfig{Backup: safety.BackupConfig{MaxAge: -1}}, safety.BuiltinSources{Backups: catalogOf()}, "backup.max_age"},
		{"hours", safety.BuiltinConfig{BusinessHours: safety.BusinessHoursConfig{TimeZone: "Nowhere/City"}}, safety.BuiltinSources{Backups: catalogOf()}, "business_hours.time_zone"},
		{"gradual", safety.BuiltinConfig{Gradual: safety.GradualConfig{MinStep: -2}}, safety.BuiltinSources{Backups: catalogOf()}, "gradual.min_step"},
		{"limits", safety.BuiltinConfig{Limits: safety.LimitsConfig{MaxCapacity: -1}}, safety.BuiltinSources{Backups: catalogOf()}, "limits.max_capacity"},
		{"dependencies without graph", safety.BuiltinConfig{Dependencies: safety.DependencyConfig{MaxDepth: -1}}, safety.BuiltinSources{Backups: catalogOf()}, "dependencies.max_depth"},
		{"health without checks", safety.BuiltinConfig{Health: safety.HealthConfig{Actions: []safety.Action{"x"}}}, safety.BuiltinSources{Backups: catalogOf()}, "health.actions[0]"},
		{"rollback", safety.BuiltinConfig{Rollback: safety.RollbackConfig{Irreversible: "7"}}, safety.BuiltinSources{Backups: catalogOf()}, "rollback.irreversible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := safety.Builtin(tt.cfg, tt.src)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func TestBuiltinConfigJSON(t *testing.T) {
	t.Parallel()
	const doc = `{
		"critical": {"environments": ["prod"], "actions": {"stop": "block", "scale_in": "pass"}},
		"backup": {"max_age": 43200000000000},
		"business_hours": {"hours": "Mon-Sat 08:00-20:00", "time_zone": "America/New_York", "outcome": "require_approval",
			"holidays": [{"date": "12-25", "name": "Christmas"}]},
		"limits": {"min_capacity": 2, "max_capacity": 40, "max_fleet_share": 0.25, "window": 7200000000000}
	}`
	var cfg safety.BuiltinConfig
	require.NoError(t, json.Unmarshal([]byte(doc), &cfg))
	assert.Equal(t, safety.Block, cfg.Critical.Actions[safety.ActionStop])
	assert.Equal(t, safety.Pass, cfg.Critical.Actions[safety.ActionScaleIn])
	assert.Equal(t, 12*time.Hour, cfg.Backup.MaxAge)
	assert.Equal(t, safety.RequireApproval, cfg.BusinessHours.Outcome)
	assert.InDelta(t, 0.25, cfg.Limits.MaxFleetShare, 1e-12)
	_, err := safety.Builtin(cfg, safety.BuiltinSources{Backups: catalogOf(), History: &safety.MemoryHistory{}})
	require.NoError(t, err)

	var bad safety.BuiltinConfig
	err = json.Unmarshal([]byte(`{"critical": {"actions": {"stop": "maybe"}}}`), &bad)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestRiskAndOutcomeText(t *testing.T) {
	t.Parallel()
	for i, r := range []safety.Risk{safety.RiskNone, safety.RiskLow, safety.RiskMedium, safety.RiskHigh} {
		assert.Equal(t, i, r.Level(), "levels rank none < low < medium < high")
		b, err := r.MarshalText()
		require.NoError(t, err)
		var back safety.Risk
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, r, back)
	}
	assert.Equal(t, 0, safety.Risk("").Level(), "unset ranks as none")
	assert.Equal(t, -1, safety.Risk("extreme").Level())
	for _, o := range []safety.Outcome{safety.Pass, safety.RequireApproval, safety.Block} {
		b, err := o.MarshalText()
		require.NoError(t, err)
		var back safety.Outcome
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, o, back)
	}
	_, err := safety.Risk("9").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = safety.Outcome("-1").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Equal(t, "9", safety.Risk("9").String())
	assert.Equal(t, "-1", safety.Outcome("-1").String())
	var r safety.Risk
	require.ErrorIs(t, r.UnmarshalText([]byte("extreme")), provider.ErrInvalid)
}

// Every enum of the package is a typed string: known values round-trip
// through JSON, the empty value is unset (encodes as "" and decodes back,
// but does not validate), and decoding an unknown name fails naming it
// and leaves the value unchanged.
func TestEnumsText(t *testing.T) {
	t.Parallel()
	type enum interface {
		String() string
		Validate() error
		MarshalText() ([]byte, error)
	}
	tests := []struct {
		name   string
		known  []enum
		decode func(b []byte) (enum, error)
	}{
		{"action", []enum{safety.ActionStart, safety.ActionStop, safety.ActionTerminate, safety.ActionResize, safety.ActionScaleIn, safety.ActionScaleOut},
			func(b []byte) (enum, error) { v := safety.ActionStop; err := json.Unmarshal(b, &v); return v, err }},
		{"outcome", []enum{safety.Pass, safety.RequireApproval, safety.Block},
			func(b []byte) (enum, error) { v := safety.Block; err := json.Unmarshal(b, &v); return v, err }},
		{"risk", []enum{safety.RiskNone, safety.RiskLow, safety.RiskMedium, safety.RiskHigh},
			func(b []byte) (enum, error) { v := safety.RiskHigh; err := json.Unmarshal(b, &v); return v, err }},
		{"kind", []enum{safety.AuditDecision, safety.AuditApprovalRequested, safety.AuditApprovalApproved, safety.AuditApprovalDenied,
			safety.AuditApprovalExpired, safety.AuditApprovalCancelled, safety.AuditApprovalExecuted,
			safety.AuditApprovalClaimed, safety.AuditApprovalReleased},
			func(b []byte) (enum, error) { v := safety.AuditDecision; err := json.Unmarshal(b, &v); return v, err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range tt.known {
				require.NoError(t, v.Validate())
				b, err := json.Marshal(v)
				require.NoError(t, err)
				assert.JSONEq(t, `"`+v.String()+`"`, string(b))
				back, err := tt.decode(b)
				require.NoError(t, err)
				assert.Equal(t, v, back)
			}
			before, err := tt.decode([]byte(`null`)) // JSON null leaves the preset value
			require.NoError(t, err)
			got, err := tt.decode([]byte(`"bogus"`))
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.name, ie.Field)
			assert.Equal(t, "bogus", ie.Value)
			assert.Equal(t, before, got, "a refused value leaves the destination unchanged")
			unset, err := tt.decode([]byte(`""`))
			require.NoError(t, err)
			assert.Empty(t, unset.String())
			require.ErrorIs(t, unset.Validate(), provider.ErrInvalid, "unset does not validate")
			b, err := unset.MarshalText()
			require.NoError(t, err)
			assert.Empty(t, b)
		})
	}
}

func TestDecisionJSON(t *testing.T) {
	t.Parallel()
	eng, err := safety.New(safety.Config{}, []safety.Rule{safety.Named("bad", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{}, fmt.Errorf("catalog timeout")
	}))})
	require.NoError(t, err)
	d, _ := eng.Check(t.Context(), stop("i-1"))
	b, err := json.Marshal(d)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "block", got["outcome"])
	assert.Equal(t, "high", got["risk"])
	blocking := got["blocking"].([]any)[0].(map[string]any)
	assert.Equal(t, "bad", blocking["rule"])
	assert.Equal(t, "safety: rule bad failed: catalog timeout", blocking["error"])
}

func TestBlockedErrorMessage(t *testing.T) {
	t.Parallel()
	eng, err := safety.New(safety.Config{}, []safety.Rule{
		fixed("a", safety.Result{Outcome: safety.Block, Reason: "first"}),
		fixed("b", safety.Result{Outcome: safety.Block, Reason: "second"}),
	})
	require.NoError(t, err)
	d, err := eng.Check(t.Context(), stop("i-1"))
	require.EqualError(t, err, `safety: blocked stop of "i-1": a: first; b: second`)
	assert.Equal(t, "blocked: a: first; b: second", d.Summary())

	eng, err = safety.New(safety.Config{}, []safety.Rule{fixed("c", safety.Result{Outcome: safety.RequireApproval, Reason: "owner"})})
	require.NoError(t, err)
	d, err = eng.Check(t.Context(), stop("i-1"))
	require.EqualError(t, err, `safety: blocked stop of "i-1": approval required (c: owner)`)
	assert.Equal(t, "approval required: c: owner", d.Summary())
	assert.NoError(t, safety.Decision{Allowed: true}.Err())
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	p := scale("g-1", 4, 6)
	fp := p.Fingerprint()
	assert.Len(t, fp, 64)
	same := p
	same.Now, same.Requester, same.Reason, same.ID = p.Now.Add(time.Hour), "bob", "other words", "x"
	same.Resource.Tags = map[string]string{"k": "v"}
	assert.Equal(t, fp, same.Fingerprint(), "who, when and why are not bound")
	changes := []func(*safety.Proposal){
		func(q *safety.Proposal) { q.Target.Desired = 5 },
		func(q *safety.Proposal) { q.Target.Max = 99 },
		func(q *safety.Proposal) { q.Current.Desired = 3 },
		func(q *safety.Proposal) { q.Resource.ID = "g-2" },
		func(q *safety.Proposal) { q.Resource.Region = "eu-west-1" },
		func(q *safety.Proposal) { q.Action = safety.ActionScaleIn },
		func(q *safety.Proposal) { q.TargetSize = provider.Size{VCPU: 2} },
		func(q *safety.Proposal) { q.TargetSize = provider.Size{VCPU: math.NaN()} },
	}
	seen := map[string]int{fp: -1}
	for i, c := range changes {
		q := p
		c(&q)
		got := q.Fingerprint()
		prev, dup := seen[got]
		assert.False(t, dup, "change %d collides with %d", i, prev)
		seen[got] = i
	}
	// Field boundaries are unambiguous: moving a character between
	// adjacent strings changes the fingerprint.
	a, b := stop("ab"), stop("a")
	a.Resource.Provider, b.Resource.Provider = "c", "bc"
	assert.NotEqual(t, a.Fingerprint(), b.Fingerprint())
}

func TestDependencyLargeGraph(t *testing.T) {
	t.Parallel()
	// A diamond lattice: 200 layers of 5 nodes, each depending on every
	// node of the next layer. Walking it must stay linear, not
	// exponential, and report each live dependent once.
	deps := map[string][]safety.Dependent{}
	id := func(l, k int) string { return fmt.Sprintf("n%d-%d", l, k) }
	for l := range 200 {
		for k := range 5 {
			for j := range 5 {
				deps[id(l, k)] = append(deps[id(l, k)], safety.Dependent{ID: id(l+1, j), Live: l == 150})
			}
		}
	}
	g, err := safety.NewStaticGraph(deps)
	require.NoError(t, err)
	r, err := safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: 500}, g)
	require.NoError(t, err)
	got, err := r.Check(t.Context(), stop(id(0, 0)))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Len(t, got.Factors, 5, "the five live nodes of layer 151, once each")

	deps[id(200, 3)] = []safety.Dependent{{ID: id(100, 1)}}
	_, err = safety.NewStaticGraph(deps)
	require.ErrorIs(t, err, safety.ErrCycle)
}

func TestAuditEventJSONRoundTrip(t *testing.T) {
	t.Parallel()
	// A shared audit log (etcd) and the monitor keep events as JSON.
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, ev := range []safety.AuditEvent{
		{Time: at, Kind: safety.AuditDecision, Actor: "reaper", ResourceID: "i-1", Action: safety.ActionStop,
			ProposalID: "p-1", Outcome: safety.Block, Risk: safety.RiskHigh, Rules: []string{"backup", "critical"}, Reason: "blocked: ..."},
		{Time: at, Kind: safety.AuditApprovalApproved, Actor: "alice", ResourceID: "g-1", Action: safety.ActionScaleIn,
			ApprovalID: "apr-1", From: "pending", To: "approved", Risk: safety.RiskMedium},
	} {
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		var back safety.AuditEvent
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, ev, back)
	}
}
