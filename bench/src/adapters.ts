/**
 * The npm contenders, one adapter each: how to ask it about one address with its documented API, and how its answer
 * maps to deliverable / undeliverable / unknown. The mapping reads each tool as generously as its output allows:
 * where it says it could not tell (a timeout, a connection error it reports as such, "undetermined", "try again"),
 * that is `unknown`, not `undeliverable`.
 *
 * | tool | deliverable | undeliverable | unknown |
 * | --- | --- | --- | --- |
 * | deep-email-validator 0.1.27 | `valid` | regex, typo, disposable, mx failures; smtp "Mailbox not found." (550) | other smtp failures (timeout, other codes, closed) |
 * | email-existence 0.1.6 | `true` | `false` | `undetermined` |
 * | email-verify 0.2.1 | `success` | bad syntax, no domain, no MX, `finishedVerification` without 250 | `tryagain`, timeout, connection error |
 *
 * Options: each gets the same per-address timeout where it takes one (deep-email-validator has a fixed 10 s).
 * deep-email-validator is told that `.test` is a top-level domain, or its typo check would flag every bench domain.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import { validate } from "deep-email-validator"
import type { Verdict } from "./truth.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface Answer {
  readonly v: Verdict
  readonly r: string
}

/**
 * @category models
 * @since 0.1.0
 */
export type Adapter = (address: string, timeoutMs: number) => Promise<Answer>

const require = createRequire(import.meta.url)

type ExistenceCheck = (
  email: string,
  callback: (error: unknown, result: boolean, undetermined?: boolean) => void,
  timeout?: number,
  from?: string
) => void

interface VerifyInfo {
  readonly success: boolean
  readonly info: string
  readonly code: number
  readonly tryagain?: boolean
}
interface EmailVerify {
  readonly verify: (
    email: string,
    options: Record<string, unknown>,
    callback: (error: unknown, info: VerifyInfo | undefined) => void
  ) => void
  readonly verifyCodes: Record<string, number>
}

const deep: Adapter = async (address) => {
  const out = await validate({ email: address, additionalTopLevelDomains: ["test"] })
  if (out.valid) return { v: "deliverable", r: "valid" }
  const reason = out.reason ?? "unknown"
  const detail = (out.validators as Record<string, { reason?: string } | undefined>)[reason]?.reason ?? ""
  if (reason !== "smtp") return { v: "undeliverable", r: `${reason}: ${detail}` }
  return { v: detail === "Mailbox not found." ? "undeliverable" : "unknown", r: `smtp: ${detail}` }
}

const existence: Adapter = (address, timeoutMs) => {
  const check = require("email-existence") as ExistenceCheck
  return new Promise((resolve) =>
    check(
      address,
      (error, result, undetermined) =>
        resolve(
          result
            ? { v: "deliverable", r: "true" }
            : undetermined
              ? { v: "unknown", r: "undetermined" }
              : { v: "undeliverable", r: `false${error ? ` (${String((error as Error).message ?? error)})` : ""}` }
        ),
      timeoutMs
    )
  )
}

const emailVerify: Adapter = (address, timeoutMs) => {
  const lib = require("email-verify") as EmailVerify
  const codes = lib.verifyCodes
  return new Promise((resolve) =>
    lib.verify(address, { timeout: timeoutMs }, (_error, info) => {
      if (info === undefined) return resolve({ v: "unknown", r: "no answer" })
      if (info.success) return resolve({ v: "deliverable", r: info.info })
      const unsure =
        info.tryagain === true ||
        info.code === codes["SMTPConnectionTimeout"] ||
        info.code === codes["SMTPConnectionError"]
      resolve({ v: unsure ? "unknown" : "undeliverable", r: info.info })
    })
  )
}

/**
 * @category constants
 * @since 0.1.0
 */
export const adapters: Record<string, Adapter> = {
  "deep-email-validator": deep,
  "email-existence": existence,
  "email-verify": emailVerify
}
