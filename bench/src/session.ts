/**
 * `npm run bench:session -- [recipients] [pipeline] [perTransaction]`: the verification session machine alone
 * (`@rcpt/smtp` `Session`, no I/O), one session of N recipients against a scripted Postfix-like server answering each
 * write in one packet (every third RCPT 550, every fifth 450, the rest 250; 452 past 1,000 in a transaction). Prints
 * the machine's time and digests of the result (whole, and without the transcript), so that two versions of the
 * machine can be compared: same digest, different time.
 *
 * @since 0.2.0
 */
import { createHash } from "node:crypto"
import { Result } from "effect"
import { Address, Session } from "@rcpt/smtp"

const [size = 5000, pipeline = 100, perTransaction = 0] = process.argv.slice(2).map(Number)
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const code = (n: number) => (n % 3 === 0 ? 550 : n % 5 === 0 ? 450 : 250)
let inTransaction = 0
const answer = (text: string) =>
  text
    .split("\r\n")
    .slice(0, -1)
    .map((line) => {
      if (line.startsWith("EHLO")) return "250-mx.bench.test\r\n250 PIPELINING\r\n"
      if (line.startsWith("MAIL")) return "250 2.1.0 Ok\r\n"
      if (line === "RSET") {
        inTransaction = 0
        return "250 2.0.0 Ok\r\n"
      }
      if (line === "QUIT") return "221 2.0.0 Bye\r\n"
      const m = /^RCPT TO:<u(\d+)@x\.test>$/.exec(line)
      if (m === null) return "550 5.1.1 unknown\r\n"
      if (++inTransaction > 1000) return "452 4.5.3 Error: too many recipients\r\n"
      return `${code(Number(m[1]))} ${code(Number(m[1])) === 250 ? "2.1.5 Ok" : "5.1.1 no"}\r\n`
    })
    .join("")
const mailbox = (s: string) => Result.getOrThrow(Address.parse(s))
const config: Session.Config = {
  clientName: "bench.rcpt.test",
  mailFrom: "",
  recipients: Array.from({ length: size }, (_, n) => mailbox(`u${n}@x.test`)),
  servername: "mx.bench.test",
  ...Session.defaults,
  maxPipeline: pipeline,
  maxErrors: undefined,
  probes: [mailbox("probe@x.test")],
  tls: "off",
  maxRecipientsPerTransaction: perTransaction > 0 ? perTransaction : undefined
}
const started = performance.now()
let step = Session.step(Session.make(config), Session.Input.Connected())
step = Session.step(step.state, Session.Input.Received({ bytes: encoder.encode("220 mx.bench.test ESMTP\r\n") }))
let result: Session.SessionResult | undefined
while (result === undefined) {
  for (const a of step.actions) if (a._tag === "Finished") result = a.result
  if (result !== undefined) break
  const out = step.actions.flatMap((a) => (a._tag === "Send" ? [decoder.decode(a.bytes)] : [])).join("")
  step = Session.step(
    step.state,
    out === "" ? Session.Input.ConnectionClosed() : Session.Input.Received({ bytes: encoder.encode(answer(out)) })
  )
}
const ms = performance.now() - started
const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16)
// `replies`: the result without its transcript, which records when each command went out (a
// machine that writes earlier, with the same replies, has a different transcript).
const { transcript: _, ...replies } = result
console.log(
  `${size} recipients, pipeline ${pipeline}: ${ms.toFixed(0)} ms, result ${digest(result)}, replies ${digest(replies)}`
)
