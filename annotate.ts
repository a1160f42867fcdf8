import { readFileSync, writeFileSync } from "node:fs"
import { Result } from "effect"
import { parse } from "./packages/smtp/src/Address.ts"
const reasons = JSON.parse(readFileSync("/tmp/reasons.json", "utf8"))
const keyOf = (c: any, reason: string | undefined): string | undefined => {
  const i: string = c.input
  const o = typeof c.options === "object" ? c.options : {}
  if (c.diagnosis === "ISEMAIL_RFC5321_TLDNUMERIC") return "numeric-tld"
  if (reason === "NotNormalized") return "not-nfc"
  if (reason === "LocalPartTooLong") return "local-part-64"
  if (/ <.*>$/.test(i)) return "display-name"
  if (i.startsWith('""@')) return "empty-quoted"
  if (i.startsWith('"')) return "quoted-local-part"
  if (i.includes("@[")) return "address-literal"
  if (c.message === "is a special-use or reserved name" || /@invalid$/i.test(i)) return "special-use"
  if (o.allowUnicode === false) return "unicode-option"
  if (/@[^.]+$/.test(i)) return "single-label"
  if (["me@bad.tld-2", "test@x.no-such-tld", "apple-touch-icon-60x60@2x.png"].includes(i)) return "tld-list"
  return undefined
}
for (const f of process.argv.slice(2)) {
  const data = JSON.parse(readFileSync(f, "utf8"))
  let agree = 0
  const used = new Set<string>()
  for (const c of data.cases) {
    delete c.differs
    const r = parse(c.input)
    const got = Result.isSuccess(r) ? "accept" : "refuse"
    if (got === c.expect) { agree++; continue }
    const k = keyOf(c, Result.isFailure(r) ? r.failure.reason : undefined)
    if (k === undefined || reasons[k].rcpt !== got) console.log("UNEXPLAINED", JSON.stringify(c), got)
    else { c.differs = k; used.add(k) }
  }
  const differences: Record<string, unknown> = {}
  for (const k of Object.keys(reasons)) if (used.has(k)) differences[k] = reasons[k]
  const { cases, ...rest } = data
  const out = { ...rest, recorded: { agree, total: data.cases.length }, differences, cases }
  writeFileSync(f, JSON.stringify(out, null, 1).replace(/[\u007f-\uffff]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0")) + "\n")
  console.log(f, agree, "/", data.cases.length)
}
