import { assert, describe, it } from "@effect/vitest"
import { Option, Result } from "effect"
import * as Capabilities from "../src/Capabilities.ts"
import * as Command from "../src/Command.ts"
import { LocalProtocolError } from "../src/ProtocolError.ts"
import * as Reply from "../src/Reply.ts"
import * as Sasl from "../src/Sasl.ts"
import { hmacMd5 } from "./submissionHelpers.ts"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const password = (username = "tim", pass = "tanstaaftanstaaf"): Sasl.Credentials => ({
  _tag: "Password",
  username,
  password: pass
})
const token: Sasl.Credentials = { _tag: "AccessToken", username: "a@example.com", token: "tok" }
const offering = (...auth: ReadonlyArray<string>): Capabilities.Capabilities => ({ ...Capabilities.none, auth })

describe("Sasl.choose", () => {
  const rows: ReadonlyArray<
    readonly [
      name: string,
      offered: ReadonlyArray<string>,
      credentials: Sasl.Credentials,
      options: { readonly secure?: boolean; readonly hmac?: boolean; readonly forced?: Sasl.Mechanism },
      expected: Sasl.Mechanism | Sasl.ChoiceFailure["_tag"]
    ]
  > = [
    ["over TLS PLAIN first", ["LOGIN", "CRAM-MD5", "PLAIN"], password(), { hmac: true }, "PLAIN"],
    ["LOGIN when PLAIN is not offered", ["LOGIN"], password(), {}, "LOGIN"],
    ["CRAM-MD5 only with an HMAC function", ["CRAM-MD5"], password(), {}, "NoCommonMechanism"],
    ["CRAM-MD5 with one", ["CRAM-MD5"], password(), { hmac: true }, "CRAM-MD5"],
    ["in the clear CRAM-MD5 first", ["PLAIN", "CRAM-MD5"], password(), { secure: false, hmac: true }, "CRAM-MD5"],
    ["in the clear without HMAC, PLAIN", ["PLAIN", "CRAM-MD5"], password(), { secure: false }, "PLAIN"],
    ["a token takes XOAUTH2", ["PLAIN", "XOAUTH2"], token, {}, "XOAUTH2"],
    ["a token and no XOAUTH2", ["PLAIN", "LOGIN"], token, {}, "NoCommonMechanism"],
    ["a password never takes XOAUTH2", ["XOAUTH2"], password(), {}, "NoCommonMechanism"],
    ["nothing offered", [], password(), {}, "NotOffered"],
    ["forced, not offered", ["PLAIN"], password(), { forced: "LOGIN" }, "LOGIN"],
    ["forced, not usable", ["PLAIN"], password(), { forced: "XOAUTH2" }, "Unusable"],
    ["forced CRAM-MD5 without HMAC", [], password(), { forced: "CRAM-MD5" }, "Unusable"],
    ["forced PLAIN with a token", [], token, { forced: "PLAIN" }, "Unusable"]
  ]
  for (const [name, offered, credentials, options, expected] of rows) {
    it(name, () => {
      const r = Sasl.choose({
        capabilities: offering(...offered),
        credentials,
        secure: options.secure ?? true,
        forced: Option.fromNullishOr(options.forced),
        hmacMd5: options.hmac ?? false
      })
      assert.strictEqual(Result.isSuccess(r) ? r.success : r.failure._tag, expected)
    })
  }
})

describe("Sasl exchanges", () => {
  it("PLAIN: authzid NUL authcid NUL password as the initial response (RFC 4616)", () => {
    const { command } = Sasl.start("PLAIN", password("alice", "pw"))
    assert.strictEqual(command.line, `AUTH PLAIN ${b64("\u0000alice\u0000pw")}`)
    assert.strictEqual(Command.redact(command), "AUTH PLAIN ****")
  })

  it("LOGIN: username, password, then cancel", () => {
    let { command, exchange } = Sasl.start("LOGIN", password("alice", "pw"))
    assert.strictEqual(command.line, "AUTH LOGIN")
    const lines: Array<string> = []
    for (const challenge of ["VXNlcm5hbWU6", "UGFzc3dvcmQ6", "VXNlcm5hbWU6"]) {
      ;({ command, exchange } = Sasl.respond(exchange, challenge))
      lines.push(command.line)
    }
    assert.deepStrictEqual(lines, [b64("alice"), b64("pw"), "*"])
  })

  it("CRAM-MD5: the RFC 2195 §2 example", () => {
    const { command, exchange } = Sasl.start("CRAM-MD5", password(), Option.some(hmacMd5))
    assert.strictEqual(command.line, "AUTH CRAM-MD5")
    const challenge = b64("<1896.697170952@postoffice.reston.mci.net>")
    assert.strictEqual(challenge, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
    const answer = Sasl.respond(exchange, challenge)
    assert.strictEqual(answer.command.line, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")
    assert.strictEqual(Buffer.from(answer.command.line, "base64").toString(), "tim b913a602c7eda7a495b4e6e7334d3890")
    // A second challenge, or one that is not base64, is cancelled.
    assert.strictEqual(Sasl.respond(answer.exchange, challenge).command.line, "*")
    assert.strictEqual(Sasl.respond(exchange, "not base64!").command.line, "*")
    assert.strictEqual(Sasl.respond({ ...exchange, hmacMd5: Option.none() }, challenge).command.line, "*")
  })

  it("XOAUTH2: user and bearer token joined by ^A; the error challenge gets an empty line", () => {
    const { command, exchange } = Sasl.start("XOAUTH2", token)
    assert.strictEqual(command.line, `AUTH XOAUTH2 ${b64("user=a@example.com\u0001auth=Bearer tok\u0001\u0001")}`)
    const first = Sasl.respond(exchange, b64('{"status":"401"}'))
    assert.strictEqual(first.command.line, "")
    assert.strictEqual(Sasl.respond(first.exchange, "").command.line, "*")
    assert.strictEqual(Sasl.decodeChallenge(b64('{"status":"401"}')), '{"status":"401"}')
    assert.strictEqual(Sasl.decodeChallenge("not base64!"), "not base64!")
  })

  it("PLAIN asked for more: cancel", () => {
    const { exchange } = Sasl.start("PLAIN", password())
    assert.strictEqual(Sasl.respond(exchange, "").command.line, "*")
  })
})

describe("Sasl.classify", () => {
  const rows: ReadonlyArray<readonly [code: number, text: string, outcome: Sasl.Outcome]> = [
    [334, "VXNlcm5hbWU6", "Challenge"],
    [235, "2.7.0 Authentication successful", "Authenticated"],
    [535, "5.7.8 Authentication credentials invalid", "InvalidCredentials"],
    [538, "5.7.11 Encryption required for requested authentication mechanism", "EncryptionRequired"],
    [534, "5.7.9 Authentication mechanism is too weak", "MechanismTooWeak"],
    [454, "4.7.0 Temporary authentication failure", "TemporaryFailure"],
    [432, "4.7.12 A password transition is needed", "TemporaryFailure"],
    [530, "5.7.0 Authentication required", "AuthenticationRequired"],
    [501, "5.5.2 Authentication cancelled", "Rejected"],
    [504, "5.5.4 Unrecognized authentication type", "Rejected"],
    [250, "ok", "Authenticated"]
  ]
  for (const [code, text, outcome] of rows) {
    it(`${code} ${text}`, () => {
      assert.strictEqual(Sasl.classify(Reply.make(code, [text])), outcome)
      assert.strictEqual(Sasl.isTransient(outcome), outcome === "TemporaryFailure")
    })
  }
})

describe("base64", () => {
  it("round-trips every octet", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
    const text = Sasl.toBase64(bytes)
    assert.strictEqual(text, Buffer.from(bytes).toString("base64"))
    assert.deepStrictEqual(
      Option.map(Sasl.fromBase64(text), (b) => [...b]),
      Option.some([...bytes])
    )
  })

  it("refuses what is not base64", () => {
    for (const bad of ["a", "a b", "!!!!", "abcde"]) assert.isTrue(Option.isNone(Sasl.fromBase64(bad)), bad)
  })
})

describe("Command: AUTH lines", () => {
  const refusal = (make: () => unknown) => assert.throws(make, LocalProtocolError)

  it("builds AUTH with and without an initial response", () => {
    assert.strictEqual(Command.auth("LOGIN").line, "AUTH LOGIN")
    assert.strictEqual(Command.auth("PLAIN", "AGEAYg==").line, "AUTH PLAIN AGEAYg==")
    assert.strictEqual(Command.auth("EXTERNAL", "=").line, "AUTH EXTERNAL =")
    assert.strictEqual(Command.auth("PLAIN", "AGEAYg==").verb, "AUTH")
  })

  it("refuses a bad mechanism or response", () => {
    refusal(() => Command.auth("plain"))
    refusal(() => Command.auth("PLAIN\r\nDATA"))
    refusal(() => Command.auth("PLAIN", ""))
    refusal(() => Command.auth("PLAIN", "abc"))
    refusal(() => Command.auth("PLAIN", "AGEAYg==\r\nQUIT"))
    refusal(() => Command.authResponse("not base64"))
    refusal(() => Command.authResponse("YQ==\r\nDATA"))
  })

  it("redacts every credential", () => {
    const rows: ReadonlyArray<readonly [Command.Command, string]> = [
      [Command.auth("PLAIN", "AGEAYg=="), "AUTH PLAIN ****"],
      [Command.auth("LOGIN"), "AUTH LOGIN"],
      [Command.authResponse("YWxpY2U="), "****"],
      [Command.authResponse("*"), "*"],
      [Command.authResponse(""), ""],
      [Command.mailFrom("a@example.com"), "MAIL FROM:<a@example.com>"]
    ]
    for (const [command, shown] of rows) assert.strictEqual(Command.redact(command), shown)
  })
})
