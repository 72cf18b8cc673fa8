package textnorm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/textnorm"
)

func TestLabel(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"", ""},
		{"production", "production"},
		{" Production ", "Production"},
		{"production\n", "production"},
		{"team  a\tb", "team a b"},
		{"production\u00a0", "production"},
		{"produc\u200btion", "production"},
		{"\ufeffprod", "prod"},
		{"re\u00adaper", "reaper"},
		{"ｐｒｏｄ", "prod"},
		{"\u3000live\u3000", "live"}, // ideographic space
		{"josé", "josé"},
		{"jose\u0301", "josé"}, // composed
		{"   ", ""},
		{"\u200b", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, textnorm.Label(tt.give), "%q", tt.give)
	}
}

func TestFoldAndKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, fold, key string }{
		{"Reaper", "reaper", "reaper"},
		{" REAPER\t", "reaper", "reaper"},
		{"STRASSE", "strasse", "strasse"},
		{"Straße", "strasse", "strasse"},
		{"\u212aate", "kate", "kate"}, // Kelvin sign
		{"Load Balancer", "load balancer", "load_balancer"},
		{"load--balancer", "load--balancer", "load_balancer"},
		{"_prod_", "_prod_", "prod"},
		{"pre-prod", "pre-prod", "pre_prod"},
		{"ＬＯＡＤ－ＢＡＬＡＮＣＥＲ", "load-balancer", "load_balancer"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ", "σίσυφοσ"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.fold, textnorm.Fold(tt.give), "Fold(%q)", tt.give)
		assert.Equal(t, tt.key, textnorm.Key(tt.give), "Key(%q)", tt.give)
	}
}

func BenchmarkKey(b *testing.B) {
	for _, s := range []string{"production", " Load-Balancer ", "ｐｒｏｄ"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = textnorm.Key(s)
			}
		})
	}
}
