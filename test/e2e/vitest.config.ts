// The e2e suite against the real MTAs of test/e2e/mail-world (Postfix, OpenSMTPD, postgrey,
// dnsmasq on 127.0.0.0/8). Not one of the root projects: `npm test` never runs it. Run it with
// `npm run test:e2e` (test/e2e/run.sh brings the world up and down around it), or, with a world
// already up, `npx vitest run --config test/e2e/vitest.config.ts`.
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { conditions } from "../../vitest.workspace.ts"

export default defineConfig({
  // The @rcpt packages from their TypeScript sources, as in the root projects.
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: "e2e",
    // The repository root, wherever vitest is started from: `include` and `outputFile` are relative to it.
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/e2e/**/*.e2e.test.ts"],
    // The JSON report is what .ci/run counts (scripts/count-results.mjs); the default reporter is for people.
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/e2e-results.json" },
    // One mail world for every file: Postfix's error limits, postgrey's database and the per-host
    // connection counts are shared state, so files run one after the other.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
