/**
 * The `rcpt` exit codes and the one error type that carries them out of a command.
 *
 * `verify` reports its verdicts through the exit code; every command reports usage and input
 * problems through the sysexits(3) codes (64 usage, 66 no input, 70 internal, 73 cannot
 * create output); an interrupted run exits 130.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Verification } from "@rcpt/verifier"

/**
 * @category constants
 * @since 0.1.0
 */
export const codes = {
  /** Every address deliverable (verify); the run completed (bulk, demo). */
  ok: 0,
  /** At least one address undeliverable. */
  undeliverable: 1,
  /** At least one risky, none undeliverable. */
  risky: 2,
  /** At least one unknown, none undeliverable or risky. */
  unknown: 3,
  /** Bad flag, bad value, bad environment variable, invalid verifier config (EX_USAGE). */
  usage: 64,
  /** Input file missing, unreadable, a directory or binary (EX_NOINPUT). */
  noInput: 66,
  /** Anything unexpected: a bug (EX_SOFTWARE). */
  internal: 70,
  /** The output file cannot be created or written (EX_CANTCREAT). */
  cannotCreate: 73,
  /** Interrupted (Ctrl-C, SIGTERM). */
  interrupted: 130,
  /** Standard output was closed by its reader (`rcpt bulk list | head`), as a shell reports SIGPIPE. */
  brokenPipe: 141
} as const

/**
 * The exit code table as printed in `--help` and the README.
 *
 * @category constants
 * @since 0.1.0
 */
export const help = [
  "Exit codes (the worst verdict wins: undeliverable > risky > unknown > deliverable):",
  "  0    every address deliverable (verify); the run completed (bulk, demo)",
  "  1    at least one address undeliverable",
  "  2    at least one risky, none undeliverable",
  "  3    at least one unknown, none undeliverable or risky",
  "  64   usage error: bad flag or value, bad RCPT_* variable, invalid config",
  "  66   input file missing, unreadable, a directory, UTF-16 or binary",
  "  70   internal error",
  "  73   output file cannot be created or written",
  "  130  interrupted (Ctrl-C)",
  "  141  standard output closed by its reader (e.g. piped into head)"
].join("\n")

/**
 * The exit code for a set of verdicts: the worst one wins, undeliverable (1) over risky (2)
 * over unknown (3) over deliverable (0). No verdicts at all is 0.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromVerdicts = (verdicts: Iterable<Verification.Verdict>): number => {
  const seen = new Set(verdicts)
  if (seen.has("undeliverable")) return codes.undeliverable
  if (seen.has("risky")) return codes.risky
  if (seen.has("unknown")) return codes.unknown
  return codes.ok
}

/**
 * Ends the command with `code`, printing `message` (if any) on stderr first.
 *
 * @category errors
 * @since 0.1.0
 */
export class Exit extends Data.TaggedError("Exit")<{
  readonly code: number
  readonly message: string
}> {}

/**
 * @category constructors
 * @since 0.1.0
 */
export const usage = (message: string): Exit => new Exit({ code: codes.usage, message })

/**
 * @category constructors
 * @since 0.1.0
 */
export const noInput = (message: string): Exit => new Exit({ code: codes.noInput, message })

/**
 * @category constructors
 * @since 0.1.0
 */
export const cannotCreate = (message: string): Exit => new Exit({ code: codes.cannotCreate, message })

/**
 * An exit with a code and nothing to say (the verdicts were printed already).
 *
 * @category constructors
 * @since 0.1.0
 */
export const silent = (code: number): Exit => new Exit({ code, message: "" })
