#!/usr/bin/env bash
# Takes the README's screenshot of the dashboard: runs examples/dashboard on
# a fast clock for a few seconds (a few simulated days of the quickstart
# fleet), then has headless Chromium screenshot the page into
# docs/dashboard.png. Needs chromium (make deps installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
addr=127.0.0.1:18089
out=${1:-docs/dashboard.png}
bin=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/dashboard" ./examples/dashboard
"$bin/dashboard" -addr "$addr" -speed 7200 >"$bin/log" 2>&1 &
pid=$!
sleep 12
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$bin/profile" --window-size=1280,1500 \
  --screenshot="$out" "http://$addr/" 2>/dev/null
echo "screenshot written to $out"
