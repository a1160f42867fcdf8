/**
 * Figures from runs: per run (rate, connections per 100 addresses, peak RSS, agreement with the truth), medians over
 * runs, ratios to rcpt and to the limit, the printed table and the JSON written to `bench/results/latest.json`.
 *
 * @since 0.1.0
 */
import type { Result } from "./io.ts"
import { expected } from "./truth.ts"
import type { Kind, Verdict } from "./truth.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface RunFigures {
  readonly addresses: number
  readonly answered: number
  /** Addresses per second over the contender's active time (first DNS query or connection to exit). */
  readonly rate: number
  readonly activeMs: number
  readonly wallMs: number
  /** SMTP connections the servers accepted, per 100 addresses. */
  readonly connsPer100: number
  /** TCP connections the contender opened (the guard's count), per 100 addresses. */
  readonly clientConnsPer100: number
  readonly peakRssMb: number
  /** Share of addresses whose verdict matches the truth (a missing answer counts as wrong). */
  readonly agreement: number
  readonly agreementByKind: Record<Kind, number>
  readonly verdicts: Record<Verdict | "missing", number>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Row {
  readonly contender: string
  readonly condition: string
  readonly skipped?: string
  readonly runs: ReadonlyArray<RunFigures>
  readonly median?: Omit<RunFigures, "agreementByKind" | "verdicts"> & {
    readonly agreementByKind: Record<Kind, number>
  }
  readonly vsRcpt?: number
  readonly vsLimit?: number
}

/**
 * Compares a contender's results with the truth.
 *
 * @category constructors
 * @since 0.1.0
 */
export const agreement = (
  truth: ReadonlyMap<string, Kind>,
  results: ReadonlyArray<Result>
): Pick<RunFigures, "answered" | "agreement" | "agreementByKind" | "verdicts"> => {
  const answers = new Map<string, Verdict>()
  for (const r of results) answers.set(r.a.toLowerCase(), r.v)
  const verdicts: Record<Verdict | "missing", number> = { deliverable: 0, undeliverable: 0, unknown: 0, missing: 0 }
  const right: Record<Kind, number> = { existing: 0, unknown_mailbox: 0, catch_all: 0, no_domain: 0 }
  const total: Record<Kind, number> = { existing: 0, unknown_mailbox: 0, catch_all: 0, no_domain: 0 }
  let agreed = 0
  for (const [address, kind] of truth) {
    const v = answers.get(address.toLowerCase())
    total[kind]++
    verdicts[v ?? "missing"]++
    if (v === expected[kind]) {
      agreed++
      right[kind]++
    }
  }
  const byKind = Object.fromEntries(
    (Object.keys(total) as Array<Kind>).map((k) => [k, total[k] === 0 ? 1 : right[k] / total[k]])
  ) as Record<Kind, number>
  return {
    answered: truth.size - verdicts.missing,
    agreement: truth.size === 0 ? 1 : agreed / truth.size,
    agreementByKind: byKind,
    verdicts
  }
}

/**
 * @category math
 * @since 0.1.0
 */
export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Medians of every figure over the runs.
 *
 * @category constructors
 * @since 0.1.0
 */
export const summarize = (runs: ReadonlyArray<RunFigures>): Row["median"] => {
  if (runs.length === 0) return undefined
  const m = (f: (r: RunFigures) => number) => median(runs.map(f))
  return {
    addresses: m((r) => r.addresses),
    answered: m((r) => r.answered),
    rate: m((r) => r.rate),
    activeMs: m((r) => r.activeMs),
    wallMs: m((r) => r.wallMs),
    connsPer100: m((r) => r.connsPer100),
    clientConnsPer100: m((r) => r.clientConnsPer100),
    peakRssMb: m((r) => r.peakRssMb),
    agreement: m((r) => r.agreement),
    agreementByKind: {
      existing: m((r) => r.agreementByKind.existing),
      unknown_mailbox: m((r) => r.agreementByKind.unknown_mailbox),
      catch_all: m((r) => r.agreementByKind.catch_all),
      no_domain: m((r) => r.agreementByKind.no_domain)
    }
  }
}

/**
 * Fills in each row's ratios to rcpt verifyMany and to the limit in the same condition.
 *
 * @category constructors
 * @since 0.1.0
 */
export const withRatios = (rows: ReadonlyArray<Row>, rcptName: string, limitName: string): Array<Row> =>
  rows.map((row) => {
    const rate = row.median?.rate
    const find = (name: string) => rows.find((r) => r.condition === row.condition && r.contender === name)?.median?.rate
    const rcpt = find(rcptName)
    const limit = find(limitName)
    return {
      ...row,
      ...(rate !== undefined && rcpt !== undefined ? { vsRcpt: rate / rcpt } : {}),
      ...(rate !== undefined && limit !== undefined ? { vsLimit: rate / limit } : {})
    }
  })

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? "-"
    : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
const pct = (n: number | undefined) => (n === undefined ? "-" : `${(n * 100).toFixed(1)}%`)
const ratio = (n: number | undefined) => (n === undefined ? "-" : n >= 10 ? `${n.toFixed(0)}x` : `${n.toFixed(2)}x`)

/**
 * A Markdown table of the rows (one block per condition).
 *
 * @category formatting
 * @since 0.1.0
 */
export const table = (rows: ReadonlyArray<Row>): string => {
  const header =
    "| condition | contender | addr/s median (min-max) | vs rcpt | vs limit | conns/100 addr | peak RSS MB | agreement | existing / unknown / catch-all / no domain |\n" +
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  const lines = rows.map((row) => {
    const m = row.median
    if (row.skipped !== undefined || m === undefined) {
      return `| ${row.condition} | ${row.contender} | skipped: ${row.skipped ?? "no run"} | | | | | | |`
    }
    const k = m.agreementByKind
    const rates = row.runs.map((r) => r.rate)
    const range = rates.length > 1 ? ` (${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))})` : ""
    return `| ${row.condition} | ${row.contender} | ${fmt(m.rate)}${range} | ${ratio(row.vsRcpt)} | ${ratio(row.vsLimit)} | ${fmt(
      m.connsPer100,
      1
    )} | ${fmt(m.peakRssMb)} | ${pct(m.agreement)} | ${pct(k.existing)} / ${pct(k.unknown_mailbox)} / ${pct(
      k.catch_all
    )} / ${pct(k.no_domain)} |`
  })
  return [header, ...lines].join("\n")
}
