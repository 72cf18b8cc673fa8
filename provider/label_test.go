package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider"
)

func TestNormalizeLabels(t *testing.T) {
	t.Parallel()
	r := provider.Resource{
		ID: "i-1", Environment: " production\u200b ", Role: "Load  Balancer\t", Owner: "ｔｅａｍ a",
		Criticality: " High ", Tags: map[string]string{"environment": " production "},
	}.NormalizeLabels()
	assert.Equal(t, "production", r.Environment)
	assert.Equal(t, "Load Balancer", r.Role, "case is kept")
	assert.Equal(t, "team a", r.Owner)
	assert.Equal(t, provider.CriticalityHigh, r.Criticality)
	assert.Equal(t, " production ", r.Tags["environment"], "tags stay verbatim")
	assert.Equal(t, provider.Criticality("sky-high"), provider.Resource{Criticality: "sky-high"}.NormalizeLabels().Criticality,
		"an unknown criticality is left for Validate to refuse")
	assert.Equal(t, "load_balancer", provider.LabelKey(r.Role))
}

// TestInvalidMasksCredentials checks that an *InvalidError never carries
// a credential in its value or reason, whoever made it.
func TestInvalidMasksCredentials(t *testing.T) {
	t.Parallel()
	err := provider.Invalid("address", "https://admin:s3cr3t-pw@db.internal:5432", "dial: Authorization: Bearer tok3n-abcdef rejected")
	assert.Equal(t, "https://admin:xxxxx@db.internal:5432", err.Value)
	assert.NotContains(t, err.Error(), "s3cr3t-pw")
	assert.NotContains(t, err.Error(), "tok3n-abcdef")
	assert.Contains(t, err.Error(), "db.internal", "the rest is kept")
	assert.Equal(t, 42, provider.Invalid("n", 42, "r").Value, "other values are kept as they are")
}
