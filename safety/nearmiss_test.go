package safety_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// TestCriticalRuleNearMisses checks that every critical label is
// recognised however it is spelt: surrounding or odd white space, case,
// invisible characters, compatibility forms, separators and the default
// aliases (prod, prd, live; db; lb, loadbalancer; monitor), and the roles
// standby and replica, which have none. The negative
// controls pin that the comparison is exact on the normalised form:
// "preprod" is not "prod".
func TestCriticalRuleNearMisses(t *testing.T) {
	t.Parallel()
	def, err := safety.NewCriticalRule(safety.CriticalConfig{})
	require.NoError(t, err)
	env := func(s string) provider.Resource { r := instance("i-1"); r.Environment = s; return r }
	role := func(s string) provider.Resource { r := instance("i-1"); r.Role = s; return r }
	crit := func(s string) provider.Resource {
		r := instance("i-1")
		r.Criticality = provider.Criticality(s)
		return r
	}
	kind := func(s string) provider.Resource {
		r := instance("i-1")
		r.Role = ""
		r.Kind = provider.Kind(s)
		return r
	}
	tests := []struct {
		name     string
		give     provider.Resource
		critical bool
	}{
		{"environment trailing space", env("production "), true},
		{"environment leading space", env(" production"), true},
		{"environment upper case", env("PRODUCTION"), true},
		{"environment newline", env("Production\n"), true},
		{"environment no-break space", env("production\u00a0"), true},
		{"environment zero-width space", env("produc\u200btion"), true},
		{"environment fullwidth", env("ｐｒｏｄｕｃｔｉｏｎ"), true},
		{"environment prod", env("prod"), true},
		{"environment PROD", env("PROD"), true},
		{"environment Prod spaced", env(" Prod "), true},
		{"environment prd", env("prd"), true},
		{"environment PRD", env("PRD"), true},
		{"environment live", env("live"), true},
		{"environment Live spaced", env("Live "), true},
		{"environment preprod", env("preprod"), false},
		{"environment pre-prod", env("pre-prod"), false},
		{"environment nonprod", env("nonprod"), false},
		{"environment staging", env("staging"), false},
		{"environment empty", env(""), false},
		{"environment spaces only", env("   "), false},
		{"role upper case", role("DATABASE"), true},
		{"role spaced", role(" database "), true},
		{"role db", role("db"), true},
		{"role DB", role("DB "), true},
		{"role load balancer with space", role("load balancer"), true},
		{"role load-balancer", role("Load-Balancer"), true},
		{"role LOAD_BALANCER", role("LOAD_BALANCER"), true},
		{"role loadbalancer", role("loadbalancer"), true},
		{"role lb", role("LB"), true},
		{"role monitoring spaced", role("Monitoring "), true},
		{"role monitor", role("monitor"), true},
		{"role standby", role("Standby "), true},
		{"role replica", role("REPLICA"), true},
		{"role hot standby", role("hot-standby"), false},
		{"role read replica", role("read replica"), false},
		{"role web", role("web"), false},
		{"role database migrator", role("database-migrator"), false},
		{"criticality upper case", crit("HIGH"), true},
		{"criticality spaced", crit(" critical "), true},
		{"criticality Medium", crit("Medium"), false},
		{"kind database spelt loosely", kind("Database"), true},
		{"kind load balancer spelt loosely", kind("load-balancer"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := stop("i-1")
			p.Resource = tt.give
			got, err := def.Check(t.Context(), p)
			require.NoError(t, err)
			if tt.critical {
				assert.Equal(t, safety.RequireApproval, got.Outcome, "%+v", tt.give)
				assert.Equal(t, safety.RiskHigh, got.Risk)
				assert.NotEmpty(t, got.Factors)
			} else {
				assert.Equal(t, safety.Pass, got.Outcome, "%+v", tt.give)
				assert.Empty(t, got.Factors)
			}
		})
	}
}

// TestCriticalRuleAliases checks the configurable alias groups: a listed
// name brings its whole group, an entry replaces the default group of its
// name, and an empty entry removes it.
func TestCriticalRuleAliases(t *testing.T) {
	t.Parallel()
	listsProd, err := safety.NewCriticalRule(safety.CriticalConfig{Environments: []string{"Prod"}})
	require.NoError(t, err)
	custom, err := safety.NewCriticalRule(safety.CriticalConfig{
		Aliases: map[string][]string{"production": {"prod", "prd", "live", "Main Site"}, "database": {}},
	})
	require.NoError(t, err)
	env := func(s string) provider.Resource { r := instance("i-1"); r.Environment = s; return r }
	role := func(s string) provider.Resource { r := instance("i-1"); r.Role = s; return r }
	tests := []struct {
		name     string
		rule     *safety.CriticalRule
		give     provider.Resource
		critical bool
	}{
		{"listing an alias brings its canonical name", listsProd, env("production"), true},
		{"and the other aliases", listsProd, env("LIVE"), true},
		{"custom alias", custom, env("main-site"), true},
		{"custom group keeps the canonical name", custom, env("Production"), true},
		{"removed group keeps the canonical name", custom, role("database"), true},
		{"removed alias", custom, role("db"), false},
		{"other default groups stay", custom, role("lb"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := stop("i-1")
			p.Resource = tt.give
			got, err := tt.rule.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.critical, got.Outcome != safety.Pass, "%+v", got)
		})
	}
	for _, bad := range []map[string][]string{
		{"": {"x"}},
		{"production": {" "}},
		{"production": {"live"}, "staging": {"live"}},
	} {
		_, err := safety.NewCriticalRule(safety.CriticalConfig{Aliases: bad})
		require.ErrorIs(t, err, provider.ErrInvalid, "%v", bad)
	}
}

// TestCriticalAliasesNamingOneGroupTwice: two entries of Aliases whose
// names are one label once normalised ("Payments" and "payments") name
// one group, and only one of them could be kept. Map order chose which,
// so a resource whose role was an alias of the other entry ("billing")
// was a critical workload in some processes and not in others, and
// stopped without approval there. Such a config is refused, naming both.
func TestCriticalAliasesNamingOneGroupTwice(t *testing.T) {
	t.Parallel()
	cfg := safety.CriticalConfig{
		Roles:   []string{"payments"},
		Aliases: map[string][]string{"Payments": {"pay"}, "payments": {"billing"}},
	}
	for range 20 { // map order: each try may keep either entry
		_, err := safety.NewCriticalRule(cfg)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "aliases", ie.Field)
		assert.Equal(t, "payments", ie.Value)
		assert.Contains(t, ie.Reason, `"Payments"`)
		require.ErrorIs(t, cfg.Validate(), provider.ErrInvalid)
	}
}

// TestNewRefusesEmptyRuleSet checks that an engine without rules, which
// would allow everything, is built only when the host says so.
func TestNewRefusesEmptyRuleSet(t *testing.T) {
	t.Parallel()
	for _, rules := range [][]safety.Rule{nil, {}} {
		_, err := safety.New(safety.Config{}, rules)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "rules", ie.Field)
	}
	eng, err := safety.New(safety.Config{AllowNoRules: true}, nil)
	require.NoError(t, err)
	p := stop("i-1")
	p.Resource.Environment, p.Resource.Protected = "production", true
	_, err = eng.Check(t.Context(), p)
	require.NoError(t, err, "an engine without rules allows everything: that is why it must be asked for")
	_, err = safety.New(safety.Config{AllowNoRules: true}, []safety.Rule{fixed("ok", safety.Result{})})
	require.NoError(t, err, "the flag does not refuse rules")
}

// TestDefaultCriticalRoles pins the default roles (a standby or a replica
// is idle by design) and that each call returns a list of its own, for a
// host that adds one of its own to them.
func TestDefaultCriticalRoles(t *testing.T) {
	t.Parallel()
	roles := safety.DefaultCriticalRoles()
	assert.Equal(t, []string{"database", "load_balancer", "monitoring", "standby", "replica"}, roles)
	roles[0] = "queue"
	assert.Equal(t, "database", safety.DefaultCriticalRoles()[0])
	withQueue, err := safety.NewCriticalRule(safety.CriticalConfig{Roles: append(safety.DefaultCriticalRoles(), "queue")})
	require.NoError(t, err)
	for _, role := range []string{"queue", "standby", "db"} {
		r := instance("i-1")
		r.Role = role
		p := stop("i-1")
		p.Resource = r
		got, err := withQueue.Check(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, safety.RequireApproval, got.Outcome, role)
	}
}
