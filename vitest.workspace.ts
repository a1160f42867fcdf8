// The list of test projects. Vitest >= 4 no longer reads a workspace file by itself, so
// vitest.config.ts imports this list and hands it to `test.projects`.
import { defineProject } from "vitest/config"

const pkg = (name: string, exclude: ReadonlyArray<string> = []) =>
  defineProject({
    test: {
      name,
      root: `packages/${name}`,
      include: ["test/**/*.test.ts"],
      exclude: ["**/node_modules/**", ...exclude]
    }
  })

/**
 * The cluster's multi-process test (PostgreSQL, three runner processes, a SIGKILL, a failover
 * deadline) runs as a stage of its own (`npm run test:cluster`, after `npm test` in .ci/run), on
 * a machine not busy with the other suites, so its timing assertion measures the cluster.
 */
const clusterStage = defineProject({
  test: { name: "cluster-stage", root: "packages/cluster", include: ["test/**/*.integration.test.ts"] }
})

export const projects = [
  pkg("smtp"),
  pkg("client"),
  pkg("verifier"),
  pkg("node"),
  pkg("testing"),
  pkg("cli"),
  pkg("signals"),
  pkg("http"),
  pkg("mailer"),
  pkg("cluster", ["test/**/*.integration.test.ts"]),
  pkg("store"),
  // Outside suites carried in as data (test/fixtures/): address syntax, reply classification, reply/EHLO parsing.
  defineProject({ test: { name: "conformance", root: "test/conformance", include: ["**/*.test.ts"] } }),
  ...(process.env["RCPT_TEST_STAGE"] === "cluster" ? [clusterStage] : [])
]
