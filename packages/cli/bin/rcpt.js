#!/usr/bin/env node
// The `rcpt` command. Plain JavaScript without a static import or newer syntax, so that any Node able
// to parse an ES module reaches the version check below before loading anything that needs a newer one.
var minimum = [22, 19]
var running = process.versions.node.split(".").map(Number)
if (running[0] < minimum[0] || (running[0] === minimum[0] && running[1] < minimum[1])) {
  process.stderr.write("rcpt: needs Node.js >= " + minimum.join(".") + " (this is Node.js " + process.version + ")\n")
  process.exit(1)
}

// `rcpt --version` alone needs nothing else: answered here, without loading Effect (its command
// line parser alone takes about 90 MB and most of a start). Any other use goes through main.
if (process.argv.length === 3 && process.argv[2] === "--version") {
  import("node:fs").then(function (fs) {
    var pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    process.stdout.write("rcpt v" + pkg.version + "\n")
  })
} else if (!reexec()) {
  start()
}

// A long run (bulk, serve, runner) allocates fast while its live heap stays small (50-100 MB);
// left alone, V8 grows the heap, and RSS, to several times that (300+ MB on a long bulk run).
// A small young generation and an old one growing by a fifth at a time keep it near the live
// size, for a little more collector time. V8 reads both only when it sets up the heap
// (v8.setFlagsFromString later has no effect on them), so the process replaces itself with one
// started with them: process.execve keeps the pid, the open descriptors and the signals (a kill -9
// still ends the run at once). Where execve is missing (Windows, older Node) it runs as it is;
// starting node with any --max-semi-space-size yourself turns this off (the RCPT_* variables are
// read in one place, VerifierConfig, which is not loaded yet). Only when the command comes first.
// The new process also gets MALLOC_ARENA_MAX=2 (unless set): glibc gives each thread that mallocs
// (V8's and libuv's worker threads) an arena of its own, and each keeps what it freed, 10-15 MB
// of RSS on a long run; two arenas cost no measurable time (bench/README.md, memory of a long run).
function reexec() {
  var long = ["bulk", "serve", "runner"].indexOf(process.argv[2]) !== -1
  var set = process.execArgv.some(function (a) {
    return a.indexOf("--max-semi-space-size") === 0
  })
  if (!long || set || typeof process.execve !== "function") return false
  var script = process.argv[1]
  process.execve(
    process.execPath,
    [process.execPath, "--max-semi-space-size=4", "--heap-growing-percent=20"].concat(
      process.execArgv,
      [script],
      process.argv.slice(2)
    ),
    Object.assign({ MALLOC_ARENA_MAX: "2" }, process.env)
  )
  return true
}

// Installed (under node_modules), the bundle in bundle/ (scripts/bundle.ts: ~20 files for
// `verify` instead of ~420 modules). In the repository, the TypeScript sources of every @rcpt
// package, through their "@rcpt/source" export condition (Node strips the types), so that
// `npx rcpt` needs no build. The compile cache makes later starts faster.
function start() {
  var fromSource = import.meta.url.indexOf("/node_modules/") === -1
  return import("node:module").then(function (Module) {
    if (Module.enableCompileCache) Module.enableCompileCache()
    if (!fromSource) return import("../bundle/main.js")
    Module.registerHooks({
      resolve: function (specifier, context, next) {
        return next(specifier, Object.assign({}, context, { conditions: context.conditions.concat("@rcpt/source") }))
      }
    })
    return import("../src/main.ts")
  })
}
