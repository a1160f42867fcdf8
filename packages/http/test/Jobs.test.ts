// Bulk jobs end to end: a MailWorld (DNS + SMTP on loopback), the server with an in-memory job
// store on 127.0.0.1 port 0, and real `fetch` requests: uploads in every format, progress,
// results (JSONL, CSV, cursor, filter), SSE, cancel, webhooks, bad input.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, Schema } from "effect"
import { createHmac } from "node:crypto"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { ResultFormat, Verification } from "@rcpt/verifier"
import * as Jobs from "../src/Jobs.ts"
import * as JobsApi from "../src/JobsApi.ts"
import * as Tokens from "../src/Tokens.ts"
import { finished, type Reply, withService } from "./jobsHarness.ts"

const job = (reply: Reply) => Schema.decodeUnknownSync(JobsApi.Job)(JSON.parse(reply.text))

const lines = (text: string) => text.split("\n").filter((l) => l !== "")

// 12 lines: deliverable, undeliverable, risky (catch-all), syntax, a duplicate, a null MX.
const list = [
  "alice@alpha.test",
  "bob@alpha.test",
  "nobody@alpha.test",
  "someone@catchall.test",
  "alice@implicit.test",
  "alice@vrfy.test",
  "not an address",
  "alice@alpha.test",
  "x@nullmx.test",
  "bob@vrfy.test",
  "carol@alpha.test",
  "  alice@alpha.test  "
]

describe("POST /v1/jobs", () => {
  it.live("a text list: 202 queued at once, then done, one result per line, the same fields as rcpt bulk", () =>
    withService((service) =>
      Effect.gen(function* () {
        const created = yield* service.upload(list.join("\n") + "\n# a comment\n\n", "text/plain")
        assert.strictEqual(created.status, 202, created.text)
        const first = job(created)
        assert.strictEqual(first.state, "queued")
        assert.strictEqual(first.total, list.length)
        const done = yield* finished(service, first.id)
        assert.strictEqual(done.state, "done")
        assert.strictEqual(done.done, list.length)
        const { deliverable, undeliverable, risky, unknown } = done.counts
        assert.strictEqual(deliverable + undeliverable + risky + unknown, list.length)
        assert.isAtLeast(deliverable, 5)
        assert.isNotNull(done.finishedAt)

        const jsonl = yield* service.request(`/v1/jobs/${first.id}/results`)
        assert.strictEqual(jsonl.status, 200)
        assert.include(jsonl.contentType ?? "", "application/x-ndjson")
        const results = lines(jsonl.text).map((l) => JSON.parse(l) as { cursor: number; address: string })
        assert.deepStrictEqual(
          results.map((r) => r.cursor),
          Array.from({ length: list.length }, (_, i) => i + 1)
        )
        const verifications = results.map((r) => Verification.decode(r))
        assert.deepStrictEqual(verifications.map((v) => v.address.trim()).sort(), list.map((l) => l.trim()).sort())
        assert.strictEqual(verifications.find((v) => v.address === "not an address")?.reason, "syntax")

        const csv = yield* service.request(`/v1/jobs/${first.id}/results`, { headers: { accept: "text/csv" } })
        assert.include(csv.contentType ?? "", "text/csv")
        assert.strictEqual(lines(csv.text)[0], `${ResultFormat.csvColumns.join(",")},cursor`)
        assert.strictEqual(lines(csv.text).length, list.length + 1)
        // The last column is the cursor, as in JSONL.
        assert.deepStrictEqual(
          lines(csv.text)
            .slice(1)
            .map((row) => Number(row.split(",").at(-1))),
          Array.from({ length: list.length }, (_, i) => i + 1)
        )

        // Cursor: the rest after the first 5; a filter: only what matches.
        const rest = yield* service.request(`/v1/jobs/${first.id}/results?after=5`)
        assert.strictEqual(lines(rest.text).length, list.length - 5)
        assert.strictEqual(JSON.parse(lines(rest.text)[0]!).cursor, 6)
        const bad = yield* service.request(`/v1/jobs/${first.id}/results?verdict=undeliverable&format=csv`)
        const rows = lines(bad.text).slice(1)
        assert.strictEqual(rows.length, undeliverable)
        assert.isTrue(rows.every((r) => r.split(",")[1] === "undeliverable"))
        // A filtered download resumes from the cursor of the last row read, in CSV and in JSONL.
        assert.isAtLeast(rows.length, 2)
        const cursorOf = (row: string) => row.split(",").at(-1)!
        const resumedCsv = yield* service.request(
          `/v1/jobs/${first.id}/results?verdict=undeliverable&format=csv&after=${cursorOf(rows[0]!)}`
        )
        assert.deepStrictEqual(lines(resumedCsv.text).slice(1), rows.slice(1))
        const filtered = lines((yield* service.request(`/v1/jobs/${first.id}/results?verdict=undeliverable`)).text).map(
          (l) => JSON.parse(l) as { cursor: number }
        )
        assert.deepStrictEqual(
          filtered.map((r) => String(r.cursor)),
          rows.map(cursorOf)
        )
        const resumedJsonl = yield* service.request(
          `/v1/jobs/${first.id}/results?verdict=undeliverable&after=${filtered[0]!.cursor}`
        )
        assert.deepStrictEqual(
          lines(resumedJsonl.text).map((l) => (JSON.parse(l) as { cursor: number }).cursor),
          filtered.slice(1).map((r) => r.cursor)
        )

        const listed = yield* service.request("/v1/jobs")
        assert.deepStrictEqual(
          (JSON.parse(listed.text) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id),
          [first.id]
        )
      })
    )
  )

  it.live("JSON, NDJSON, CSV with a column choice and a multipart file: all read like rcpt bulk", () =>
    withService((service) =>
      Effect.gen(function* () {
        const csv = "name,work,home\nAlice,alice@alpha.test,a@x.test\nBob,bob@alpha.test,b@x.test\n"
        const form = new FormData()
        form.append("file", new Blob(["alice@alpha.test\nbob@vrfy.test\n"], { type: "text/plain" }), "list.txt")
        const uploads: ReadonlyArray<readonly [Effect.Effect<Reply>, number]> = [
          [
            service.upload(JSON.stringify(["alice@alpha.test", "bob@alpha.test", "x@nullmx.test"]), "application/json"),
            3
          ],
          [service.upload('"alice@alpha.test"\n\n"bob@vrfy.test"\n', "application/x-ndjson"), 2],
          [service.upload(csv, "text/csv", "?column=work"), 2],
          [service.upload(form, ""), 2]
        ]
        for (const [upload, total] of uploads) {
          const reply = yield* upload
          assert.strictEqual(reply.status, 202, reply.text)
          const done = yield* finished(service, job(reply).id)
          assert.strictEqual(done.total, total)
          assert.strictEqual(done.done, total)
        }
        const byColumn = yield* service.upload(csv, "text/csv", "?column=work")
        const id = job(byColumn).id
        yield* finished(service, id)
        const results = lines((yield* service.request(`/v1/jobs/${id}/results`)).text).map((l) => JSON.parse(l).address)
        assert.deepStrictEqual(results.sort(), ["alice@alpha.test", "bob@alpha.test"])
      })
    )
  )

  it.live("bad input: 415, 400 naming the line or element, 404 for an unknown job", () =>
    withService((service) =>
      Effect.gen(function* () {
        const xml = yield* service.upload("<list/>", "application/xml")
        assert.strictEqual(xml.status, 415, xml.text)
        const cases: ReadonlyArray<readonly [Effect.Effect<Reply>, string]> = [
          [service.upload('["a@alpha.test", 42]', "application/json"), "element 2"],
          [service.upload('["a@alpha.test", ', "application/json"), "not complete"],
          [service.upload('{"emails": []}', "application/json"), "array"],
          [service.upload('"a@alpha.test"\n{"x":1}\n', "application/x-ndjson"), "line 2"],
          [service.upload('"a@alpha.test"\nnope\n', "application/x-ndjson"), "line 2"],
          [service.upload("name,mail\nA,a@alpha.test\n", "text/csv", "?column=nope"), "no such column"],
          [service.upload(`a@alpha.test\n${"x".repeat(70_000)}\n`, "text/plain"), "line 2"],
          [service.upload(new Uint8Array([0x61, 0, 0x62, 10]), "text/plain"), "binary"]
        ]
        for (const [upload, names] of cases) {
          const reply = yield* upload
          assert.strictEqual(reply.status, 400, reply.text)
          assert.include(reply.contentType ?? "", "application/problem+json")
          assert.include(JSON.parse(reply.text).detail, names)
        }
        // A failed upload leaves no job behind.
        assert.deepStrictEqual(JSON.parse((yield* service.request("/v1/jobs")).text).jobs, [])
        for (const path of ["/v1/jobs/nope", "/v1/jobs/nope/results", "/v1/jobs/nope/events"]) {
          assert.strictEqual((yield* service.request(path)).status, 404, path)
        }
        assert.strictEqual((yield* service.request("/v1/jobs/nope", { method: "DELETE" })).status, 404)
      })
    )
  )
})

describe("tenants", () => {
  it.live("a job belongs to the token that created it: another token gets 404 and an empty list", () =>
    withService(
      (service) =>
        Effect.gen(function* () {
          const as = (token: string) => ({ authorization: `Bearer ${token}` })
          const created = yield* service.request("/v1/jobs", {
            method: "POST",
            body: "alice@alpha.test\n",
            headers: { "content-type": "text/plain", ...as("token-a") }
          })
          assert.strictEqual(created.status, 202, created.text)
          const id = job(created).id
          for (const path of [`/v1/jobs/${id}`, `/v1/jobs/${id}/results`, `/v1/jobs/${id}/events`]) {
            assert.strictEqual((yield* service.request(path, { headers: as("token-b") })).status, 404, path)
            assert.strictEqual((yield* service.request(path)).status, 401, `${path} without a token`)
            assert.strictEqual(
              (yield* service.request(path, { headers: as("token-c") })).status,
              401,
              `${path}, unknown token`
            )
          }
          const cancel = yield* service.request(`/v1/jobs/${id}`, { method: "DELETE", headers: as("token-b") })
          assert.strictEqual(cancel.status, 404)
          assert.deepStrictEqual(
            JSON.parse((yield* service.request("/v1/jobs", { headers: as("token-b") })).text).jobs,
            []
          )
          const mine = yield* service.request(`/v1/jobs/${id}`, { headers: as("token-a") })
          assert.strictEqual(mine.status, 200)
          assert.notStrictEqual(job(mine).state, "cancelled")
          assert.deepStrictEqual(
            JSON.parse((yield* service.request("/v1/jobs", { headers: as("token-a") })).text).jobs.map(
              (j: { id: string }) => j.id
            ),
            [id]
          )
        }),
      Jobs.layerMemory,
      { tokens: Tokens.fromValues(["token-a", "token-b"]) }
    )
  )

  it.live("a header the server does not check names no tenant: on an open service every caller is one", () =>
    withService((service) =>
      Effect.gen(function* () {
        const created = yield* service.request("/v1/jobs", {
          method: "POST",
          body: "alice@alpha.test\n",
          headers: { "content-type": "text/plain", authorization: "Bearer made-up" }
        })
        assert.strictEqual(created.status, 202, created.text)
        // Without tokens configured the bearer header proves nothing: the job is the service's one tenant's.
        const seen = yield* service.request(`/v1/jobs/${job(created).id}`, {
          headers: { authorization: "Bearer other" }
        })
        assert.strictEqual(seen.status, 200)
      })
    )
  )

  it.live("the job endpoints count against the per-token limit: 429 with Retry-After, other tokens unaffected", () =>
    Effect.gen(function* () {
      // An upload that stays open until released holds the token's one slot.
      let release: () => void = () => {}
      const released = new Promise<void>((resolve) => (release = resolve))
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("alice@alpha.test\n"))
          await released
          controller.close()
        }
      })
      yield* withService(
        (service) =>
          Effect.gen(function* () {
            const as = (token: string) => ({ authorization: `Bearer ${token}` })
            const uploading = yield* Effect.forkChild(
              service.request("/v1/jobs", {
                method: "POST",
                body,
                headers: { "content-type": "text/plain", ...as("token-a") },
                duplex: "half"
              } as RequestInit)
            )
            // Until the upload holds its slot, a request of the same token may still pass.
            const busy = yield* service
              .request("/v1/jobs", { headers: as("token-a") })
              .pipe(
                Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (r) => r.status === 429 }),
                Effect.timeout("10 seconds")
              )
            assert.strictEqual(busy.status, 429, busy.text)
            assert.include(busy.contentType ?? "", "application/problem+json")
            assert.strictEqual(busy.retryAfter, "1")
            const other = yield* service.request("/v1/jobs", { headers: as("token-b") })
            assert.strictEqual(other.status, 200, other.text)
            release()
            const created = yield* Fiber.join(uploading)
            assert.strictEqual(created.status, 202, created.text)
            assert.strictEqual((yield* service.request("/v1/jobs", { headers: as("token-a") })).status, 200)
          }),
        Jobs.layerMemory,
        { tokens: Tokens.fromValues(["token-a", "token-b"]), limits: { perCaller: 1, total: 10 } }
      )
    })
  )
})

describe("GET /v1/jobs/{id}/events, DELETE /v1/jobs/{id}", () => {
  it.live("progress arrives as Server-Sent Events until the job is done", () =>
    withService((service) =>
      Effect.gen(function* () {
        const id = job(yield* service.upload(list.join("\n"), "text/plain")).id
        const events = yield* service.request(`/v1/jobs/${id}/events`)
        assert.include(events.contentType ?? "", "text/event-stream")
        const data = events.text
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => Schema.decodeUnknownSync(JobsApi.Job)(JSON.parse(l.slice(5))))
        assert.isAtLeast(data.length, 1)
        assert.strictEqual(data.at(-1)!.state, "done")
        assert.strictEqual(data.at(-1)!.done, list.length)
      })
    )
  )

  it.live("a cancelled job keeps its results so far; cancelling again changes nothing", () =>
    withService((service) =>
      Effect.gen(function* () {
        // Many distinct domains on a host that never answers: slow enough to cancel mid-way.
        const slow = Array.from({ length: 300 }, (_, i) => `u${i}@alpha.test`)
        const id = job(yield* service.upload(slow.join("\n"), "text/plain")).id
        const cancelled = job(yield* service.request(`/v1/jobs/${id}`, { method: "DELETE" }))
        assert.strictEqual(cancelled.state, "cancelled")
        const after = yield* finished(service, id)
        assert.strictEqual(after.state, "cancelled")
        const results = lines((yield* service.request(`/v1/jobs/${id}/results`)).text)
        assert.strictEqual(results.length, after.done)
        const again = job(yield* service.request(`/v1/jobs/${id}`, { method: "DELETE" }))
        assert.strictEqual(again.state, "cancelled")
      })
    )
  )
})

describe("webhooks", () => {
  it.live("the completion call and per-result calls arrive signed with HMAC-SHA256; delivery state in the job", () =>
    Effect.gen(function* () {
      const received: Array<{ event: string; body: string; signature: string; timestamp: string }> = []
      let failFirst = true
      const receiver = createServer((req: IncomingMessage, res) => {
        let body = ""
        req.setEncoding("utf8").on("data", (d: string) => (body += d))
        req.on("end", () => {
          const event = String(req.headers["x-rcpt-event"])
          // The first completion call fails: the retry schedule must deliver it.
          if (event === "job.completed" && failFirst) {
            failFirst = false
            res.writeHead(503).end()
            return
          }
          received.push({
            event,
            body,
            signature: String(req.headers["x-rcpt-signature"]),
            timestamp: String(req.headers["x-rcpt-timestamp"])
          })
          res.writeHead(204).end()
        })
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))),
        () => Effect.promise(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
      )
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
      yield* withService((service) =>
        Effect.gen(function* () {
          const query = `?webhook=${encodeURIComponent(url)}&webhookSecret=s3cret&webhookPerResult=true`
          const id = job(yield* service.upload(list.join("\n"), "text/plain", query)).id
          const delivered = yield* service.request(`/v1/jobs/${id}`).pipe(
            Effect.map(job),
            Effect.repeat({
              schedule: Schedule.spaced("200 millis"),
              until: (j) => j.webhook?.state === "delivered"
            }),
            Effect.timeout("30 seconds")
          )
          assert.strictEqual(delivered.webhook?.attempts, 2)
          assert.strictEqual(delivered.webhook?.sent, list.length)
          assert.strictEqual(delivered.webhook?.dropped, 0)
          for (const call of received) {
            const expected = `sha256=${createHmac("sha256", "s3cret").update(`${call.timestamp}.${call.body}`).digest("hex")}`
            assert.strictEqual(call.signature, expected)
          }
          const completion = received.filter((c) => c.event === "job.completed")
          assert.strictEqual(completion.length, 1)
          assert.strictEqual(JSON.parse(completion[0]!.body).job.state, "done")
          const perResult = received
            .filter((c) => c.event === "job.results")
            .flatMap((c) => JSON.parse(c.body).results as Array<unknown>)
          assert.strictEqual(perResult.length, list.length)
        })
      )
    }).pipe(Effect.scoped)
  )
})
