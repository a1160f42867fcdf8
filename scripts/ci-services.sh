#!/usr/bin/env bash
# Installs the real servers that vitest suites start by themselves on loopback: PostgreSQL (the
# @rcpt/store suite on PostgreSQL; @rcpt/testing's Postgres.start runs initdb and pg_ctl) and
# Chromium (the web page test, driven by playwright-core). Only as root with apt-get; otherwise
# says so, and those suites skip with a message.
set -uo pipefail

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ci-services: not root or no apt-get: PostgreSQL and Chromium suites skip unless already installed"
  exit 0
fi

want=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || want+=(postgresql)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
[ "${#want[@]}" = 0 ] && exit 0

echo "ci-services: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
# The package's own cluster is not used (tests initdb their own); keep it from holding port 5432.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r version name _; do pg_ctlcluster "$version" "$name" stop 2>/dev/null || true; done
fi
