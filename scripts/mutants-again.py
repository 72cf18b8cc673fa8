#!/usr/bin/env python3
"""mutants-again.py re-runs the mutants a gremlins JSON report lists as
LIVED (and optionally NOT COVERED or TIMED OUT) against the package's current tests,
one at a time, and prints what each is now: the "after" check of the
mutants a run left, without re-running the ones it already killed.

usage: scripts/mutants-again.py REPORT.json PKG_DIR [--not-covered]
       [--timed-out] [--timeout S] [--from COMMIT] [--only FILE,FILE]

The package's tests must pass unmutated first. Each mutant is applied to
the file in place at its line and byte column (as gremlins counts them),
the package's tests run with `go test -count=1 -failfast` from the module
root, and the file is restored (also on SIGINT or SIGTERM). A mutant is
KILLED when the tests fail (exit status 1), NOT VIABLE when it does not
build (gremlins v0.6.0 counts those as killed), LIVED when they pass and
TIMED OUT after --timeout seconds (300 by default; the whole process
group is killed). A mutant whose operator is no longer at its position
is MOVED and not run; with --from, the commit the report was made on,
each line is first mapped to where that line is now (difflib over the two
versions; a line that was changed or deleted is MOVED). --only limits the
run to some of the package's files. --timed-out also re-runs the mutants
gremlins timed out (on a loaded machine a mutant whose tests pass can time
out, and gremlins leaves timed-out mutants out of its efficacy). Run it in
a checkout you are not editing.
"""
import difflib
import functools
import json
import os
import signal
import subprocess
import sys

SWAP = {
    "CONDITIONALS_BOUNDARY": {b"<": b"<=", b"<=": b"<", b">": b">=", b">=": b">"},
    "CONDITIONALS_NEGATION": {b"==": b"!=", b"!=": b"==", b"<": b">=", b"<=": b">", b">": b"<=", b">=": b"<"},
    "ARITHMETIC_BASE": {b"+": b"-", b"-": b"+", b"*": b"/", b"/": b"*", b"%": b"*"},
    "INCREMENT_DECREMENT": {b"++": b"--", b"--": b"++"},
    "INVERT_NEGATIVES": {b"-": b"+"},
}


def token_at(line, col):
    i = col - 1
    for tok in (b"<=", b">=", b"==", b"!=", b"++", b"--"):
        if line[i:i + 2] == tok:
            return tok
    return line[i:i + 1]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def run_tests(root, pkg, timeout):
    p = subprocess.Popen(["go", "test", "-count=1", "-failfast", "-timeout", "%ds" % max(timeout - 5, 1), pkg],
                         cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return "TIMED OUT"
    if p.returncode == 0:
        return "LIVED"
    if b"[build failed]" in out or b"[setup failed]" in out:
        return "NOT VIABLE"
    if p.returncode == 1:
        return "KILLED"
    return "ERROR"


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    report, pkgdir = args[0], os.path.abspath(args[1])
    statuses = {"LIVED"}
    if "--not-covered" in args:
        statuses.add("NOT COVERED")
    if "--timed-out" in args:
        statuses.add("TIMED OUT")
    timeout = int(args[args.index("--timeout") + 1]) if "--timeout" in args else 300
    since = args[args.index("--from") + 1] if "--from" in args else None
    only = set(args[args.index("--only") + 1].split(",")) if "--only" in args else None
    gomod = subprocess.run(["go", "env", "GOMOD"], cwd=pkgdir, capture_output=True, text=True).stdout.strip()
    if not gomod or gomod == os.devnull:
        sys.exit("mutants-again: %s is not in a Go module" % pkgdir)
    root = os.path.dirname(gomod)
    pkg = "./" + os.path.relpath(pkgdir, root)
    if pkg == "./." or ".." in pkg:
        sys.exit("mutants-again: PKG must be a package directory below the module root, not %s" % pkg)
    if run_tests(root, pkg, timeout) != "LIVED":
        sys.exit("mutants-again: the tests of %s fail unmutated" % pkg)
    gitroot = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=pkgdir, capture_output=True, text=True).stdout.strip()
    data = json.load(open(report))
    counts = {}
    for f in data["files"]:
        if only is not None and f["file_name"] not in only:
            continue
        path = os.path.join(pkgdir, f["file_name"])
        linemap = None
        if since is not None:
            rel = os.path.relpath(path, gitroot)
            old = subprocess.run(["git", "show", "%s:%s" % (since, rel)], cwd=gitroot, capture_output=True).stdout.split(b"\n")
            cur = open(path, "rb").read().split(b"\n")
            linemap = {}
            for a, b, n in difflib.SequenceMatcher(None, old, cur, autojunk=False).get_matching_blocks():
                for k in range(n):
                    linemap[a + k + 1] = b + k + 1
        for m in f["mutations"]:
            if m["status"] not in statuses:
                continue
            where = "%s:%d:%d %s" % (f["file_name"], m["line"], m["column"], m["type"])
            ln = m["line"] if linemap is None else linemap.get(m["line"])
            src = open(path, "rb").read()
            lines = src.split(b"\n")
            tok = token_at(lines[ln - 1], m["column"]) if ln is not None else None
            new = SWAP.get(m["type"], {}).get(tok)
            if new is None:
                print("MOVED", where, flush=True)
                counts["MOVED"] = counts.get("MOVED", 0) + 1
                continue
            i = m["column"] - 1
            lines[ln - 1] = lines[ln - 1][:i] + new + lines[ln - 1][i + len(tok):]
            restore = functools.partial(write, path, src)
            handlers = {sig: signal.signal(sig, lambda *a, r=restore: (r(), sys.exit(130))) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                write(path, b"\n".join(lines))
                status = run_tests(root, pkg, timeout)
            finally:
                restore()
                for sig, h in handlers.items():
                    signal.signal(sig, h)
            print(status, where, "(was %s)" % m["status"], flush=True)
            counts[status] = counts.get(status, 0) + 1
    print("summary:", counts)


if __name__ == "__main__":
    main()
