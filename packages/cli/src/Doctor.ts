/**
 * `rcpt doctor`: audits this host before a run (outbound port 25 to a given MX, EHLO name and
 * reverse DNS, DNS blocklists), one line per check with the fix for each failure. See
 * `Doctor` in @rcpt/verifier for the checks.
 *
 * Exit codes: 0 no check failed; 1 at least one failed; 64 usage error.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { Doctor } from "@rcpt/verifier"
import * as ExitCode from "./ExitCode.ts"
import * as Options from "./Options.ts"
import * as Table from "./Table.ts"

/** Control and bidi characters a remote server might send, as `\u{..}`: nothing reaches the terminal raw. */
const visible = (text: string): string =>
  text.replace(
    // oxlint-disable-next-line no-control-regex -- control characters are exactly what is escaped
    /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`
  )

const marks = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const
const colors = { pass: "deliverable", fail: "undeliverable", skip: "unknown" } as const

/**
 * The report as lines for people: `PASS port25  ...`, and `  fix: ...` under each failure.
 *
 * @category formatting
 * @since 0.1.0
 */
export const render = (report: Doctor.Report, color: boolean): string => {
  const width = Math.max(...report.checks.map((c) => c.name.length))
  const lines = report.checks.flatMap((c) => [
    `${Table.paint(colors[c.status], marks[c.status], color)}  ${c.name.padEnd(width)}  ${visible(c.summary)}`,
    ...(c.fix === null ? [] : [`      ${" ".repeat(width)}  fix: ${visible(c.fix)}`])
  ])
  const failed = report.checks.filter((c) => c.status === "fail").length
  lines.push(
    failed === 0
      ? `This host (${report.address ?? "address unknown"}, EHLO ${report.helo}) looks ready to verify.`
      : `${failed} check${failed === 1 ? "" : "s"} failed: servers may refuse or distrust this host, and results would be unknown.`
  )
  return `${lines.join("\n")}\n`
}

/**
 * @category commands
 * @since 0.1.0
 */
export const command = Command.make(
  "doctor",
  {
    mx: Flag.String("mx").pipe(
      Flag.withMetavar("host"),
      Flag.withDescription(
        "An MX host (or a mail domain) to open an SMTP connection to, e.g. gmail-smtp-in.l.google.com"
      )
    ),
    address: Flag.String("address").pipe(
      Flag.withMetavar("ip"),
      Flag.withDescription("This host's public address. Default: the source address of the connection to --mx"),
      Flag.optional
    ),
    dnsbl: Flag.String("dnsbl").pipe(
      Flag.withMetavar("zone"),
      Flag.withDescription(
        `DNS blocklist zone to look this host up in; repeatable. Default: ${Doctor.defaultBlocklists.join(", ")}`
      ),
      Flag.atLeast(0)
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("The report as one JSON object"), Flag.withDefault(false)),
    dnsServers: Options.flags.dnsServers,
    port: Options.flags.port,
    helo: Options.flags.helo,
    allowTarget: Options.flags.allowTarget
  },
  Effect.fn(function* (input) {
    // Only the flags that matter here; the rest of the verifier's are left to their defaults.
    const resolved = yield* Options.resolve({
      ...Options.none,
      dnsServers: input.dnsServers,
      port: input.port,
      helo: input.helo,
      allowTarget: input.allowTarget
    })
    const v = resolved.verifier
    // Loaded when doctor runs, as the other commands load theirs (start-up stays light).
    const { NodeResolver, NodeSmtpTransport, NodeVerifier } = yield* Effect.promise(() => import("@rcpt/node"))
    const report = yield* Doctor.run({
      mx: input.mx,
      helo: v.helo ?? NodeVerifier.hostName(),
      address: Option.getOrUndefined(input.address),
      port: v.port,
      timeout: "10 seconds",
      blocklists: input.dnsbl.length > 0 ? input.dnsbl : undefined,
      allowTargets: v.allowTargets
    }).pipe(
      Effect.provide(
        Layer.merge(
          NodeSmtpTransport.layer,
          NodeResolver.layer(v.dnsServers === undefined ? {} : { nameServers: v.dnsServers })
        )
      )
    )
    yield* Effect.sync(() =>
      process.stdout.write(
        input.json ? `${JSON.stringify(report)}\n` : render(report, Table.colorEnabled(process.stdout))
      )
    )
    if (!report.ok) return yield* ExitCode.silent(ExitCode.codes.undeliverable)
  })
).pipe(
  Command.withShortDescription("Check this host can verify: port 25, EHLO name, reverse DNS, blocklists"),
  Command.withDescription(
    [
      "Audit this host before a run. Each check passes, fails (with the fix) or is skipped (with why):",
      "    port25        an SMTP connection to --mx gets a 220 greeting (cloud providers often block port 25)",
      "    ehlo_address  the EHLO name (--helo) resolves to this host's address",
      "    ptr           that address's reverse DNS (PTR) names the EHLO name",
      "    dnsbl:<zone>  the address is on no DNS blocklist (--dnsbl to choose them)",
      "  Behind NAT the connection's source address is private: give the public one with --address.",
      "  Exit codes: 0 no check failed; 1 at least one failed; 64 usage error."
    ].join("\n")
  ),
  Command.withExamples([
    {
      command: "rcpt doctor --mx gmail-smtp-in.l.google.com --helo verify.mydomain.example",
      description: "Before the first run"
    }
  ])
)
