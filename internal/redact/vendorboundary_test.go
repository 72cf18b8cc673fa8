package redact_test

import (
	"testing"
)

// TestVendorTokenEdges: an "sk-" token is masked when it holds both a
// letter and a digit, whichever letter (the first and last of either
// case, a token of one case only) and left as a word when it holds only
// digits (or digits and "_"); a token at the start of a message or after
// a "_" or "__" elsewhere is found, and so is a Slack token whose "-" is
// the message's only one; the value after -p that reads as a flag is
// left, and one after a -p that is the only "-", or follows a "--", is
// masked.
func TestVendorTokenEdges(t *testing.T) {
	t.Parallel()
	tests := []redaction{
		{"sk- with a", "key sk-a1234567890123456789012 bad", "key sk-xxxxx bad"},
		{"sk- with z", "key sk-z1234567890123456789012 bad", "key sk-xxxxx bad"},
		{"sk- with A", "key sk-A1234567890123456789012 bad", "key sk-xxxxx bad"},
		{"sk- with Z", "key sk-Z1234567890123456789012 bad", "key sk-xxxxx bad"},
		{"sk- lower case only", "key sk-abcdefghij0123456789abcd bad", "key sk-xxxxx bad"},
		{"sk- upper case only", "key sk-ABCDEFGHIJ0123456789ABCD bad", "key sk-xxxxx bad"},
		{"sk- digits only", "build sk-20240101-1234567890123 done", ""},
		{"sk- digits and _", "build sk-2024_0101_1234567890123 done", ""},
		{"github_pat first", "github_pat_11ABCDEFG0123456789abcdefghij expired", "github_pat_xxxxx expired"},
		{"_ first", "_id ghp_abcdefghijklmnopqrstuvwxyz0123456789", "_id ghp_xxxxx"},
		{"__ before", "a__b ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a__b ghp_xxxxx"},
		{"-p then a flag", "exec: mysql -p -h db: exit status 1", ""},
		{"xox only dash", "slack: xoxb-1234567890abcdef invalid", "slack: xoxb-xxxxx invalid"},
		{"-p only dash", "mysql -p hunter22", "mysql -p xxxxx"},
		{"-p after --", "psql --host db -p hunter22", "psql --host db -p xxxxx"},
	}
	redacts(t, tests)
}
