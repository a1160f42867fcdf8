/**
 * rcpt as a library: `Verifier.verifyMany` over the list file as a stream (read line by line, never whole), results
 * written as they come. Used for the comparison rows and for the streamed million-address run.
 *
 * `node --import guard.ts rcpt-lib.ts <list> <out.jsonl> <concurrency> <perHost> <port> <timeoutMs>`
 *
 * Verdicts: rcpt's `deliverable`, `undeliverable` and `unknown` map to themselves; `risky` with reason `catch_all`
 * (the server accepts any local part) is `unknown`, other `risky` answers (the mailbox accepted, e.g. full) are
 * `deliverable`.
 *
 * @since 0.1.0
 */
import { createReadStream, createWriteStream } from "node:fs"
import { once } from "node:events"
import { createInterface } from "node:readline"
import { writeHeapSnapshot } from "node:v8"
import { Effect, Stream } from "effect"
import { NodeVerifier } from "@rcpt/node"
import { Verifier } from "@rcpt/verifier"
import type { Verdict } from "./truth.ts"

/**
 * @category verdicts
 * @since 0.1.0
 */
export const mapVerdict = (verdict: string, reason: string): Verdict =>
  verdict === "deliverable" || verdict === "undeliverable" || verdict === "unknown"
    ? verdict
    : reason === "catch_all"
      ? "unknown"
      : "deliverable"

if (import.meta.main) {
  const [list, outPath, concurrency, perHost, port, timeoutMs] = process.argv.slice(2)
  const dns = process.env["BENCH_DNS"]!
  const out = createWriteStream(outPath!)
  const lines = createInterface({ input: createReadStream(list!), crlfDelay: Infinity })
  // BENCH_HEAP_SNAPSHOTS=dir: a heap snapshot after these many results, to see what is retained.
  const checkpoints = new Set([20_000, 100_000, 200_000, 500_000, 1_000_000])
  let done = 0
  const program = Effect.gen(function* () {
    const verifier = yield* Verifier.Verifier
    const input = Stream.fromAsyncIterable(lines, (error) => error).pipe(Stream.filter((line) => line.length > 0))
    yield* verifier.verifyMany(input).pipe(
      Stream.runForEach((v) => {
        const dir = process.env["BENCH_HEAP_SNAPSHOTS"]
        if (checkpoints.has(++done) && dir !== undefined && dir !== "") {
          writeHeapSnapshot(`${dir}/rcpt-${done}.heapsnapshot`)
        }
        const line = `${JSON.stringify({ a: v.address, v: mapVerdict(v.verdict, v.reason), r: `${v.verdict}/${v.reason}` })}\n`
        return out.write(line) ? Effect.void : Effect.promise(() => once(out, "drain"))
      })
    )
  }).pipe(
    Effect.provide(
      NodeVerifier.layer({
        // The servers are on loopback, which the target policy refuses unless opened.
        allowTargets: ["127.0.0.0/8"],
        helo: "bench.rcpt.test",
        allowSpecialUse: ["test"],
        port: Number(port),
        dnsServers: [dns],
        concurrency: Number(concurrency),
        perHost: Number(perHost),
        timeout: `${Number(timeoutMs)} millis`
      })
    )
  )
  await Effect.runPromise(program)
  out.end()
  await once(out, "finish")
  process.exit(0)
}
