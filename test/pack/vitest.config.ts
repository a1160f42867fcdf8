// The packaging test: packs every published package, installs the tarballs into a project outside
// the repository and uses them as a user would. Not one of the root projects (it takes minutes and
// downloads an older Node): `npm run test:pack` runs it, and .ci/run after `npm test`.
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { conditions } from "../../vitest.workspace.ts"

export default defineConfig({
  // The test process itself starts the mail world from the sources; the installed copy is what runs in children.
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: "pack",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/pack/**/*.test.ts"],
    // The JSON report is what .ci/run counts (scripts/count-results.mjs).
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/pack-results.json" },
    testTimeout: 120_000,
    hookTimeout: 600_000
  }
})
