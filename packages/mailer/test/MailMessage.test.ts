import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import PostalMime from "postal-mime"
import * as MailMessage from "../src/MailMessage.ts"

const decoder = new TextDecoder()
const headerBlock = (body: Uint8Array) => decoder.decode(body).split("\r\n\r\n")[0]!

describe("MailMessage.build: envelope derivation", () => {
  it.effect("To + Cc + Bcc, deduplicated, in the envelope; no Bcc header in the message", () =>
    Effect.gen(function* () {
      const built = yield* MailMessage.build({
        from: { name: "Ann Sender", address: "ann@example.net" },
        to: ["bob@example.com", "Carol <carol@example.com>"],
        cc: ["BOB@example.com", "dave@example.com"],
        bcc: ["secret@example.org", "carol@example.com"],
        subject: "Quarterly report",
        text: "Hello"
      })
      assert.deepStrictEqual(built.envelope, {
        mailFrom: "ann@example.net",
        recipients: ["bob@example.com", "carol@example.com", "dave@example.com", "secret@example.org"]
      })
      const head = headerBlock(built.body)
      assert.notMatch(head, /^bcc:/im)
      assert.notInclude(decoder.decode(built.body), "secret@example.org")
      assert.match(head, /^To: bob@example\.com, Carol <carol@example\.com>$/m)
      assert.match(head, /^Cc: BOB@example\.com, dave@example\.com$/m)
      const parsed = yield* Effect.promise(() => PostalMime.parse(built.body))
      assert.strictEqual(parsed.subject, "Quarterly report")
      assert.isUndefined(parsed.bcc)
      assert.strictEqual(parsed.text?.trim(), "Hello")
    })
  )

  it.effect("CRLF line ends everywhere and a Message-ID", () =>
    Effect.gen(function* () {
      const built = yield* MailMessage.build({
        from: "a@example.net",
        to: "b@example.com",
        subject: "x",
        text: "line one\nline two\n",
        messageId: "<fixed@example.net>"
      })
      assert.notMatch(decoder.decode(built.body), /[^\r]\n/)
      assert.deepStrictEqual(built.messageId, Option.some("<fixed@example.net>"))
    })
  )

  it.effect("HTML, attachments as bytes, custom headers", () =>
    Effect.gen(function* () {
      const built = yield* MailMessage.build({
        from: "a@example.net",
        to: "b@example.com",
        subject: "files",
        text: "see attached",
        html: "<p>see <b>attached</b></p>",
        attachments: [
          { filename: "data.bin", content: Uint8Array.of(0, 1, 2, 255), contentType: "application/octet-stream" }
        ],
        headers: { "X-Campaign": "q3" }
      })
      const parsed = yield* Effect.promise(() => PostalMime.parse(built.body))
      assert.strictEqual(parsed.html?.trim(), "<p>see <b>attached</b></p>")
      assert.strictEqual(parsed.attachments.length, 1)
      assert.strictEqual(parsed.attachments[0]!.filename, "data.bin")
      assert.deepStrictEqual([...new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer)], [0, 1, 2, 255])
      assert.match(headerBlock(built.body), /^X-Campaign: q3$/m)
    })
  )

  it.effect("an explicit envelope wins over the headers", () =>
    Effect.gen(function* () {
      const built = yield* MailMessage.build({
        from: "a@example.net",
        to: "b@example.com",
        envelope: { mailFrom: "bounces+123@example.net", recipients: ["archive@example.com"] },
        dsn: { notify: ["FAILURE"] }
      })
      assert.deepStrictEqual(built.envelope, {
        mailFrom: "bounces+123@example.net",
        recipients: ["archive@example.com"],
        dsn: { notify: ["FAILURE"] }
      })
    })
  )

  it.effect("a raw message with its envelope is sent as it is", () =>
    Effect.gen(function* () {
      const raw = "Message-ID: <raw-1@example.net>\r\nSubject: raw\r\n\r\nbody\r\n"
      const built = yield* MailMessage.build({
        raw,
        envelope: { mailFrom: "a@example.net", recipients: ["b@example.com", "B@example.com", "c@example.com"] }
      })
      assert.strictEqual(decoder.decode(built.body), raw)
      assert.deepStrictEqual(built.envelope.recipients, ["b@example.com", "c@example.com"])
      assert.deepStrictEqual(built.messageId, Option.some("<raw-1@example.net>"))
    })
  )

  it.effect("file and URL access are off", () =>
    Effect.gen(function* () {
      const error = yield* MailMessage.build({
        from: "a@example.net",
        to: "b@example.com",
        // A path or URL is what a composer would read; ours must refuse.
        html: { path: "/etc/passwd" } as unknown as string
      }).pipe(Effect.flip)
      assert.strictEqual(error.why, "Compose")
    })
  )

  const invalid: ReadonlyArray<readonly [string, MailMessage.MailMessage, string]> = [
    ["no recipient", { from: "a@example.net", subject: "x" }, "NoRecipients"],
    ["no recipient in a raw envelope", { raw: "x", envelope: { mailFrom: "", recipients: [] } }, "NoRecipients"]
  ]
  for (const [name, message, why] of invalid) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const error = yield* MailMessage.build(message).pipe(Effect.flip)
        assert.strictEqual(error.why, why)
        assert.isFalse(error.isRetryable)
      })
    )
  }

  it("dedupe keeps the first spelling", () => {
    assert.deepStrictEqual(MailMessage.dedupe(["A@x.example", "a@x.example", "b@x.example"]), [
      "A@x.example",
      "b@x.example"
    ])
  })
})
