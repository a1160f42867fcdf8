#!/usr/bin/env bash
# up.sh: start rcpt's loopback "mail world" (dnsmasq + Postfix + postgrey + OpenSMTPD).
#
#   sudo test/e2e/mail-world/up.sh                 install what is missing, (re)start the world
#   sudo test/e2e/mail-world/up.sh --install-only  only install (e.g. a CI step before the tests)
#
# Exit 0: everything answers. Exit 3: cannot run here (not root / no apt-get): callers skip.
# Anything else: a real failure (the logs in $MAIL_WORLD_DIR/log say why).
#
# Network rule: every socket is on 127.0.0.0/8. Daemons that could ever ask a DNS server run
# in a private mount namespace whose /etc/resolv.conf names 127.0.0.1 only, so even a stray
# lookup never leaves the machine. See README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${MAIL_WORLD_DIR:-/tmp/rcpt-mail-world}
OPT=${MAIL_WORLD_OPT:-/opt/rcpt-mail-world}
DNS_PORT=5354
POSTGREY_PORT=10023
# Submission (issue 9): Postfix on 127.0.0.8, ports 25 (relay, no AUTH), 587 (STARTTLS + AUTH),
# 465 (implicit TLS + AUTH), Cyrus SASL with a sasldb in the state dir.
SEND_IP=127.0.0.8
SASL_REALM=mail.test
SASL_USER=sender
SASL_PASSWORD=${MAIL_WORLD_SASL_PASSWORD:-s3cret-e2e}
GREYLIST_DELAY=${MAIL_WORLD_GREYLIST_DELAY:-2}
# SOCKS5 (issue 16): Dante listens on 127.0.0.10:1080 (user/password, RFC 1929) and connects
# onward from 127.0.0.11, so a server behind it sees 127.0.0.11.
SOCKS_IP=127.0.0.10
SOCKS_PORT=1080
SOCKS_EXTERNAL=127.0.0.11
SOCKS_USER=rcptproxy
SOCKS_PASSWORD=${MAIL_WORLD_SOCKS_PASSWORD:-proxy-e2e-pw}
# Issue 18, real-server cases: more Postfix listeners, each with one way of refusing us.
NULLSENDER_IP=127.0.0.13 # refuses MAIL FROM:<> at MAIL (553 5.7.1)
CLOSED_IP=127.0.0.14     # 554 instead of a greeting
DNSBL_IP=127.0.0.15      # 554 5.7.1 "blocked using ..." instead of a greeting
# An MX host on ::1 only (v6.test), when this machine's loopback has IPv6.
V6=0
if [ -r /proc/net/if_inet6 ] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6; then V6=1; fi

INSTALL_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --install-only) INSTALL_ONLY=1 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mail-world: unknown option: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "mail-world: $*"; }
die() { echo "mail-world: ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "$(id -u)" != 0 ]; then echo "mail-world: skip: up.sh must run as root" >&2; exit 3; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "mail-world: skip: apt-get not found (needs Debian)" >&2; exit 3; fi
case "$DIR" in /?*) ;; *) die "MAIL_WORLD_DIR must be an absolute path, got '$DIR'" ;; esac
[ "$DIR" != / ] || die "MAIL_WORLD_DIR must not be /"

T_ALL=$(now)

# ------------------------------------------------------------------------------------------
# 1. Install (non-interactive, no service started by the packages)
# ------------------------------------------------------------------------------------------
# dnsmasq-base is the dnsmasq binary without its init/runit service; bind9-dnsutils gives dig;
# libevent is the one library the unpacked OpenSMTPD needs that Postfix does not pull in.
# sasl2-bin gives saslpasswd2 (the sasldb of the submission listeners); libsasl2-modules the
# PLAIN/LOGIN/CRAM-MD5 plugins Postfix's Cyrus SASL loads (libsasl2-modules-db, sasldb itself,
# comes with Postfix).
# dante-server is the SOCKS5 proxy of the transport scenarios (issue 16).
PACKAGES=(postfix dnsmasq-base postgrey openssl bind9-dnsutils libevent-2.1-7 ca-certificates sasl2-bin libsasl2-modules dante-server)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
POLICY_OURS=0
restore_policy() {
  if [ "$POLICY_OURS" = 1 ]; then
    rm -f "$POLICY"
    if [ -n "$POLICY_BACKUP" ] && [ -f "$POLICY_BACKUP" ]; then mv -f "$POLICY_BACKUP" "$POLICY"; fi
    POLICY_OURS=0
  fi
}
block_service_starts() {
  # A policy-rc.d that exits 101 makes invoke-rc.d / deb-systemd-invoke refuse to start services.
  if [ -x "$POLICY" ] && { "$POLICY" postfix start >/dev/null 2>&1; [ $? = 101 ]; }; then
    return # there is one already (Docker-style images ship it): keep it as it is
  fi
  if [ -e "$POLICY" ]; then
    POLICY_BACKUP=$(mktemp "${POLICY}.mail-world.XXXXXX")
    cp -a "$POLICY" "$POLICY_BACKUP"
  fi
  POLICY_OURS=1
  printf '#!/bin/sh\n# temporary, written by rcpt mail-world up.sh\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
}

STARTED=0
on_exit() {
  local rc=$?
  restore_policy
  if [ "$rc" != 0 ] && [ "$STARTED" = 1 ]; then
    echo "mail-world: up.sh failed (exit $rc): stopping what it started; logs stay in $DIR/log" >&2
    "$HERE/down.sh" >&2 || true
  fi
}
trap on_exit EXIT

T_INSTALL=$(now)
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  block_service_starts
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >"${TMPDIR:-/tmp}/mail-world-apt.log" 2>&1 ||
    { tail -n 30 "${TMPDIR:-/tmp}/mail-world-apt.log" >&2; die "apt-get install failed"; }
  restore_policy
fi

# OpenSMTPD: Debian's opensmtpd and postfix both "Conflict: mail-transport-agent", so they cannot
# be installed together (nor can exim4). We unpack the opensmtpd .deb under $OPT instead and run
# its smtpd from there; nothing of it is registered with dpkg.
SMTPD_TREE=$OPT/opensmtpd
SMTPD_BIN=$SMTPD_TREE/usr/sbin/smtpd
if [ ! -x "$SMTPD_BIN" ]; then
  log "unpacking opensmtpd (not installable next to postfix) into $SMTPD_TREE"
  dl=$(mktemp -d)
  chmod 755 "$dl"
  if id _apt >/dev/null 2>&1; then chown _apt "$dl"; fi
  (cd "$dl" && apt-get download -qq opensmtpd >/dev/null 2>&1) ||
    { apt-get update -qq >/dev/null && (cd "$dl" && apt-get download -qq opensmtpd >/dev/null); } ||
    die "apt-get download opensmtpd failed"
  rm -rf "$SMTPD_TREE.tmp"
  mkdir -p "$SMTPD_TREE.tmp"
  dpkg-deb -x "$dl"/opensmtpd_*.deb "$SMTPD_TREE.tmp"
  dpkg-deb -f "$dl"/opensmtpd_*.deb Version >"$SMTPD_TREE.tmp/VERSION"
  rm -rf "$dl" "$SMTPD_TREE"
  mv "$SMTPD_TREE.tmp" "$SMTPD_TREE"
fi
if ldd "$SMTPD_BIN" | grep -q 'not found'; then
  ldd "$SMTPD_BIN" | grep 'not found' >&2
  die "the unpacked OpenSMTPD misses libraries"
fi
# The users the opensmtpd package's postinst would create (its privsep processes run as them).
for name in opensmtpd opensmtpq; do
  getent group "$name" >/dev/null || groupadd --system "$name"
  getent passwd "$name" >/dev/null ||
    useradd --system --home-dir /var/lib/opensmtpd/empty --no-create-home \
      --shell /usr/sbin/nologin --gid "$name" --comment "OpenSMTPD (rcpt mail-world)" "$name"
done
mkdir -p /var/lib/opensmtpd/empty
chmod 755 /var/lib/opensmtpd/empty

INSTALL_SECS=$(since "$T_INSTALL")
log "install step: ${INSTALL_SECS}s"
if [ "$INSTALL_ONLY" = 1 ]; then exit 0; fi

# ------------------------------------------------------------------------------------------
# 2. Fresh start: stop a world that is already up (idempotence), check the addresses are free
# ------------------------------------------------------------------------------------------
T_START=$(now)
if [ -d "$DIR/run" ] && ls "$DIR"/run/*.pid >/dev/null 2>&1; then
  log "a mail world is already up in $DIR: stopping it first"
  "$HERE/down.sh"
fi

for n in 2 3 4 5 6 7 8 9 10 11 13 14 15; do
  ip=127.0.0.$n
  if ! ip route get "$ip" 2>/dev/null | grep -q '^local .* dev lo'; then
    log "adding $ip/32 to lo"
    ip addr add "$ip/32" dev lo
    mkdir -p "$DIR/run"
    echo "$ip/32" >>"$DIR/run/added-addresses"
  fi
done

busy=$(ss -Hltnu 2>/dev/null | awk '{print $5}' |
  grep -E "^(0\.0\.0\.0|\*|\[::\]|127\.0\.0\.[2-8]):25$|^(0\.0\.0\.0|\*|\[::\]|127\.0\.0\.8):(465|587)$|^(0\.0\.0\.0|\*|\[::\]|127\.0\.0\.1):($DNS_PORT|$POSTGREY_PORT)$|^(0\.0\.0\.0|\*|\[::\]|127\.0\.0\.(9|13|14|15)):25$|^\[::1\]:25$|^(0\.0\.0\.0|\*|\[::\]|127\.0\.0\.10):$SOCKS_PORT$" |
  sort -u || true)
[ -z "$busy" ] || die "already in use by a process this script did not start: $(echo "$busy" | tr '\n' ' ')"

# ------------------------------------------------------------------------------------------
# 3. State directory, TLS certificate, guard resolv.conf
# ------------------------------------------------------------------------------------------
mkdir -p "$DIR"/{run,log,tls,mail,dns,postgrey,opensmtpd/spool,postfix/etc,postfix/spool,postfix/data}
touch "$DIR/.rcpt-mail-world" # marker: down.sh --purge only removes a directory that has it
# Logs the servers append to are kept across worlds for inspection (down.sh leaves them), but not
# without bound: a machine that runs the e2e suite and bench:mta often grew Postfix's past a gigabyte.
# Past 64 MB a log becomes <name>.1 (replacing the one before), and the new world starts a fresh one.
for f in "$DIR"/log/{postfix,opensmtpd,postgrey}.log; do
  if [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt $((64 * 1024 * 1024)) ]; then mv -f "$f" "$f.1"; fi
done
chmod 755 "$DIR" "$DIR/mail" "$DIR/opensmtpd" "$DIR/opensmtpd/spool"

cat >"$DIR/resolv.conf" <<'EOF'
# resolv.conf seen by the mail world's daemons (bind-mounted in their mount namespace):
# any stray DNS query goes to loopback, never to the machine's real resolver.
nameserver 127.0.0.1
lookup file bind
family inet4
EOF

# hosts file for clients that connect to the submission server by name (the e2e tests bind it
# over /etc/hosts in the CLI's mount namespace): its certificate names mx.send.test.
cat >"$DIR/hosts" <<EOF
127.0.0.1 localhost
$SEND_IP mx.send.test
EOF
chmod 644 "$DIR/hosts"

if [ ! -s "$DIR/tls/cert.pem" ] || [ ! -s "$DIR/tls/key.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -subj "/CN=mx.tls.test" \
    -addext "subjectAltName=DNS:mx.tls.test,DNS:mx.tlsonly.test,DNS:mx.alpha.test,DNS:mx.opensmtpd.test,DNS:mx.vrfy.test,DNS:mx.limit.test,IP:127.0.0.4,IP:127.0.0.5" \
    -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" >"$DIR/log/openssl.log" 2>&1 ||
    die "openssl req failed (see $DIR/log/openssl.log)"
fi
chmod 644 "$DIR/tls/cert.pem"
chmod 600 "$DIR/tls/key.pem"
# The submission listeners' own certificate: clients connect to the address, so it names it.
if [ ! -s "$DIR/tls/send-cert.pem" ] || [ ! -s "$DIR/tls/send-key.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -subj "/CN=mx.send.test" -addext "subjectAltName=DNS:mx.send.test,IP:$SEND_IP" \
    -keyout "$DIR/tls/send-key.pem" -out "$DIR/tls/send-cert.pem" >>"$DIR/log/openssl.log" 2>&1 ||
    die "openssl req (send) failed (see $DIR/log/openssl.log)"
fi
chmod 644 "$DIR/tls/send-cert.pem"
chmod 600 "$DIR/tls/send-key.pem"

# guarded [--bind SRC DST]... -- CMD...: exec CMD in a private mount namespace where
# /etc/resolv.conf is ours (plus the given bind mounts). It execs: call it as "guarded ... &"
# (then $! is CMD's own pid) or in a subshell.
guarded() {
  local binds=()
  while [ "$1" != -- ]; do binds+=("$1"); shift; done
  shift
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  exec unshare --mount --propagation private -- /bin/sh -c '
    set -e
    mount --bind "$RESOLV" /etc/resolv.conf
    while [ "$1" = --bind ]; do mount --bind "$2" "$3"; shift 3; done
    [ "$1" = -- ] && shift
    exec "$@"' guarded "${binds[@]}" -- "$@"
}
export RESOLV="$DIR/resolv.conf"

record_pid() { echo "$2" >"$DIR/run/$1.pid"; }
STARTED=1 # from here on, a failure stops whatever was already started

# ------------------------------------------------------------------------------------------
# 4. dnsmasq: the .test zone on 127.0.0.1:5354
# ------------------------------------------------------------------------------------------
cat >"$DIR/dns/dnsmasq.conf" <<EOF
# rcpt mail-world: authoritative-only DNS for .test, 127.0.0.1:$DNS_PORT (UDP+TCP), nothing else.
port=$DNS_PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
no-negcache
local=/test/
user=nobody
group=nogroup
log-queries
log-facility=$DIR/log/dnsmasq.log

# alpha.test: Postfix on 127.0.0.2, users alice and bob
mx-host=alpha.test,mx.alpha.test,10
host-record=mx.alpha.test,127.0.0.2
# catchall.test: Postfix on 127.0.0.2, any local part
mx-host=catchall.test,mx.catchall.test,10
host-record=mx.catchall.test,127.0.0.2
# failover.test: first MX is dead (nothing listens on 127.0.0.9:25), second is Postfix
mx-host=failover.test,dead.failover.test,10
mx-host=failover.test,mx.failover.test,20
host-record=dead.failover.test,127.0.0.9
host-record=mx.failover.test,127.0.0.2
# implicit.test: no MX, an A record only (RFC 5321 implicit MX)
host-record=implicit.test,127.0.0.2
# nullmx.test: RFC 7505 null MX "0 ." (raw RDATA: preference 0x0000, root name 0x00)
dns-rr=nullmx.test,15,000000
# greylist.test: Postfix on 127.0.0.2 with postgrey (delay ${GREYLIST_DELAY}s)
mx-host=greylist.test,mx.greylist.test,10
host-record=mx.greylist.test,127.0.0.2
# tls.test: Postfix on 127.0.0.4 offering STARTTLS
mx-host=tls.test,mx.tls.test,10
host-record=mx.tls.test,127.0.0.4
# tlsonly.test: Postfix on 127.0.0.5 requiring STARTTLS
mx-host=tlsonly.test,mx.tlsonly.test,10
host-record=mx.tlsonly.test,127.0.0.5
# vrfy.test: Postfix on 127.0.0.6 with VRFY enabled
mx-host=vrfy.test,mx.vrfy.test,10
host-record=mx.vrfy.test,127.0.0.6
# limit.test: Postfix on 127.0.0.7 with smtpd_recipient_limit=5
mx-host=limit.test,mx.limit.test,10
host-record=mx.limit.test,127.0.0.7
# opensmtpd.test: OpenSMTPD on 127.0.0.3
mx-host=opensmtpd.test,mx.opensmtpd.test,10
host-record=mx.opensmtpd.test,127.0.0.3
# bulk.test: Postfix on 127.0.0.2 with stock error limits
mx-host=bulk.test,mx.bulk.test,10
host-record=mx.bulk.test,127.0.0.2
# send.test: Postfix on $SEND_IP (25 relay, 587 STARTTLS + AUTH, 465 implicit TLS + AUTH)
mx-host=send.test,mx.send.test,10
host-record=mx.send.test,$SEND_IP
EOF
# Issue 18: the real-server cases (README "Refusals, odd MX targets, IDN, SMTPUTF8").
cat >>"$DIR/dns/dnsmasq.conf" <<EOF
# nullsender.test: Postfix on $NULLSENDER_IP, MAIL FROM:<> refused at MAIL (553 5.7.1)
mx-host=nullsender.test,mx.nullsender.test,10
host-record=mx.nullsender.test,$NULLSENDER_IP
# nullrcpt.test: Postfix on 127.0.0.2, MAIL FROM:<> refused at RCPT (550 5.7.1, Postfix's delayed reject)
mx-host=nullrcpt.test,mx.nullrcpt.test,10
host-record=mx.nullrcpt.test,127.0.0.2
# closed.test: 554 instead of the greeting
mx-host=closed.test,mx.closed.test,10
host-record=mx.closed.test,$CLOSED_IP
# dnsblconnect.test: 554 5.7.1 "blocked using zen.spamhaus.org" instead of the greeting
mx-host=dnsblconnect.test,mx.dnsblconnect.test,10
host-record=mx.dnsblconnect.test,$DNSBL_IP
# dnsblrcpt.test / mailbox.test / greycatch.test / utf8.test / cname.test / xn--bcher-kva.test: Postfix on 127.0.0.2
mx-host=dnsblrcpt.test,mx.dnsblrcpt.test,10
host-record=mx.dnsblrcpt.test,127.0.0.2
mx-host=mailbox.test,mx.mailbox.test,10
host-record=mx.mailbox.test,127.0.0.2
mx-host=greycatch.test,mx.greycatch.test,10
host-record=mx.greycatch.test,127.0.0.2
mx-host=utf8.test,mx.utf8.test,10
host-record=mx.utf8.test,127.0.0.2
# bücher.test, published as its A-label
mx-host=xn--bcher-kva.test,mx.xn--bcher-kva.test,10
host-record=mx.xn--bcher-kva.test,127.0.0.2
# equal.test: two MX of preference 10, one dead (127.0.0.9), one Postfix
mx-host=equal.test,mx1.equal.test,10
mx-host=equal.test,mx2.equal.test,10
host-record=mx1.equal.test,127.0.0.9
host-record=mx2.equal.test,127.0.0.2
# noaddr.test: MX 10 names a host with no address at all, MX 20 a working one
mx-host=noaddr.test,void.noaddr.test,10
mx-host=noaddr.test,mx.noaddr.test,20
host-record=mx.noaddr.test,127.0.0.2
# cname.test: the MX name is a CNAME of mx.alpha.test
mx-host=cname.test,mail.cname.test,10
cname=mail.cname.test,mx.alpha.test
# v6.test: the MX host has an AAAA record (::1) and no A record
mx-host=v6.test,mx.v6.test,10
host-record=mx.v6.test,::1
# spfnone.test: no MX, an A record, and SPF "v=spf1 -all": a domain that sends and receives no mail
host-record=spfnone.test,127.0.0.2
txt-record=spfnone.test,"v=spf1 -all"
# rcpt doctor: the e2e EHLO name (A + PTR of 127.0.0.1) and two DNS blocklist zones, one listing 127.0.0.1
host-record=e2e.rcpt.test,127.0.0.1
address=/1.0.0.127.listed.dnsbl.test/127.0.0.2
txt-record=1.0.0.127.listed.dnsbl.test,"127.0.0.1 is listed: see https://dnsbl.test/lookup?ip=127.0.0.1"
EOF
: >"$DIR/log/dnsmasq.log"
chown nobody:nogroup "$DIR/log/dnsmasq.log"
guarded -- /usr/sbin/dnsmasq --keep-in-foreground --conf-file="$DIR/dns/dnsmasq.conf" \
  >>"$DIR/log/dnsmasq.stderr" 2>&1 &
record_pid dnsmasq $!

# ------------------------------------------------------------------------------------------
# 5. postgrey on 127.0.0.1:10023
# ------------------------------------------------------------------------------------------
# A fresh greylist database on every start: the first try of any triplet is greylisted.
# (postgrey normalises senders: digits become '#', '+ext' is dropped.)
rm -rf "$DIR/postgrey/db"
mkdir -p "$DIR/postgrey/db"
chown root:root "$DIR/postgrey"
chmod 755 "$DIR/postgrey"
PG_USER=postgrey
getent passwd postgrey >/dev/null || PG_USER=nobody
chown "$PG_USER" "$DIR/postgrey/db"
chmod 700 "$DIR/postgrey/db"
: >"$DIR/postgrey/whitelist_clients"
: >"$DIR/postgrey/whitelist_recipients"
# greycatch.test (issue 18): a catch-all that greylists every recipient but alice, so the real
# address is accepted and the made-up probe gets 450 4.2.0.
echo "alice@greycatch.test" >>"$DIR/postgrey/whitelist_recipients"
guarded -- /usr/sbin/postgrey --inet=127.0.0.1:$POSTGREY_PORT --delay="$GREYLIST_DELAY" \
  --dbdir="$DIR/postgrey/db" --user="$PG_USER" --group="$(id -gn "$PG_USER")" \
  --auto-whitelist-clients=0 \
  --whitelist-clients="$DIR/postgrey/whitelist_clients" \
  --whitelist-recipients="$DIR/postgrey/whitelist_recipients" \
  >>"$DIR/log/postgrey.log" 2>&1 &
record_pid postgrey $!

# ------------------------------------------------------------------------------------------
# 6. Postfix: one instance, config/queue/data under $DIR/postfix, listeners on .2 .4 .5 .6 .7
# ------------------------------------------------------------------------------------------
PF=$DIR/postfix/etc
VDOMAINS="alpha.test catchall.test failover.test implicit.test greylist.test tls.test tlsonly.test vrfy.test limit.test bulk.test send.test"
# issue 18's cases
VDOMAINS="$VDOMAINS nullsender.test nullrcpt.test closed.test dnsblconnect.test dnsblrcpt.test mailbox.test greycatch.test utf8.test xn--bcher-kva.test equal.test noaddr.test cname.test v6.test"
{
  echo "# virtual mailboxes (texthash: no postmap needed). Key -> maildir under $DIR/mail."
  for u in alice bob; do echo "$u@alpha.test alpha.test/$u/"; done
  echo "@catchall.test catchall.test/all/"
  echo "alice@failover.test failover.test/alice/"
  echo "alice@implicit.test implicit.test/alice/"
  echo "alice@greylist.test greylist.test/alice/"
  echo "alice@tls.test tls.test/alice/"
  echo "alice@tlsonly.test tlsonly.test/alice/"
  echo "alice@vrfy.test vrfy.test/alice/"
  for i in $(seq 1 20); do echo "u$i@limit.test limit.test/u$i/"; done
  for u in alice bob; do echo "$u@bulk.test bulk.test/$u/"; done
  for u in rcpt-to rcpt-cc rcpt-bcc; do echo "$u@send.test send.test/$u/"; done
  # issue 18's cases (the refusals of mailbox.test, dnsblrcpt.test and nullrcpt.test are in cases_access)
  for d in nullsender nullrcpt closed dnsblconnect dnsblrcpt mailbox equal noaddr cname v6 xn--bcher-kva; do
    echo "alice@$d.test $d.test/alice/"
  done
  echo "@greycatch.test greycatch.test/all/"
  echo "josé@utf8.test utf8.test/jose/"
} >"$PF/vmailbox"
# Issue 18: per-recipient refusals on 127.0.0.2, checked before reject_unlisted_recipient (like a
# DNSBL or a mailbox store would be). Postfix answers "<code> <dsn> <rcpt>: Recipient address
# rejected: <text>".
cat >"$PF/cases_access" <<'EOF'
dnsblrcpt.test 550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1
nullrcpt.test nullsender
disabled@mailbox.test 550 5.2.1 Mailbox disabled, not accepting messages
full@mailbox.test 452 4.2.2 Mailbox full
overquota@mailbox.test 552 5.2.2 Mailbox full: quota exceeded
later@mailbox.test 451 4.3.0 Temporary lookup failure
EOF
# The null sender, refused: at RCPT for nullrcpt.test (class "nullsender"), at MAIL on $NULLSENDER_IP.
printf '<> 550 5.7.1 Null sender not accepted here\n' >"$PF/null_rcpt_access"
printf '<> 553 5.7.1 Null sender not accepted here\n' >"$PF/null_mail_access"
# 554 instead of a greeting ($CLOSED_IP, $DNSBL_IP): client restrictions at connect (smtpd_delay_reject=no).
printf '127.0.0.0/8 554 5.3.2 No SMTP service here\n' >"$PF/closed_access"
printf '127.0.0.0/8 554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1\n' >"$PF/dnsbl_access"

# Cyrus SASL for the submission listeners: a sasldb (fresh on every start) with one user,
# $SASL_USER@$SASL_REALM, and the config of the SASL application "smtpd" (smtpd_sasl_path).
# Upstream Postfix reads it from cyrus_sasl_config_path (main.cf below); Debian's Postfix ignores
# that and looks in \$config_directory/sasl, so the file lives in $PF/sasl and both point there.
# (Without it, Cyrus offers every mechanism and looks for /etc/sasldb2, which is not ours.)
SASL_CONF=$PF/sasl
mkdir -p "$SASL_CONF"
rm -f "$DIR/sasldb2"
printf '%s' "$SASL_PASSWORD" | saslpasswd2 -c -p -f "$DIR/sasldb2" -u "$SASL_REALM" "$SASL_USER" ||
  die "saslpasswd2 failed"
chown root:postfix "$DIR/sasldb2"
chmod 640 "$DIR/sasldb2"
cat >"$SASL_CONF/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $DIR/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
EOF
chmod 755 "$SASL_CONF"
chmod 644 "$SASL_CONF/smtpd.conf"
printf '# recipient domains whose RCPTs go through postgrey\ngreylist.test greylist\ngreycatch.test greylist\n' >"$PF/greylist_access"

cat >"$PF/main.cf" <<EOF
# rcpt mail-world Postfix instance (generated by up.sh; do not edit, edit up.sh)
compatibility_level = 3.6
queue_directory = $DIR/postfix/spool
data_directory = $DIR/postfix/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $DIR/log/postfix.log
maillog_file_prefixes = $DIR
biff = no
readme_directory = no

# loopback only, IPv4 only; each listener binds its own 127.0.0.N (master.cf)
inet_interfaces = loopback-only
inet_protocols = $([ "$V6" = 1 ] && echo "ipv4, ipv6" || echo ipv4)
myhostname = mx.alpha.test
mydomain = alpha.test
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.1/32
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =

# never any DNS, never any mail leaving the machine
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
default_transport = error:5.7.1 the rcpt mail world sends no mail out
relay_transport = error:5.7.1 the rcpt mail world sends no mail out
local_transport = error:5.1.1 no local delivery in the rcpt mail world

# the served domains and their users
virtual_mailbox_domains = $VDOMAINS
virtual_mailbox_maps = texthash:$PF/vmailbox
virtual_mailbox_base = $DIR/mail
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)

# recipients: unknown users 550 5.1.1 at once, greylist.test through postgrey, no relaying
smtpd_restriction_classes = greylist, nullsender
greylist = check_policy_service inet:127.0.0.1:$POSTGREY_PORT
smtpd_relay_restrictions = reject_unauth_destination
nullsender = check_sender_access texthash:$PF/null_rcpt_access
smtpd_recipient_restrictions = check_recipient_access texthash:$PF/cases_access, reject_unlisted_recipient, check_recipient_access texthash:$PF/greylist_access, permit
# UTF-8 local parts (utf8.test): on by default at this compatibility level, said out loud
smtputf8_enable = yes

# TLS material (offered only where a listener sets smtpd_tls_security_level)
smtpd_tls_cert_file = $DIR/tls/cert.pem
smtpd_tls_key_file = $DIR/tls/key.pem
smtpd_tls_security_level = none
smtp_tls_security_level = none

# SASL (Cyrus, sasldb): AUTH is enabled only on the submission listeners of $SEND_IP (master.cf)
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $SASL_CONF
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_local_domain =

# VRFY answers "502 5.5.1 VRFY command is disabled" except on 127.0.0.6 (vrfy.test)
disable_vrfy_command = yes
# left at their stock values on purpose (the bulk scenario depends on them):
# smtpd_soft_error_limit = 10, smtpd_hard_error_limit = 20, smtpd_error_sleep_time = 1s,
# smtpd_recipient_limit = 1000 (5 on 127.0.0.7), smtpd_junk_command_limit = 100
EOF

cat >"$PF/master.cf" <<'EOF'
# rcpt mail-world Postfix services (generated by up.sh). No chroot anywhere.
# service       type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.2:smtp  inet  n       -       n       -       -       smtpd
127.0.0.4:smtp  inet  n       -       n       -       -       smtpd -o syslog_name=postfix/tls -o myhostname=mx.tls.test -o smtpd_tls_security_level=may
127.0.0.5:smtp  inet  n       -       n       -       -       smtpd -o syslog_name=postfix/tlsonly -o myhostname=mx.tlsonly.test -o smtpd_tls_security_level=encrypt
127.0.0.6:smtp  inet  n       -       n       -       -       smtpd -o syslog_name=postfix/vrfy -o myhostname=mx.vrfy.test -o disable_vrfy_command=no
127.0.0.7:smtp  inet  n       -       n       -       -       smtpd -o syslog_name=postfix/limit -o myhostname=mx.limit.test -o smtpd_recipient_limit=5
pickup          unix  n       -       n       60      1       pickup
cleanup         unix  n       -       n       -       0       cleanup
qmgr            unix  n       -       n       300     1       qmgr
tlsmgr          unix  -       -       n       1000?   1       tlsmgr
rewrite         unix  -       -       n       -       -       trivial-rewrite
bounce          unix  -       -       n       -       0       bounce
defer           unix  -       -       n       -       0       bounce
trace           unix  -       -       n       -       0       bounce
verify          unix  -       -       n       -       1       verify
flush           unix  n       -       n       1000?   0       flush
proxymap        unix  -       -       n       -       -       proxymap
proxywrite      unix  -       -       n       -       1       proxymap
smtp            unix  -       -       n       -       -       smtp
relay           unix  -       -       n       -       -       smtp
showq           unix  n       -       n       -       -       showq
error           unix  -       -       n       -       -       error
retry           unix  -       -       n       -       -       error
discard         unix  -       -       n       -       -       discard
local           unix  -       n       n       -       -       local
virtual         unix  -       n       n       -       -       virtual
lmtp            unix  -       -       n       -       -       lmtp
anvil           unix  -       -       n       -       1       anvil
scache          unix  -       -       n       -       1       scache
postlog         unix-dgram n  -       n       -       1       postlogd
EOF
# Issue 18's listeners: the null sender refused at MAIL; 554 instead of a greeting (a closed
# server, a DNSBL refusal); an MX host on ::1 only.
cat >>"$PF/master.cf" <<EOF
$NULLSENDER_IP:smtp inet  n       -       n       -       -       smtpd -o syslog_name=postfix/nullsender -o myhostname=mx.nullsender.test -o smtpd_delay_reject=no -o smtpd_sender_restrictions=check_sender_access,texthash:$PF/null_mail_access
$CLOSED_IP:smtp inet  n       -       n       -       -       smtpd -o syslog_name=postfix/closed -o myhostname=mx.closed.test -o smtpd_delay_reject=no -o smtpd_client_restrictions=check_client_access,cidr:$PF/closed_access
$DNSBL_IP:smtp inet  n       -       n       -       -       smtpd -o syslog_name=postfix/dnsbl -o myhostname=mx.dnsblconnect.test -o smtpd_delay_reject=no -o smtpd_client_restrictions=check_client_access,cidr:$PF/dnsbl_access
EOF
if [ "$V6" = 1 ]; then
  echo "[::1]:smtp      inet  n       -       n       -       -       smtpd -o syslog_name=postfix/v6 -o myhostname=mx.v6.test" >>"$PF/master.cf"
fi
# send.test on $SEND_IP: 25 relay (no AUTH), 587 submission (STARTTLS before anything, AUTH only
# under TLS), 465 submissions (implicit TLS, AUTH). Only authenticated clients may submit.
SEND_TLS="-o smtpd_tls_cert_file=$DIR/tls/send-cert.pem -o smtpd_tls_key_file=$DIR/tls/send-key.pem"
SEND_AUTH="-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
cat >>"$PF/master.cf" <<EOF
$SEND_IP:25    inet  n       -       n       -       -       smtpd -o syslog_name=postfix/send -o myhostname=mx.send.test
$SEND_IP:587   inet  n       -       n       -       -       smtpd -o syslog_name=postfix/submission -o myhostname=mx.send.test -o smtpd_tls_security_level=encrypt $SEND_TLS $SEND_AUTH
$SEND_IP:465   inet  n       -       n       -       -       smtpd -o syslog_name=postfix/submissions -o myhostname=mx.send.test -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt $SEND_TLS $SEND_AUTH
EOF

chown root:root "$DIR/postfix/spool"
chown postfix:postfix "$DIR/postfix/data"
chown nobody:nogroup "$DIR/mail"
: >>"$DIR/log/postfix.log"
(guarded -- /usr/sbin/postfix -c "$PF" start) >"$DIR/log/postfix-start.log" 2>&1 ||
  { cat "$DIR/log/postfix-start.log" >&2; tail -n 20 "$DIR/log/postfix.log" >&2; die "postfix start failed"; }
MASTER_PID=$(tr -dc 0-9 <"$DIR/postfix/spool/pid/master.pid" 2>/dev/null || true)
[ -n "$MASTER_PID" ] || die "postfix started but wrote no master.pid"
record_pid postfix "$MASTER_PID"

# ------------------------------------------------------------------------------------------
# 7. OpenSMTPD on 127.0.0.3:25
# ------------------------------------------------------------------------------------------
OS=$DIR/opensmtpd
NOBODY_IDS="$(id -u nobody):$(getent group nogroup | cut -d: -f3)"
# userbase table: user -> uid:gid:home. Local parts not listed get "550 Invalid recipient".
printf 'alice %s:%s\n' "$NOBODY_IDS" "$DIR/mail/opensmtpd.test" >"$OS/users"
cat >"$OS/smtpd.conf" <<EOF
# rcpt mail-world OpenSMTPD (generated by up.sh)
pki mx.opensmtpd.test cert "$DIR/tls/cert.pem"
pki mx.opensmtpd.test key "$DIR/tls/key.pem"
table users file:$OS/users

listen on 127.0.0.3 port 25 hostname mx.opensmtpd.test

action "deliver" maildir "$DIR/mail/opensmtpd.test/%{rcpt.user}" userbase <users>
match from any for domain "opensmtpd.test" action "deliver"
EOF
mkdir -p "$DIR/mail/opensmtpd.test"
chown nobody:nogroup "$DIR/mail/opensmtpd.test"
# In its namespace: our resolv.conf; the unpacked helpers at the path compiled into smtpd
# (/usr/libexec/opensmtpd, used for deliveries); its spool (/var/spool/smtpd) under $DIR.
"$SMTPD_BIN" -n -f "$OS/smtpd.conf" >"$DIR/log/opensmtpd-check.log" 2>&1 ||
  { cat "$DIR/log/opensmtpd-check.log" >&2; die "OpenSMTPD rejects its configuration"; }
guarded --bind "$SMTPD_TREE/usr/libexec" /usr/libexec --bind "$OS/spool" /var/spool -- \
  "$SMTPD_BIN" -d -f "$OS/smtpd.conf" >>"$DIR/log/opensmtpd.log" 2>&1 &
record_pid opensmtpd $!

# ------------------------------------------------------------------------------------------
# 8. Wait until everything answers (max ~30 s)
# ------------------------------------------------------------------------------------------
greeting() { # greeting IP[:PORT]: print the first line an SMTP server at IP:PORT (25) sends
  local host=${1%%:*} port=25
  [ "$host" = "$1" ] || port=${1#*:}
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r line <&3 &&
    printf "QUIT\r\n" >&3 && printf "%s\n" "$line"' greeting "$host" "$port" 2>/dev/null | tr -d '\r'
}
tls_greeting() { # tls_greeting IP:PORT: the first line an implicit-TLS SMTP server sends
  printf 'QUIT\r\n' | timeout 5 openssl s_client -connect "$1" -quiet -verify_quiet 2>/dev/null |
    head -n 1 | tr -d '\r'
}
alive() { # every recorded process still runs?
  local f
  for f in "$DIR"/run/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null || { basename "$f" .pid; return 1; }; done
}
deadline=$((SECONDS + 30))
waiting="dns postgrey 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 $SEND_IP $SEND_IP:587 tls:$SEND_IP:465 $NULLSENDER_IP"
# The two that refuse at connect answer with 554, not 220; ::1 is dialled as "v6".
waiting="$waiting refuse:$CLOSED_IP refuse:$DNSBL_IP"
[ "$V6" = 1 ] && waiting="$waiting v6"
declare -A BANNER
while [ -n "$waiting" ]; do
  if ! dead=$(alive); then
    tail -n 20 "$DIR"/log/*.log >&2 || true
    die "$dead exited during start-up (logs: $DIR/log)"
  fi
  left=""
  for w in $waiting; do
    case "$w" in
      dns) dig +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 alpha.test MX +short 2>/dev/null | grep -q mx.alpha.test || left="$left $w" ;;
      postgrey) timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$POSTGREY_PORT" 2>/dev/null || left="$left $w" ;;
      refuse:*)
        if line=$(greeting "${w#refuse:}") && [ "${line:0:4}" = "554 " ]; then BANNER[$w]=$line; else left="$left $w"; fi
        ;;
      v6)
        # shellcheck disable=SC2016 # the inner script expands its own arguments
        if line=$(timeout 3 bash -c 'exec 3<>/dev/tcp/::1/25 && IFS= read -r line <&3 && printf "QUIT\r\n" >&3 && printf "%s\n" "$line"' 2>/dev/null | tr -d '\r') &&
          [ "${line:0:4}" = "220 " ]; then BANNER[$w]=$line; else left="$left $w"; fi
        ;;
      tls:*)
        if line=$(tls_greeting "${w#tls:}") && [ "${line:0:4}" = "220 " ]; then BANNER[$w]=$line; else left="$left $w"; fi
        ;;
      *)
        if line=$(greeting "$w") && [ "${line:0:4}" = "220 " ]; then BANNER[$w]=$line; else left="$left $w"; fi
        ;;
    esac
  done
  waiting=${left# }
  [ -z "$waiting" ] && break
  [ $SECONDS -lt $deadline ] || { tail -n 20 "$DIR"/log/*.log >&2 || true; die "not answering after 30 s: $waiting"; }
  sleep 0.3
done
START_SECS=$(since "$T_START")
echo "install=${INSTALL_SECS}s start=${START_SECS}s total=$(since "$T_ALL")s" >"$DIR/run/timings"

# ------------------------------------------------------------------------------------------
# 8b. Dante (SOCKS5) on 127.0.0.10:1080, user/password, onward from 127.0.0.11
# ------------------------------------------------------------------------------------------
# Started after the rest answers, and not fatal: a Dante that does not come up fails only the
# transport scenarios (they cannot connect), not the whole world.
# Dante's "username" method checks the system's password database: a system user without a
# shell or home, whose password is set here at each start.
{ getent passwd "$SOCKS_USER" >/dev/null ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --comment "rcpt mail-world SOCKS5 user" "$SOCKS_USER"; } ||
  echo "mail-world: WARNING: cannot create the SOCKS5 user $SOCKS_USER" >&2
echo "$SOCKS_USER:$SOCKS_PASSWORD" | chpasswd || echo "mail-world: WARNING: cannot set $SOCKS_USER's password" >&2
mkdir -p "$DIR/dante"
cat >"$DIR/dante/danted.conf" <<EOF
# rcpt mail-world Dante (generated by up.sh): SOCKS5 CONNECT on loopback only.
logoutput: $DIR/log/danted.log
internal: $SOCKS_IP port = $SOCKS_PORT
external: $SOCKS_EXTERNAL
clientmethod: none
socksmethod: username
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: $SOCKS_IP/32
  log: error
}
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect
  socksmethod: username
  log: connect disconnect error
}
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: connect error
}
EOF
: >"$DIR/log/danted.log"
guarded -- /usr/sbin/danted -f "$DIR/dante/danted.conf" -p "$DIR/dante/danted.pid" >>"$DIR/log/danted.stderr" 2>&1 &
record_pid danted $!
SOCKS_STATUS="Dante, user $SOCKS_USER, onward from $SOCKS_EXTERNAL"
socks_deadline=$((SECONDS + 10))
until timeout 1 bash -c "exec 3<>/dev/tcp/$SOCKS_IP/$SOCKS_PORT" 2>/dev/null; do
  if ! kill -0 "$(cat "$DIR/run/danted.pid")" 2>/dev/null || [ $SECONDS -ge $socks_deadline ]; then
    tail -n 5 "$DIR/log/danted.log" "$DIR/log/danted.stderr" >&2 || true
    echo "mail-world: WARNING: Dante did not come up: the SOCKS5 scenarios will fail" >&2
    kill "$(cat "$DIR/run/danted.pid")" 2>/dev/null || true
    rm -f "$DIR/run/danted.pid"
    SOCKS_STATUS="NOT RUNNING (see $DIR/log/danted.log)"
    break
  fi
  sleep 0.3
done

# ------------------------------------------------------------------------------------------
# 9. Summary
# ------------------------------------------------------------------------------------------
cat <<EOF
mail-world: up in $(since "$T_ALL")s (install ${INSTALL_SECS}s, start ${START_SECS}s); state in $DIR
  DNS        127.0.0.1:$DNS_PORT udp+tcp   zone .test (dig -p $DNS_PORT @127.0.0.1 alpha.test MX)
  postgrey   127.0.0.1:$POSTGREY_PORT tcp   delay ${GREYLIST_DELAY}s
  SOCKS5     $SOCKS_IP:$SOCKS_PORT        $SOCKS_STATUS
  127.0.0.2:25  ${BANNER[127.0.0.2]}   alpha catchall failover implicit greylist bulk .test
  127.0.0.3:25  ${BANNER[127.0.0.3]}   opensmtpd.test
  127.0.0.4:25  ${BANNER[127.0.0.4]}   tls.test (STARTTLS offered)
  127.0.0.5:25  ${BANNER[127.0.0.5]}   tlsonly.test (STARTTLS required)
  127.0.0.6:25  ${BANNER[127.0.0.6]}   vrfy.test (VRFY enabled)
  127.0.0.7:25  ${BANNER[127.0.0.7]}   limit.test (5 RCPT per transaction)
  $SEND_IP:25  ${BANNER[$SEND_IP]}   send.test relay (no AUTH)
  $SEND_IP:587 ${BANNER[$SEND_IP:587]}   send.test submission (STARTTLS required, then AUTH as $SASL_USER@$SASL_REALM)
  $SEND_IP:465 ${BANNER[tls:$SEND_IP:465]}   send.test submissions (implicit TLS, AUTH)
  127.0.0.9:25  (nothing listens)   dead.failover.test, mx1.equal.test
  $NULLSENDER_IP:25 ${BANNER[$NULLSENDER_IP]}   nullsender.test (MAIL FROM:<> refused)
  $CLOSED_IP:25 ${BANNER[refuse:$CLOSED_IP]}   closed.test
  $DNSBL_IP:25 ${BANNER[refuse:$DNSBL_IP]}   dnsblconnect.test
  [::1]:25      $([ "$V6" = 1 ] && echo "${BANNER[v6]}   v6.test" || echo "(no IPv6 on lo: v6.test has no server)")
EOF
