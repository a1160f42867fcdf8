#!/usr/bin/env bash
# run.sh: the e2e CI stage (`npm run test:e2e`). Brings up the loopback mail world (installs
# Postfix, OpenSMTPD, postgrey, dnsmasq with apt when missing), runs the e2e vitest suite against
# it, and always takes the world down again. Exit status: vitest's.
#
# Not root, or no apt-get: prints a skip line and exits 0 without writing a results file, so CI
# on a developer machine or a non-Debian runner is not red for want of an MTA.
#
# Network rule: the tests talk to 127.0.0.0/8 only. vitest runs in a private mount namespace
# whose /etc/resolv.conf names 127.0.0.1 (the mail world's own guard file), so even a stray
# system-resolver lookup, by the library or by the CLI it spawns, never leaves the machine.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
WORLD=test/e2e/mail-world
RESULTS=.tmp/e2e-results.json
SKIP="e2e: skipped (needs root and apt-get to install Postfix, OpenSMTPD, postgrey, dnsmasq)"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

# A stale report from an earlier run must not be counted as this run's.
rm -f "$RESULTS" 2>/dev/null || true

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "$SKIP"
  exit 0
fi

UP=0
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  if [ "$UP" = 1 ]; then
    local t
    t=$(now)
    bash "$WORLD/down.sh" || echo "e2e: down.sh failed (exit $?)" >&2
    echo "e2e: down in $(since "$t")s"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T_UP=$(now)
UP=1 # up.sh stops what it started when it fails; down.sh after a failed up.sh is harmless
bash "$WORLD/up.sh"
rc=$?
if [ "$rc" = 3 ]; then
  UP=0
  echo "$SKIP"
  exit 0
fi
if [ "$rc" != 0 ]; then
  echo "e2e: mail world failed to start (up.sh exit $rc; logs in ${MAIL_WORLD_DIR:-/tmp/rcpt-mail-world}/log)" >&2
  exit "$rc"
fi
UP_SECS=$(since "$T_UP")

mkdir -p .tmp
T_TEST=$(now)
RESOLV=${MAIL_WORLD_DIR:-/tmp/rcpt-mail-world}/resolv.conf
if command -v unshare >/dev/null 2>&1 && [ -f "$RESOLV" ]; then
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  unshare --mount --propagation private -- /bin/sh -c \
    'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' guard "$RESOLV" \
    env RCPT_E2E_RESOLV_GUARDED=1 npx vitest run --config test/e2e/vitest.config.ts "$@"
else
  npx vitest run --config test/e2e/vitest.config.ts "$@"
fi
status=$?
if [ "$status" = 0 ]; then verdict=passed; else verdict="failed (exit $status)"; fi
echo "e2e: mail world up in ${UP_SECS}s; tests $verdict in $(since "$T_TEST")s; stage $(since "$T0")s before down.sh"
exit "$status"
