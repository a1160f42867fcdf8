// EHLO replies as real servers send them (docs/real-servers.md), through the ReplyParser, into
// Capabilities.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as Capabilities from "../src/Capabilities.ts"
import * as Reply from "../src/Reply.ts"
import * as ReplyParser from "../src/ReplyParser.ts"

const parse = (wire: string): Reply.Reply => {
  const d = ReplyParser.drain(ReplyParser.feed(ReplyParser.make(), new TextEncoder().encode(wire)))
  if (d._tag === "Error" || d.replies.length !== 1) throw new Error(`not one reply: ${JSON.stringify(wire)}`)
  return d.replies[0]!
}

const caps = (overrides: Partial<Capabilities.Capabilities>): Capabilities.Capabilities => ({
  ...Capabilities.none,
  ...overrides
})

const postfix =
  "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n" +
  "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
const exim =
  "250-mx.example.com Hello client.example.net [192.0.2.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n" +
  "250-PIPELINING\r\n250-PIPECONNECT\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n250 HELP\r\n"
const opensmtpd =
  "250-mx.example.com Hello client.example.net [192.0.2.1], pleased to meet you\r\n250-8BITMIME\r\n" +
  "250-ENHANCEDSTATUSCODES\r\n250-SIZE 36700160\r\n250-DSN\r\n250 HELP\r\n"
const gmail =
  "250-mx.google.com at your service, [192.0.2.1]\r\n250-SIZE 157286400\r\n250-8BITMIME\r\n250-STARTTLS\r\n" +
  "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n"
const microsoft =
  "250-AM0PR01CA0001.outlook.office365.com Hello [192.0.2.1]\r\n250-SIZE 157286400\r\n250-PIPELINING\r\n" +
  "250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n" +
  "250 SMTPUTF8\r\n"
const oldAuth =
  "250-mail.example.com\r\n250-AUTH=LOGIN PLAIN\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-auth=xoauth2\r\n250 OK\r\n"

describe("Capabilities", () => {
  describe("fromEhloReply", () => {
    const cases: ReadonlyArray<readonly [name: string, wire: string, expected: Capabilities.Capabilities]> = [
      [
        "Postfix with TLS and VRFY",
        postfix,
        caps({
          domain: "mx.example.com",
          pipelining: true,
          size: Option.some(10240000),
          vrfy: true,
          starttls: true,
          enhancedStatusCodes: true,
          eightBitMime: true,
          dsn: true,
          smtpUtf8: true,
          chunking: true,
          unknown: [{ keyword: "ETRN", params: [] }]
        })
      ],
      [
        "Exim: no ENHANCEDSTATUSCODES, PIPECONNECT and HELP kept",
        exim,
        caps({
          domain: "mx.example.com",
          size: Option.some(52428800),
          eightBitMime: true,
          pipelining: true,
          chunking: true,
          smtpUtf8: true,
          unknown: [
            { keyword: "PIPECONNECT", params: [] },
            { keyword: "HELP", params: [] }
          ]
        })
      ],
      [
        "OpenSMTPD: no PIPELINING",
        opensmtpd,
        caps({
          domain: "mx.example.com",
          eightBitMime: true,
          enhancedStatusCodes: true,
          size: Option.some(36700160),
          dsn: true,
          unknown: [{ keyword: "HELP", params: [] }]
        })
      ],
      [
        "Gmail",
        gmail,
        caps({
          domain: "mx.google.com",
          size: Option.some(157286400),
          eightBitMime: true,
          starttls: true,
          enhancedStatusCodes: true,
          pipelining: true,
          chunking: true,
          smtpUtf8: true
        })
      ],
      [
        "Microsoft 365",
        microsoft,
        caps({
          domain: "AM0PR01CA0001.outlook.office365.com",
          size: Option.some(157286400),
          pipelining: true,
          dsn: true,
          enhancedStatusCodes: true,
          starttls: true,
          eightBitMime: true,
          chunking: true,
          smtpUtf8: true,
          unknown: [{ keyword: "BINARYMIME", params: [] }]
        })
      ],
      [
        "old AUTH= beside AUTH: merged, upper-cased, without duplicates",
        oldAuth,
        caps({
          domain: "mail.example.com",
          auth: ["LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2"],
          unknown: [{ keyword: "OK", params: [] }]
        })
      ],
      ["AUTH= with no mechanism", "250-mx\r\n250 AUTH=\r\n", caps({ domain: "mx" })],
      ["AUTH with no mechanism", "250-mx\r\n250 AUTH\r\n", caps({ domain: "mx" })],
      [
        "lower- and mixed-case keywords",
        "250-mx.example.com\r\n250-starttls\r\n250-Pipelining\r\n250-smtputf8\r\n250-8bitmime\r\n" +
          "250-EnhancedStatusCodes\r\n250-chunking\r\n250-dsn\r\n250-vrfy\r\n250-auth plain Login\r\n250 size 1000\r\n",
        caps({
          domain: "mx.example.com",
          starttls: true,
          pipelining: true,
          smtpUtf8: true,
          eightBitMime: true,
          enhancedStatusCodes: true,
          chunking: true,
          dsn: true,
          vrfy: true,
          auth: ["PLAIN", "LOGIN"],
          size: Option.some(1000)
        })
      ],
      ["SIZE without a number: no fixed limit", "250-mx\r\n250 SIZE\r\n", caps({ domain: "mx", size: Option.some(0) })],
      ["SIZE 0", "250-mx\r\n250 SIZE 0\r\n", caps({ domain: "mx", size: Option.some(0) })],
      ["SIZE=", "250-mx\r\n250 SIZE=2048\r\n", caps({ domain: "mx", size: Option.some(2048) })],
      ["SIZE that is not a number", "250-mx\r\n250 SIZE lots\r\n", caps({ domain: "mx", size: Option.some(0) })],
      ["negative SIZE", "250-mx\r\n250 SIZE -5\r\n", caps({ domain: "mx", size: Option.some(0) })],
      ["fractional SIZE", "250-mx\r\n250 SIZE 1.5\r\n", caps({ domain: "mx", size: Option.some(0) })],
      ["SIZE past 2^53", "250-mx\r\n250 SIZE 99999999999999999999\r\n", caps({ domain: "mx", size: Option.some(0) })],
      [
        "unknown keywords kept, upper-cased, with their parameters",
        "250-mx\r\n250-X-EXPS GSSAPI NTLM\r\n250-xclient NAME ADDR\r\n250-DELIVERBY 300\r\n250-XFOO=bar baz\r\n250 ETRN\r\n",
        caps({
          domain: "mx",
          unknown: [
            { keyword: "X-EXPS", params: ["GSSAPI", "NTLM"] },
            { keyword: "XCLIENT", params: ["NAME", "ADDR"] },
            { keyword: "DELIVERBY", params: ["300"] },
            { keyword: "XFOO", params: ["bar", "baz"] },
            { keyword: "ETRN", params: [] }
          ]
        })
      ],
      [
        "empty and blank lines skipped, tabs and extra spaces between words",
        "250-mx\r\n250-\r\n250-   \r\n250-  AUTH\tPLAIN   LOGIN  \r\n250 PIPELINING\r\n",
        caps({ domain: "mx", auth: ["PLAIN", "LOGIN"], pipelining: true })
      ],
      ["no extensions: only the greeting line", "250 mx.example.com\r\n", caps({ domain: "mx.example.com" })],
      [
        "greeting text after the domain",
        "250 mx.example.com Hello [192.0.2.1]\r\n",
        caps({ domain: "mx.example.com" })
      ],
      ["padded domain", "250  mx.example.com  \r\n", caps({ domain: "mx.example.com" })],
      ["empty first line", "250-\r\n250 PIPELINING\r\n", caps({ pipelining: true })],
      ["bare 250", "250\r\n", caps({})],
      [
        "flags with a stray parameter still count",
        "250-mx\r\n250-STARTTLS=yes\r\n250 PIPELINING now\r\n",
        caps({ domain: "mx", starttls: true, pipelining: true })
      ],
      [
        "prototype names are plain unknown keywords",
        "250-mx\r\n250-constructor\r\n250 __proto__ x\r\n",
        caps({
          domain: "mx",
          unknown: [
            { keyword: "CONSTRUCTOR", params: [] },
            { keyword: "__PROTO__", params: ["x"] }
          ]
        })
      ]
    ]
    for (const [name, wire, expected] of cases) {
      it(`${name}`, () => {
        assert.deepStrictEqual(Capabilities.fromEhloReply(parse(wire)), expected)
      })
    }

    it("a reply with no lines at all", () => {
      assert.deepStrictEqual(Capabilities.fromEhloReply(Reply.make(250, [])), Capabilities.none)
    })

    it("none offers nothing", () => {
      assert.deepStrictEqual(Capabilities.none, {
        domain: "",
        starttls: false,
        pipelining: false,
        smtpUtf8: false,
        eightBitMime: false,
        enhancedStatusCodes: false,
        chunking: false,
        dsn: false,
        vrfy: false,
        size: Option.none(),
        auth: [],
        unknown: []
      })
    })
  })

  describe("has", () => {
    const cases: ReadonlyArray<readonly [ehlo: string, keyword: string, expected: boolean]> = [
      [postfix, "PIPELINING", true],
      [postfix, "pipelining", true],
      [postfix, "StartTls", true],
      [postfix, "SMTPUTF8", true],
      [postfix, "8BITMIME", true],
      [postfix, "ENHANCEDSTATUSCODES", true],
      [postfix, "CHUNKING", true],
      [postfix, "DSN", true],
      [postfix, "VRFY", true],
      [postfix, "SIZE", true],
      [postfix, "etrn", true],
      [postfix, "AUTH", false],
      [postfix, "XCLIENT", false],
      [postfix, "HELP", false],
      [opensmtpd, "PIPELINING", false],
      [opensmtpd, "STARTTLS", false],
      [opensmtpd, "help", true],
      [exim, "PIPECONNECT", true],
      [exim, "ENHANCEDSTATUSCODES", false],
      [exim, "VRFY", false],
      [oldAuth, "auth", true],
      [oldAuth, "SIZE", false],
      ["250 mx\r\n", "SIZE", false],
      ["250-mx\r\n250 SIZE\r\n", "size", true],
      ["250-mx\r\n250 AUTH=\r\n", "AUTH", false],
      ["250-mx\r\n250 constructor\r\n", "constructor", true],
      ["250 mx\r\n", "constructor", false],
      ["250 mx\r\n", "toString", false],
      ["250 mx\r\n", "", false]
    ]
    for (const [ehlo, keyword, expected] of cases) {
      it(`${JSON.stringify(ehlo.split("\r\n")[0])}... has ${JSON.stringify(keyword)} -> ${expected}`, () => {
        assert.strictEqual(Capabilities.has(Capabilities.fromEhloReply(parse(ehlo)), keyword), expected)
      })
    }
  })
})
