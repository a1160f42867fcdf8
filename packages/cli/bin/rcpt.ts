#!/usr/bin/env node
// The `rcpt` command. Node >= 22.18 runs this TypeScript directly (type stripping); `npx rcpt`
// in the repository puts the pinned Node first on PATH. The compile cache makes starts after
// the first one faster; main.ts is imported after it is on, so it is cached too.
import * as Module from "node:module"

Module.enableCompileCache?.()
await import("../src/main.ts")
