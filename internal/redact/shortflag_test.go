package redact_test

import "testing"

// TestShortFlagPasswordPrinted: the password of -p is masked however a
// command line is printed: as %q and JSON print its arguments ("-p" and
// the password each a quoted argument of its own, also quoted again) and
// written against the flag, as the MySQL and MariaDB clients, 7-Zip and
// RAR take it (-pPASSWORD); a value written against -p of other commands
// (find -print, gcc -pthread, ls -pla, patch -p1) is a flag, left.
func TestShortFlagPasswordPrinted(t *testing.T) {
	t.Parallel()
	tests := []redaction{
		{"quoted arguments", `exec ["mysql" "-u" "root" "-p" "hunter22"]: exit status 1`, `exec ["mysql" "-u" "root" "-p" "xxxxx"]: exit status 1`},
		{"json arguments", `{"args":["mysql","-p","hunter22"]}`, `{"args":["mysql","-p","xxxxx"]}`},
		{"escaped quoted arguments", `"[\"sshpass\" \"-p\" \"hunter22\" \"ssh\"]"`, `"[\"sshpass\" \"-p\" \"xxxxx\" \"ssh\"]"`},
		{"attached", "exec: mysql -u root -phunter22 -h db", "exec: mysql -u root -pxxxxx -h db"},
		{"attached quoted", `["/usr/bin/mysqldump" "-phunter22" "shop"]`, `["/usr/bin/mysqldump" "-pxxxxx" "shop"]`},
		{"attached mariadb", "mariadb-dump --all-databases -p'hun ter' > x", "mariadb-dump --all-databases -p'xxxxx' > x"},
		{"attached 7z", "7z x -phunter22 backup.7z", "7z x -pxxxxx backup.7z"},

		{"quoted port", `["ssh" "-p" "2222" "host"]`, ""},
		{"quoted flag after -p", `["mysql" "-p" "-h" "db"]`, ""},
		{"attached elsewhere", "find . -print -prune; gcc -pedantic -pthread; ls -pla; patch -p1", ""},
		{"attached after mysql's command", "mysql -e x; ls -pla", ""},
	}
	redacts(t, tests)
}
