#!/usr/bin/env bash
# smoke.sh: check, after up.sh, that every scenario of the loopback mail world answers as
# README.md says. One "ok"/"FAIL" line per scenario; exit 1 if any failed. Takes ~15 s (the
# bulk scenario alone waits out Postfix's 1 s error sleeps).
#
# Needs dig (bind9-dnsutils, installed by up.sh) and python3 (smtplib, ssl).
set -euo pipefail

DIR=${MAIL_WORLD_DIR:-/tmp/rcpt-mail-world}
GREYLIST_DELAY=${MAIL_WORLD_GREYLIST_DELAY:-2}
command -v dig >/dev/null || { echo "mail-world smoke: dig not found (run up.sh first)" >&2; exit 1; }
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "mail-world smoke: python3 not found" >&2; exit 1; }

exec "$PY" - "$DIR" "$GREYLIST_DELAY" <<'PYTHON'
import os, random, smtplib, socket, ssl, subprocess, sys, threading, time

DIR, DELAY = sys.argv[1], float(sys.argv[2])
DNS = ["-p", "5354", "@127.0.0.1"]
# unique per run, in letters: postgrey remembers triplets and turns digits in senders into '#'
RUN = "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))
SENDER = "smoke-%s@smoke.test" % RUN
SCENARIOS = []  # (name, slow, fn); results[name] = (ok, detail)
results = {}


def check(name, slow=False):
    def wrap(fn):
        def run():
            t = time.monotonic()
            try:
                ok, detail = fn()
            except Exception as e:  # a crash is a failure of that scenario only
                ok, detail = False, "%s: %s" % (type(e).__name__, e)
            results[name] = (ok, "%s (%.1fs)" % (detail, time.monotonic() - t))
        SCENARIOS.append((name, slow, run))
        return fn
    return wrap


def dig(name, qtype, *extra):
    out = subprocess.run(["dig", *DNS, "+time=2", "+tries=1", *extra, name, qtype],
                         capture_output=True, text=True, timeout=10).stdout
    status = out.split("status: ", 1)[1].split(",", 1)[0] if "status: " in out else "?"
    short = subprocess.run(["dig", *DNS, "+time=2", "+tries=1", "+short", *extra, name, qtype],
                           capture_output=True, text=True, timeout=10).stdout.split("\n")
    return status, sorted(line.strip() for line in short if line.strip())


def mx_ip(domain):
    """Where the world's DNS says mail for domain goes: lowest MX (or implicit A) -> IPv4."""
    _, mx = dig(domain, "MX")
    host = sorted(mx, key=lambda r: int(r.split()[0]))[0].split()[1] if mx else domain
    _, a = dig(host, "A")
    if not a:
        raise RuntimeError("no A record for %s" % host)
    return a[0]


def session(domain_or_ip, ehlo=True):
    ip = domain_or_ip if domain_or_ip[0].isdigit() else mx_ip(domain_or_ip)
    s = smtplib.SMTP(local_hostname="smoke.test", timeout=30)
    code, banner = s.connect(ip, 25)
    s._host = ip  # what smtplib's starttls() passes as server_hostname (SNI)
    s.banner = "%d %s" % (code, text(banner))
    if ehlo:
        s.ehlo()
    return s


def text(msg):
    return msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)


def rcpt_codes(domain, locals_, stop_on=()):
    s = session(domain)
    s.mail(SENDER)
    out = []
    for lp in locals_:
        code, msg = s.rcpt("%s@%s" % (lp, domain))
        out.append((code, text(msg)))
        if code in stop_on:
            break
    try:
        s.quit()
    except smtplib.SMTPException:
        pass
    return out


# ---------------------------------------------------------------------------------- DNS
@check("dns alpha.test MX")
def _():
    _, mx = dig("alpha.test", "MX")
    _, a = dig("mx.alpha.test", "A")
    return mx == ["10 mx.alpha.test."] and a == ["127.0.0.2"], "MX %s, A %s" % (mx, a)


@check("dns nullmx.test MX 0 .")
def _():
    st, mx = dig("nullmx.test", "MX")
    return st == "NOERROR" and mx == ["0 ."], "%s %s" % (st, mx)


@check("dns implicit.test no MX, A")
def _():
    st, mx = dig("implicit.test", "MX")
    _, a = dig("implicit.test", "A")
    return st == "NOERROR" and mx == [] and a == ["127.0.0.2"], "MX %s %s, A %s" % (st, mx, a)


@check("dns unknown.test NXDOMAIN")
def _():
    st, _ = dig("unknown.test", "MX")
    st2, _ = dig("nothing.here.test", "A")
    return st == "NXDOMAIN" and st2 == "NXDOMAIN", "unknown.test %s, nothing.here.test %s" % (st, st2)


@check("dns over tcp")
def _():
    _, mx = dig("tls.test", "MX", "+tcp")
    return mx == ["10 mx.tls.test."], "tls.test MX %s" % mx


@check("dns failover.test MX 10 dead, 20 mx")
def _():
    _, mx = dig("failover.test", "MX")
    _, dead = dig("dead.failover.test", "A")
    try:
        socket.create_connection((dead[0], 25), timeout=3).close()
        refused = False
    except OSError:
        refused = True
    ok = mx == ["10 dead.failover.test.", "20 mx.failover.test."] and dead == ["127.0.0.9"] and refused
    return ok, "MX %s, dead A %s, connect to :25 %s" % (mx, dead, "refused" if refused else "ACCEPTED")


# --------------------------------------------------------------------------------- SMTP
@check("alpha.test alice 250, nobody 550")
def _():
    (c1, m1), (c2, m2) = rcpt_codes("alpha.test", ["alice", "nobody"])
    return c1 == 250 and c2 == 550 and m2.startswith("5.1.1"), "alice %d, nobody %d %s" % (c1, c2, m2[:40])


@check("catchall.test x 250")
def _():
    [(c, m)] = rcpt_codes("catchall.test", ["x%s" % RUN])
    return c == 250, "%d %s" % (c, m)


@check("failover.test alice 250 (MX 20)")
def _():
    s = session("127.0.0.2")  # the MX 20 host; MX 10 (127.0.0.9) refuses, checked above
    s.mail(SENDER)
    c, m = s.rcpt("alice@failover.test")
    s.quit()
    return c == 250, "%d %s" % (c, text(m))


@check("implicit.test alice 250 (A record)")
def _():
    [(c, m)] = rcpt_codes("implicit.test", ["alice"])
    return c == 250, "%d %s" % (c, text(m))


@check("relay to unknown.test 554")
def _():
    s = session("127.0.0.2")
    s.mail(SENDER)
    c, m = s.rcpt("x@unknown.test")
    s.quit()
    return c == 554, "%d %s" % (c, text(m)[:50])


@check("greylist.test 450 then 250", slow=True)
def _():
    [(c1, m1)] = rcpt_codes("greylist.test", ["alice"])
    [(c2, _)] = rcpt_codes("greylist.test", ["alice"])  # immediate retry: still greylisted
    time.sleep(DELAY + 1.5)
    [(c3, m3)] = rcpt_codes("greylist.test", ["alice"])
    [(c4, m4)] = rcpt_codes("greylist.test", ["nobody"])
    ok = c1 == 450 and "4.2.0" in m1 and "Greylisted" in m1 and c2 == 450 and c3 == 250 and c4 == 550
    return ok, "first %d %s | retry %d | after %.0fs %d | unknown %d" % (c1, m1[:32], c2, DELAY + 1.5, c3, c4)


@check("tls.test STARTTLS")
def _():
    s = session("tls.test")
    offered = s.has_extn("starttls")
    ctx = ssl.create_default_context(cafile=os.path.join(DIR, "tls", "cert.pem"))
    ctx.check_hostname = False  # we dial the IP; the chain is still verified
    code, _ = s.starttls(context=ctx)
    version = s.sock.version()
    s.ehlo()
    s.mail(SENDER)
    c, _ = s.rcpt("alice@tls.test")
    s.quit()
    return offered and code == 220 and c == 250, "offered %s, STARTTLS %d, %s, alice %d" % (offered, code, version, c)


@check("tlsonly.test MAIL before STARTTLS 530")
def _():
    s = session("tlsonly.test")
    offered = s.has_extn("starttls")
    code, msg = s.docmd("MAIL", "FROM:<%s>" % SENDER)
    s.close()
    return offered and code == 530 and text(msg).startswith("5.7.0"), "%d %s" % (code, text(msg))


@check("vrfy.test VRFY alice 252/250")
def _():
    s = session("vrfy.test")
    c1, m1 = s.verify("alice@vrfy.test")
    c2, _ = s.verify("nobody@vrfy.test")
    s.quit()
    s2 = session("127.0.0.2")
    c3, _ = s2.verify("alice@alpha.test")
    s2.quit()
    ok = c1 in (250, 252) and c2 == 550 and c3 == 502
    return ok, "alice %d %s, nobody %d, (VRFY on 127.0.0.2: %d)" % (c1, text(m1), c2, c3)


@check("limit.test 6th RCPT 452")
def _():
    codes = rcpt_codes("limit.test", ["u%d" % i for i in range(1, 7)])
    c, m = codes[-1]
    ok = [x for x, _ in codes[:5]] == [250] * 5 and c == 452 and m.startswith("4.5.3")
    return ok, "%s, 6th: %s" % ([x for x, _ in codes], m)


@check("opensmtpd.test alice 250, unknown 550")
def _():
    s = session("opensmtpd.test")
    banner_ok = s.banner.startswith("220 ") and "OpenSMTPD" in s.banner
    pipelining = s.has_extn("pipelining")
    s.mail(SENDER)
    c1, m1 = s.rcpt("alice@opensmtpd.test")
    c2, m2 = s.rcpt("nobody@opensmtpd.test")
    s.quit()
    ok = c1 == 250 and c2 == 550 and not pipelining and banner_ok
    return ok, "%s | alice %d %s | nobody %d %s | PIPELINING %s" % (
        s.banner[:30], c1, text(m1)[:30], c2, text(m2)[:30], pipelining)


@check("bulk.test 30 unknown -> 421 after 20", slow=True)
def _():
    codes = rcpt_codes("bulk.test", ["nx%d-%s" % (i, RUN) for i in range(30)], stop_on=(421,))
    nums = [c for c, _ in codes]
    ok = nums == [550] * 20 + [421]
    return ok, "%d x 550 then %s" % (nums.count(550), codes[-1][0:1] + (codes[-1][1][:38],))


# The slow scenarios (bulk waits out ~11 s of Postfix error sleeps, greylisting waits its
# delay) run in threads beside the quick ones; results print in declaration order.
started = time.monotonic()
threads = [threading.Thread(target=run) for _, slow, run in SCENARIOS if slow]
for t in threads:
    t.start()
for _, slow, run in SCENARIOS:
    if not slow:
        run()
for t in threads:
    t.join()
failed = 0
for name, _, _ in SCENARIOS:
    ok, detail = results[name]
    failed += not ok
    print("%-4s %-38s %s" % ("ok" if ok else "FAIL", name, detail))
print("mail-world smoke took %.1fs" % (time.monotonic() - started))
print("smoke: %d passed, %d failed" % (len(SCENARIOS) - failed, failed))
sys.exit(1 if failed else 0)
PYTHON
