import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as Address from "../src/Address.ts"
import * as Command from "../src/Command.ts"
import { LocalProtocolError, type LocalProtocolErrorReason } from "../src/ProtocolError.ts"

const decoder = new TextDecoder()

/** The LocalProtocolError a call throws; fails the test when it throws nothing or something else. */
const refusal = (make: () => unknown): LocalProtocolError => {
  try {
    make()
  } catch (error) {
    assert.instanceOf(error, LocalProtocolError)
    return error as LocalProtocolError
  }
  return assert.fail("expected a LocalProtocolError, nothing was thrown")
}

/** A mailbox `Address.parse` did not make: its address is whatever it says. */
const forged = (address: string): Address.Mailbox => ({
  ...Result.getOrThrow(Address.parse("x@b.com")),
  address
})

describe("Command", () => {
  it("rcptTo: a parsed mailbox gives the line its address gives (and is not parsed again)", () => {
    for (const input of ["alice@example.com", '"a b"@example.com', "user@Bücher.de", "δοκιμή@παράδειγμα.δοκιμή"]) {
      const mailbox = Result.getOrThrow(Address.parse(input))
      assert.isTrue(Address.wasParsed(mailbox))
      assert.isFalse(Address.wasParsed({ ...mailbox }))
      assert.deepStrictEqual(Command.rcptTo(mailbox), Command.rcptTo(mailbox.address))
      assert.deepStrictEqual(Command.rcptTo({ ...mailbox }), Command.rcptTo(mailbox.address))
    }
  })

  describe("wire lines", () => {
    const cases: ReadonlyArray<readonly [call: string, make: () => Command.Command, verb: Command.Verb, line: string]> =
      [
        ["ehlo(domain)", () => Command.ehlo("verifier.example.net"), "EHLO", "EHLO verifier.example.net"],
        ["ehlo(single label)", () => Command.ehlo("localhost"), "EHLO", "EHLO localhost"],
        ["ehlo(IPv4 literal)", () => Command.ehlo("[192.0.2.1]"), "EHLO", "EHLO [192.0.2.1]"],
        ["ehlo(IPv6 literal)", () => Command.ehlo("[IPv6:2001:db8::1]"), "EHLO", "EHLO [IPv6:2001:db8::1]"],
        ["helo(domain)", () => Command.helo("verifier.example.net"), "HELO", "HELO verifier.example.net"],
        ["helo(IPv4 literal)", () => Command.helo("[192.0.2.1]"), "HELO", "HELO [192.0.2.1]"],
        ["starttls", () => Command.starttls, "STARTTLS", "STARTTLS"],
        ["mailFrom(null path)", () => Command.mailFrom(""), "MAIL", "MAIL FROM:<>"],
        [
          "mailFrom(address)",
          () => Command.mailFrom("bounce@verifier.example.net"),
          "MAIL",
          "MAIL FROM:<bounce@verifier.example.net>"
        ],
        ["mailFrom(null path, SMTPUTF8)", () => Command.mailFrom("", ["SMTPUTF8"]), "MAIL", "MAIL FROM:<> SMTPUTF8"],
        ["mailFrom(null path, SIZE=1000)", () => Command.mailFrom("", ["SIZE=1000"]), "MAIL", "MAIL FROM:<> SIZE=1000"],
        [
          "mailFrom(UTF-8 address, SMTPUTF8, SIZE)",
          () => Command.mailFrom("jöran@bücher.de", ["SMTPUTF8", "SIZE=1000"]),
          "MAIL",
          "MAIL FROM:<jöran@bücher.de> SMTPUTF8 SIZE=1000"
        ],
        [
          "mailFrom(DSN params)",
          () => Command.mailFrom("a@b.example", ["RET=HDRS", "ENVID=QQ314159"]),
          "MAIL",
          "MAIL FROM:<a@b.example> RET=HDRS ENVID=QQ314159"
        ],
        ["mailFrom(address literal)", () => Command.mailFrom("a@[192.0.2.1]"), "MAIL", "MAIL FROM:<a@[192.0.2.1]>"],
        [
          "mailFrom(quoted local part)",
          () => Command.mailFrom('"john doe"@example.com'),
          "MAIL",
          'MAIL FROM:<"john doe"@example.com>'
        ],
        ["rcptTo(address)", () => Command.rcptTo("alice@example.com"), "RCPT", "RCPT TO:<alice@example.com>"],
        [
          "rcptTo(A-label domain)",
          () => Command.rcptTo("user@xn--bcher-kva.de"),
          "RCPT",
          "RCPT TO:<user@xn--bcher-kva.de>"
        ],
        [
          "rcptTo(DSN params)",
          () => Command.rcptTo("alice@example.com", ["NOTIFY=NEVER", "ORCPT=rfc822;alice@example.com"]),
          "RCPT",
          "RCPT TO:<alice@example.com> NOTIFY=NEVER ORCPT=rfc822;alice@example.com"
        ],
        [
          "rcptTo(value with >, allowed by esmtp-value)",
          () => Command.rcptTo("a@b.example", ["X-A=b>c"]),
          "RCPT",
          "RCPT TO:<a@b.example> X-A=b>c"
        ],
        ["vrfy(local part)", () => Command.vrfy("postmaster"), "VRFY", "VRFY postmaster"],
        ["vrfy(address)", () => Command.vrfy("alice@example.com"), "VRFY", "VRFY alice@example.com"],
        ["vrfy(name with a space)", () => Command.vrfy("Smith, John"), "VRFY", "VRFY Smith, John"],
        ["rset", () => Command.rset, "RSET", "RSET"],
        ["noop", () => Command.noop, "NOOP", "NOOP"],
        ["quit", () => Command.quit, "QUIT", "QUIT"],
        ["data", () => Command.data, "DATA", "DATA"]
      ]
    for (const [call, make, verb, line] of cases) {
      it(`${call} -> ${line}`, () => {
        const command = make()
        assert.deepStrictEqual(command, { verb, line })
        assert.deepStrictEqual(Command.encode(command), new TextEncoder().encode(`${line}\r\n`))
      })
    }
  })

  describe("encode", () => {
    const cases: ReadonlyArray<readonly [command: Command.Command, bytes: ReadonlyArray<number>]> = [
      [Command.quit, [0x51, 0x55, 0x49, 0x54, 0x0d, 0x0a]],
      [Command.rset, [0x52, 0x53, 0x45, 0x54, 0x0d, 0x0a]],
      // UTF-8 on the wire: "ö" is C3 B6.
      [Command.vrfy("jö"), [0x56, 0x52, 0x46, 0x59, 0x20, 0x6a, 0xc3, 0xb6, 0x0d, 0x0a]]
    ]
    for (const [command, bytes] of cases) {
      it(`encode(${command.verb}) ${JSON.stringify(command.line)}`, () => {
        assert.deepStrictEqual(Command.encode(command), Uint8Array.from(bytes))
      })
    }

    const all: ReadonlyArray<readonly [commands: ReadonlyArray<Command.Command>, wire: string]> = [
      [[], ""],
      [[Command.noop], "NOOP\r\n"],
      [
        [Command.mailFrom(""), Command.rcptTo("alice@example.com"), Command.rcptTo("bob@example.com"), Command.rset],
        "MAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nRSET\r\n"
      ],
      [[Command.rcptTo("jöran@bücher.de"), Command.quit], "RCPT TO:<jöran@bücher.de>\r\nQUIT\r\n"]
    ]
    for (const [commands, wire] of all) {
      it(`encodeAll(${commands.map((c) => c.verb).join(", ")})`, () => {
        const bytes = Command.encodeAll(commands)
        assert.strictEqual(decoder.decode(bytes), wire)
        assert.deepStrictEqual(bytes, Uint8Array.from(commands.flatMap((c) => [...Command.encode(c)])))
      })
    }
  })

  describe("refused arguments", () => {
    const cases: ReadonlyArray<readonly [call: string, make: () => unknown, reason: LocalProtocolErrorReason]> = [
      ["rcptTo: CRLF injection", () => Command.rcptTo("a@b.example>\r\nDATA"), "ForbiddenCharacter"],
      ["ehlo: a U-label instead of its A-label", () => Command.ehlo("bücher.de"), "InvalidArgument"],
      [
        "mailFrom: CRLF injection",
        () => Command.mailFrom("a@b.example>\r\nRCPT TO:<c@d.example"),
        "ForbiddenCharacter"
      ],
      ["rcptTo: CR alone", () => Command.rcptTo("a@b.example\r"), "ForbiddenCharacter"],
      ["rcptTo: LF alone", () => Command.rcptTo("a@b.example\n"), "ForbiddenCharacter"],
      ["rcptTo: NUL", () => Command.rcptTo("a\u0000@b.example"), "ForbiddenCharacter"],
      ["rcptTo: TAB", () => Command.rcptTo("a\t@b.example"), "ForbiddenCharacter"],
      ["rcptTo: DEL", () => Command.rcptTo("a\u007f@b.example"), "ForbiddenCharacter"],
      ["rcptTo: ESC", () => Command.rcptTo("a\u001b@b.example"), "ForbiddenCharacter"],
      ["rcptTo: > then a parameter", () => Command.rcptTo("a@b.com> SIZE=1"), "InvalidArgument"],
      ["rcptTo: angle brackets included", () => Command.rcptTo("<a@b.com>"), "InvalidArgument"],
      ["mailFrom: angle brackets included", () => Command.mailFrom("<>"), "InvalidArgument"],
      ["rcptTo: empty path", () => Command.rcptTo(""), "InvalidArgument"],
      [
        "rcptTo: a mailbox built by hand is checked",
        () => Command.rcptTo(forged("a@b.com> SIZE=1")),
        "InvalidArgument"
      ],
      ["rcptTo: a mailbox built by hand, CRLF", () => Command.rcptTo(forged("a@b.com\r\nDATA")), "ForbiddenCharacter"],
      ["rcptTo: a mailbox built by hand, empty", () => Command.rcptTo(forged("")), "InvalidArgument"],
      ["rcptTo: no @", () => Command.rcptTo("alice"), "InvalidArgument"],
      ["rcptTo: local part over 64 octets", () => Command.rcptTo(`${"a".repeat(65)}@b.example`), "InvalidArgument"],
      ["rcptTo: C1 control character", () => Command.rcptTo("a\u0085@b.example"), "InvalidArgument"],
      ["mailFrom: param with a space", () => Command.mailFrom("", ["SIZE=1 BODY=8BITMIME"]), "InvalidArgument"],
      ["mailFrom: param with CRLF", () => Command.mailFrom("", ["SIZE=1\r\nDATA"]), "ForbiddenCharacter"],
      ["rcptTo: param with LF", () => Command.rcptTo("a@b.example", ["NOTIFY=NEVER\nQUIT"]), "ForbiddenCharacter"],
      ["mailFrom: empty param", () => Command.mailFrom("", [""]), "InvalidArgument"],
      ["mailFrom: param with an empty value", () => Command.mailFrom("", ["SIZE="]), "InvalidArgument"],
      ["mailFrom: param with no keyword", () => Command.mailFrom("", ["=1000"]), "InvalidArgument"],
      ["mailFrom: param keyword starting with -", () => Command.mailFrom("", ["-X"]), "InvalidArgument"],
      ["mailFrom: param value with =", () => Command.mailFrom("", ["X=a=b"]), "InvalidArgument"],
      ["mailFrom: param value not ASCII", () => Command.mailFrom("", ["X=é"]), "InvalidArgument"],
      ["mailFrom: second param bad", () => Command.mailFrom("", ["SMTPUTF8", "BODY 8BITMIME"]), "InvalidArgument"],
      ["ehlo: CRLF", () => Command.ehlo("client.example\r\nMAIL FROM:<>"), "ForbiddenCharacter"],
      ["helo: LF", () => Command.helo("client.example\n"), "ForbiddenCharacter"],
      ["ehlo: empty", () => Command.ehlo(""), "InvalidArgument"],
      ["ehlo: space", () => Command.ehlo("client example"), "InvalidArgument"],
      ["ehlo: bad IPv4 literal", () => Command.ehlo("[300.1.1.1]"), "InvalidArgument"],
      ["ehlo: bad IPv6 literal", () => Command.ehlo("[IPv6:zz]"), "InvalidArgument"],
      ["helo: NUL", () => Command.helo("a\u0000b"), "ForbiddenCharacter"],
      ["vrfy: only spaces", () => Command.vrfy("   "), "InvalidArgument"],
      ["vrfy: empty", () => Command.vrfy(""), "InvalidArgument"],
      ["vrfy: TAB", () => Command.vrfy("\t"), "ForbiddenCharacter"],
      ["vrfy: CRLF", () => Command.vrfy("alice\r\nDATA"), "ForbiddenCharacter"],
      ["vrfy: DEL", () => Command.vrfy("alice\u007f"), "ForbiddenCharacter"]
    ]
    for (const [call, make, reason] of cases) {
      it(`${call} -> ${reason}`, () => {
        assert.throws(make, LocalProtocolError)
        const error = refusal(make)
        assert.strictEqual(error._tag, "LocalProtocolError")
        assert.strictEqual(error.reason, reason)
        assert.isNotEmpty(error.message)
      })
    }

    it("the message names the character and its position", () => {
      const error = refusal(() => Command.rcptTo("a@b.example>\r\nDATA"))
      assert.strictEqual(error.message, 'forward path contains "\\r" at position 12')
    })
  })
})
