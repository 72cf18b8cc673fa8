package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// Common secrets that carry no label are masked: GitHub tokens (ghp_,
// gho_, ghu_, ghs_, ghr_, github_pat_), Slack tokens (xoxb-, xoxp-, …),
// OpenAI-style keys (sk-, sk-proj-), the value of a URL query parameter
// named key or auth (?key=AIza…), and the password a command line gives
// with -p (mysql -p PASSWORD); all went through whole. The token's prefix
// is kept, to say what kind it was. Ordinary text, instance IDs, ARNs, a
// port or a path after -p and words that hold "sk-" inside them are left
// alone.
func TestVendorTokensAreMasked(t *testing.T) {
	t.Parallel()
	tests := []redaction{
		{"github classic", "auth with ghp_abcdefghijklmnopqrstuvwxyz0123456789 failed", "auth with ghp_xxxxx failed"},
		{"github oauth", "gho_abcdefghijklmnopqrstuvwxyz0123456789", "gho_xxxxx"},
		{"github server", `"ghs_16C7e42F292c6912E7710c838347Ae178B4a"`, `"ghs_xxxxx"`},
		{"github user-to-server", "ghu_16C7e42F292c6912E7710c838347Ae178B4a,", "ghu_xxxxx,"},
		{"github fine-grained", "token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123 expired",
			"token github_pat_xxxxx expired"},
		{"slack bot", "slack: xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx: invalid_auth", "slack: xoxb-xxxxx: invalid_auth"},
		{"slack user", "xoxp-123456789012-1234567890123-1234567890123-abcdef0123456789abcdef0123456789", "xoxp-xxxxx"},
		{"openai", "openai: sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH rejected", "openai: sk-xxxxx rejected"},
		{"openai project", "sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789_-ab", "sk-xxxxx"},
		{"query key", "GET https://maps.example.com/v1/geo?key=AIzaSyA1b2C3d4E5f6&region=eu failed",
			"GET https://maps.example.com/v1/geo?key=xxxxx&region=eu failed"},
		{"query key later", "GET /v1/x?a=1&key=abc123 failed", "GET /v1/x?a=1&key=xxxxx failed"},
		{"query auth", "GET https://h/x?auth=abc123 failed", "GET https://h/x?auth=xxxxx failed"},
		{"query token", "GET https://h/x?a=1&token=abc123&b=2", "GET https://h/x?a=1&token=xxxxx&b=2"},
		{"query api_key", "GET https://h/x?api_key=abc123", "GET https://h/x?api_key=xxxxx"},
		{"query access_token", "GET https://h/x?b=2&access_token=abc123", "GET https://h/x?b=2&access_token=xxxxx"},
		{"mysql -p", "exec: mysql -u root -p hunter22 -h db: exit status 1", "exec: mysql -u root -p xxxxx -h db: exit status 1"},
		{"-p first", "-p 'two words' -h db", "-p 'xxxxx' -h db"},
		{"--password", "psql --password hunter22", "psql --password xxxxx"},

		{"plain text", "the task-runner stopped the disk-cleaner after a risk-assessment", ""},
		{"sk- inside words", "task-abcdefghijklmnopqrstuvwxyz0123456789 disk-abcdefghijklmnopqrstuvwxyz0123456789 mask-0123456789abcdefghijklmnop", ""},
		{"sk- kebab words", "sk-learn-is-a-python-library-for-models", ""},
		{"instance IDs", "instance i-0abc123def4567890 and sg-0123456789abcdef0 not found", ""},
		{"ARN", "arn:aws:iam::123456789012:role/ghp-deployer and arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", ""},
		{"ghp_ inside a word", "myghp_abcdefghijklmnopqrstuvwxyz0123456789", ""},
		{"short ghp_", "ghp_short", ""},
		{"monkey param", "GET https://h/x?monkey=banana&donkey=1", ""},
		{"key outside a query", "sort key=name", ""},
		{"-p port", "ssh -p 2222 host; docker run -p 8080:80 nginx", ""},
		{"-p attached", "ls -pla", ""},
		{"-p path", "exec: mkdir -p /var/lib/idlescale: permission denied; mkdir -p ~/x", ""},
	}
	redacts(t, tests)
}

// A name in kebab case that starts with "sk-" and holds a digit (a Lambda
// function's name in its ARN, a pod's name, a bucket's key) is no
// OpenAI-style key: its words are short, where a key holds a long run of
// letters and digits; it is left, while keys with dashes inside (sk-proj-,
// sk-ant-api03-) are still masked.
func TestVendorTokenLeavesKebabNames(t *testing.T) {
	t.Parallel()
	tests := []redaction{
		{"lambda ARN", "arn:aws:lambda:us-east-1:123456789012:function:sk-build-runner-2024-prod not found", ""},
		{"pod", "pod sk-prod-worker-node-7d9f8b6c5d-x2k9p not ready", ""},
		{"instance name", "instance i-0abc123def4567890 (sk-eu-west-1-batch-03) stopped", ""},
		{"anthropic-style key", "sk-ant-api03-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789-abcdefAA", "sk-xxxxx"},
		{"project key with short words", "sk-proj-ab-Cd3-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-xxxxx"},
	}
	redacts(t, tests)
}

// redaction is a case of redacts: give is masked to want ("" when it is
// left as it is).
type redaction struct{ name, give, want string }

// redacts checks each case's redact.String, one subtest a case.
func redacts(t *testing.T, tests []redaction) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want
			if want == "" {
				want = tt.give
			}
			assert.Equal(t, want, redact.String(tt.give))
		})
	}
}
