import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/vitest-results.json" },
    coverage: {
      provider: "v8",
      include: ["packages/smtp/src/**"],
      reporter: ["text-summary", "text"],
      thresholds: { "packages/smtp/src/**": { branches: 95 } }
    }
  }
})
