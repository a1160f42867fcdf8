// The list of test projects. Vitest >= 4 no longer reads a workspace file by itself, so
// vitest.config.ts imports this list and hands it to `test.projects`.
import { defineProject } from "vitest/config"

const pkg = (name: string) =>
  defineProject({ test: { name, root: `packages/${name}`, include: ["test/**/*.test.ts"] } })

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
  pkg("store")
]
