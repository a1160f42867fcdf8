// The web page at `/` in a real headless browser: Debian's chromium driven by playwright-core
// (never a downloaded browser). Uploads a file, waits for the job to finish, reads the counts
// and the chart, downloads the CSV, and saves a screenshot under .tmp/. Without chromium the
// test is skipped with a message when not root and fails when root (CI installs it).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { chromium } from "playwright-core"
import { withService } from "./jobsHarness.ts"

const executablePath = "/usr/bin/chromium"
const available = existsSync(executablePath)
const root = process.getuid?.() === 0
const screenshots = resolve(import.meta.dirname, "../../../.tmp")

const list = [
  "alice@alpha.test",
  "bob@alpha.test",
  "nobody@alpha.test",
  "someone@catchall.test",
  "alice@vrfy.test",
  "not an address",
  "x@nullmx.test"
]

if (!available && !root) console.warn(`page test skipped: no ${executablePath} (apt-get install -y chromium)`)

describe.skipIf(!available && !root)("the web page at /", () => {
  it.live(
    "upload a file, follow it to done, see the verdicts, download the CSV",
    () =>
      withService((service) =>
        Effect.acquireUseRelease(
          Effect.promise(async () => {
            assert.isTrue(available, `${executablePath} is missing (apt-get install -y chromium)`)
            const profile = mkdtempSync(join(tmpdir(), "rcpt-chromium-"))
            const context = await chromium.launchPersistentContext(profile, {
              executablePath,
              headless: true,
              acceptDownloads: true,
              args: [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run"
              ]
            })
            return { context, profile }
          }),
          ({ context }) =>
            Effect.promise(async () => {
              const page = await context.newPage()
              const errors: Array<string> = []
              page.on("pageerror", (e) => errors.push(e.message))
              await page.goto(service.base)
              assert.strictEqual(await page.title(), "rcpt: verify a list")
              assert.isTrue(await page.getByLabel(/Choose a list/).isVisible())
              await page.setInputFiles("#file", {
                name: "list.txt",
                mimeType: "text/plain",
                buffer: Buffer.from(list.join("\n"))
              })
              await page.getByRole("button", { name: "Start verifying" }).click()
              await page.locator("#status").filter({ hasText: "queued" }).waitFor({ timeout: 10_000 })
              const row = page.locator('#jobs tbody tr[data-state="done"]')
              await row.waitFor({ timeout: 60_000 })
              assert.include(await row.innerText(), `${list.length} / ${list.length}`)
              // The counts table adds up to the list, and the chart says the same in words.
              const counts = await page.locator("#counts tbody tr td:nth-child(2)").allInnerTexts()
              assert.strictEqual(
                counts.reduce((sum, n) => sum + Number(n), 0),
                list.length
              )
              assert.match((await page.locator("#chart").getAttribute("aria-label")) ?? "", /deliverable \d+/)
              const [download] = await Promise.all([
                page.waitForEvent("download"),
                row.getByRole("button", { name: /as CSV/ }).click()
              ])
              const saved = await download.path()
              const csv = readFileSync(saved, "utf8").trim().split("\n")
              assert.strictEqual(csv.length, list.length + 1)
              assert.isTrue(csv[0]!.startsWith("address,verdict,reason"))
              mkdirSync(screenshots, { recursive: true })
              await page.screenshot({ path: join(screenshots, "jobs-page.png"), fullPage: true })
              assert.deepStrictEqual(errors, [])
            }),
          ({ context, profile }) =>
            Effect.promise(() => context.close()).pipe(
              Effect.ensuring(Effect.sync(() => rmSync(profile, { recursive: true, force: true })))
            )
        )
      ),
    { timeout: 120_000 }
  )
})
