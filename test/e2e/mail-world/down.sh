#!/usr/bin/env bash
# down.sh: stop the loopback mail world that up.sh started, and only that.
#
#   sudo test/e2e/mail-world/down.sh           stop; keep configs and logs in $MAIL_WORLD_DIR
#   sudo test/e2e/mail-world/down.sh --purge   stop, then delete $MAIL_WORLD_DIR
#
# It stops the processes whose pids up.sh wrote to $MAIL_WORLD_DIR/run/*.pid (checking that each
# pid still runs the program it names), waits for them and their children to exit, and removes
# the pid files. It never looks processes up by name.
set -euo pipefail

DIR=${MAIL_WORLD_DIR:-/tmp/rcpt-mail-world}
PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mail-world: unknown option: $arg" >&2; exit 2 ;;
  esac
done
log() { echo "mail-world: $*"; }

if [ "$(id -u)" != 0 ]; then echo "mail-world: skip: down.sh must run as root" >&2; exit 3; fi
if [ ! -d "$DIR" ]; then log "nothing to stop ($DIR does not exist)"; exit 0; fi

# The program each pid file must name (guards against a recycled pid).
expected() {
  case "$1" in
    dnsmasq) echo dnsmasq ;;
    postgrey) echo postgrey ;;
    postfix) echo master ;;
    opensmtpd) echo smtpd ;;
    danted) echo danted ;;
    *) echo "" ;;
  esac
}
runs() { # runs PID WORD: is PID alive and is WORD in its command line?
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}
children() { # direct children of PID
  if command -v ps >/dev/null 2>&1; then
    ps -o pid= --ppid "$1" 2>/dev/null || true
  else
    cat /proc/"$1"/task/*/children 2>/dev/null || true
  fi
}

waitlist=()
shopt -s nullglob
for f in "$DIR"/run/*.pid; do
  name=$(basename "$f" .pid)
  pid=$(tr -dc 0-9 <"$f")
  want=$(expected "$name")
  if [ -z "$pid" ] || [ -z "$want" ] || ! runs "$pid" "$want"; then
    log "$name: not running (stale pid file)"
    rm -f "$f"
    continue
  fi
  kids=$(children "$pid" | tr '\n' ' ')
  if [ "$name" = postfix ] && [ -f "$DIR/postfix/etc/main.cf" ]; then
    # postfix stop: master tells its children to finish, then exits.
    /usr/sbin/postfix -c "$DIR/postfix/etc" stop >>"$DIR/log/postfix-stop.log" 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  log "$name: stopping pid $pid${kids:+ (children $kids)}"
  waitlist+=("$name:$pid:$want")
  for k in $kids; do waitlist+=("$name-child:$k:"); done
done

# Wait up to 15 s, then SIGKILL what is left (only the pids collected above).
deadline=$((SECONDS + 15))
for entry in "${waitlist[@]}"; do
  IFS=: read -r name pid want <<<"$entry"
  check() { if [ -n "$want" ]; then runs "$pid" "$want"; else kill -0 "$pid" 2>/dev/null; fi; }
  while check; do
    if [ $SECONDS -ge $deadline ]; then
      log "$name: pid $pid did not exit, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
done

rm -f "$DIR"/run/*.pid

# Loopback addresses up.sh had to add (normally none: 127.0.0.0/8 is local on Linux).
if [ -f "$DIR/run/added-addresses" ]; then
  while read -r a; do ip addr del "$a" dev lo 2>/dev/null || true; done <"$DIR/run/added-addresses"
  rm -f "$DIR/run/added-addresses"
fi

if [ "$PURGE" = 1 ]; then
  if [ -f "$DIR/.rcpt-mail-world" ]; then
    rm -rf -- "$DIR"
    log "purged $DIR"
  else
    log "not purging $DIR: it has no .rcpt-mail-world marker"
  fi
fi
log "down"
