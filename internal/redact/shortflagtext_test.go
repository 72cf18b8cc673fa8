package redact_test

import "testing"

// TestShortFlagLeavesOrdinaryText: what follows -p of a command whose -p
// takes no value (git's --patch and --paginate, mkdir's --parents, cp's,
// tar's and rsync's --preserve) is left, and a value that ends a Go
// error's clause keeps the ":" (and a printed slice its "]") outside the
// mask; a command name that is a flag's value (mysql -D git) is no
// command.
func TestShortFlagLeavesOrdinaryText(t *testing.T) {
	t.Parallel()
	tests := []redaction{
		{"git log", "exec: git log -p HEAD: exit status 128", ""},
		{"git -p", "git -p log", ""},
		{"quoted git", `["git" "add" "-p" "main.go"]`, ""},
		{"mkdir relative", "exec: mkdir -p build/out: permission denied", ""},
		{"mkdir by path", "/bin/mkdir -v -p out", ""},
		{"cp", "cp -p a.txt b.txt: no space left on device", ""},

		{"colon after the value", "exec: mysql -p hunter22: exit status 1", "exec: mysql -p xxxxx: exit status 1"},
		{"colon after --password", "exec: psql --password hunter22: exit status 2", "exec: psql --password xxxxx: exit status 2"},
		{"slice of arguments", "args [mysql -p hunter22]", "args [mysql -p xxxxx]"},
		{"a flag's value named git", "mysql -D git -p hunter22", "mysql -D git -p xxxxx"},
		{"mkdir after a flag that takes a value", "/bin/mkdir -m 0755 -p out", "/bin/mkdir -m 0755 -p xxxxx"},
		{"git after -p", "sshpass -p hunter22 git push", "sshpass -p xxxxx git push"},
		{"git after the segment", "git status; mysql -p hunter22", "git status; mysql -p xxxxx"},
	}
	redacts(t, tests)
}
