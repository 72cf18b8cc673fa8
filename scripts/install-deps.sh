#!/usr/bin/env bash
# Installs the Debian packages the tests start for real: Prometheus (with
# promtool and node-exporter) and Chromium for the dashboard's browser test.
# Idempotent: it does nothing when promtool and chromium are already there.
# moto_server (AWS) is on the machine image and etcd is embedded in the Go
# tests, so neither is installed here.
set -euo pipefail

need=0
command -v promtool >/dev/null 2>&1 || need=1
command -v prometheus >/dev/null 2>&1 || need=1
command -v prometheus-node-exporter >/dev/null 2>&1 || need=1
command -v chromium >/dev/null 2>&1 || need=1
if [ "$need" = 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing prometheus, prometheus-node-exporter, chromium, fonts-liberation" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  prometheus prometheus-node-exporter chromium fonts-liberation >/dev/null
command -v promtool >/dev/null
command -v chromium >/dev/null
