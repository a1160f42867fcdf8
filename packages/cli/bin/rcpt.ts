#!/usr/bin/env node
// The `rcpt` command. Node >= 22.18 runs this TypeScript directly (type stripping); `npx rcpt`
// in the repository puts the pinned Node first on PATH. The compile cache makes starts after
// the first one faster; main.ts is imported after it is on, so it is cached too.
import * as Module from "node:module"
import * as V8 from "node:v8"

Module.enableCompileCache?.()
// A bulk run's live heap stays small (tens of MB) but allocates fast; left alone, V8 grows the heap
// to several times the live size (400-500 MB RSS on long runs). These keep the young generation
// small and the old one growing by a fifth at a time, for a little more collector time. V8 reads
// both when it sizes the heap after a collection, so setting them here, at start, takes effect.
V8.setFlagsFromString("--max-semi-space-size=4")
V8.setFlagsFromString("--heap-growing-percent=20")
await import("../src/main.ts")
