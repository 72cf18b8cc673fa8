#!/usr/bin/env python3
"""mutants-again.py re-runs the mutants a gremlins JSON report lists as
LIVED (and optionally NOT COVERED) against the package's current tests,
one at a time, and prints which are now killed: the "after" check of the
mutants a run left, without re-running the ones it already killed.

usage: scripts/mutants-again.py REPORT.json PKG_DIR [--not-covered] [--timeout S]
       [--from COMMIT] [--only FILE,FILE]

Each mutant is applied to the file in place at its line and column, the
package's tests run with `go test -count=1 -failfast`, and the file is
restored (also on interrupt or kill). A mutant whose token is no longer at its
position (the file changed since the report) is reported as MOVED and
not run; with --from, the commit the report was made on, each line is
first mapped to where that line is now (difflib over the two versions;
a line that was changed or deleted is MOVED). --only limits the run to
some of the package's files. Run it in a checkout you are not editing.
"""
import difflib
import json
import os
import signal
import subprocess
import sys

SWAP = {
    "CONDITIONALS_BOUNDARY": {"<": "<=", "<=": "<", ">": ">=", ">=": ">"},
    "CONDITIONALS_NEGATION": {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"},
    "ARITHMETIC_BASE": {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*"},
    "INCREMENT_DECREMENT": {"++": "--", "--": "++"},
    "INVERT_NEGATIVES": {"-": "+"},
}


def token_at(line, col):
    i = col - 1
    for tok in ("<=", ">=", "==", "!=", "++", "--"):
        if line[i:i + 2] == tok:
            return tok
    return line[i:i + 1]


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    report, pkg = args[0], args[1]
    statuses = {"LIVED"}
    if "--not-covered" in args:
        statuses.add("NOT COVERED")
    timeout = 300
    if "--timeout" in args:
        timeout = int(args[args.index("--timeout") + 1])
    since = args[args.index("--from") + 1] if "--from" in args else None
    only = set(args[args.index("--only") + 1].split(",")) if "--only" in args else None
    data = json.load(open(report))
    counts = {}
    for f in data["files"]:
        if only is not None and f["file_name"] not in only:
            continue
        path = os.path.join(pkg, f["file_name"])
        linemap = None
        if since is not None:
            rel = os.path.relpath(os.path.abspath(path), subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=pkg, capture_output=True, text=True).stdout.strip())
            old = subprocess.run(["git", "show", "%s:%s" % (since, rel)], cwd=pkg, capture_output=True, text=True).stdout.split("\n")
            cur = open(path).read().split("\n")
            linemap = {}
            for a, b, n in difflib.SequenceMatcher(None, old, cur, autojunk=False).get_matching_blocks():
                for k in range(n):
                    linemap[a + k + 1] = b + k + 1
        for m in f["mutations"]:
            if m["status"] not in statuses:
                continue
            src = open(path).read()
            lines = src.split("\n")
            ln = m["line"] if linemap is None else linemap.get(m["line"])
            where = "%s:%d:%d %s" % (f["file_name"], m["line"], m["column"], m["type"])
            if ln is None:
                print("MOVED", where, "(line changed)")
                counts["MOVED"] = counts.get("MOVED", 0) + 1
                continue
            m = dict(m, line=ln)
            line = lines[m["line"] - 1]
            tok = token_at(line, m["column"])
            new = SWAP.get(m["type"], {}).get(tok)
            if new is None:
                print("MOVED", where, repr(tok))
                counts["MOVED"] = counts.get("MOVED", 0) + 1
                continue
            i = m["column"] - 1
            lines[m["line"] - 1] = line[:i] + new + line[i + len(tok):]
            restore = lambda *_: open(path, "w").write(src)
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *a: (restore(), sys.exit(130)))
            try:
                open(path, "w").write("\n".join(lines))
                try:
                    r = subprocess.run(["go", "test", "-count=1", "-failfast", "./" + pkg.rstrip("/").split("/")[-1]],
                                       cwd=os.path.dirname(os.path.abspath(pkg.rstrip("/"))),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
                    status = "LIVED" if r.returncode == 0 else "KILLED"
                except subprocess.TimeoutExpired:
                    status = "TIMED OUT"
            finally:
                restore()
            print(status, where, "(was %s)" % m["status"], flush=True)
            counts[status] = counts.get(status, 0) + 1
    print("summary:", counts)


if __name__ == "__main__":
    main()
