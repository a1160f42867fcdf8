import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    coverage: {
      provider: "v8",
      include: ["packages/smtp/src/**"],
      reporter: ["text-summary", "text"],
      thresholds: { "packages/smtp/src/**": { branches: 95 } }
    }
  }
})
