import { assert, describe, it } from "@effect/vitest"
import * as Doctor from "../src/Doctor.ts"

describe("rcpt doctor: render", () => {
  it("one line per check, the fix under each failure, remote text escaped", () => {
    const text = Doctor.render(
      {
        address: "192.0.2.7",
        helo: "v.example.net",
        ok: false,
        checks: [
          {
            name: "port25",
            status: "pass",
            summary: "mx [192.0.2.1]:25 greets: 220 mx\u001b[31m ESMTP\u202e",
            fix: null
          },
          { name: "ptr", status: "fail", summary: "192.0.2.7 has no PTR record", fix: "Set it." },
          { name: "dnsbl:zen.spamhaus.org", status: "skip", summary: "refused", fix: null }
        ]
      },
      false
    )
    assert.strictEqual(
      text,
      [
        "PASS  port25                  mx [192.0.2.1]:25 greets: 220 mx\\u{1b}[31m ESMTP\\u{202e}",
        "FAIL  ptr                     192.0.2.7 has no PTR record",
        "                              fix: Set it.",
        "SKIP  dnsbl:zen.spamhaus.org  refused",
        "1 check failed: servers may refuse or distrust this host, and results would be unknown.",
        ""
      ].join("\n")
    )
  })

  it("all passed: says so", () => {
    const text = Doctor.render(
      {
        address: "192.0.2.7",
        helo: "v.example.net",
        ok: true,
        checks: [{ name: "ptr", status: "pass", summary: "ok", fix: null }]
      },
      false
    )
    assert.include(text, "This host (192.0.2.7, EHLO v.example.net) looks ready to verify.")
  })
})
