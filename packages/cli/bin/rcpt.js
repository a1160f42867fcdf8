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
} else {
  start()
}

// Installed (under node_modules), the built JavaScript in dist/. In the repository, the TypeScript
// sources of every @rcpt package, through their "@rcpt/source" export condition (Node strips the
// types), so that `npx rcpt` needs no build. The compile cache makes later starts faster.
function start() {
  var fromSource = import.meta.url.indexOf("/node_modules/") === -1
  return Promise.all([import("node:module"), import("node:v8")]).then(function (loaded) {
    var Module = loaded[0]
    var V8 = loaded[1]
    if (Module.enableCompileCache) Module.enableCompileCache()
    // A bulk run's live heap stays small (tens of MB) but allocates fast; left alone, V8 grows the
    // heap to several times the live size (400-500 MB RSS on long runs). These keep the young
    // generation small and the old one growing by a fifth at a time, for a little more collector
    // time. V8 reads both when it sizes the heap after a collection, so setting them at start works.
    V8.setFlagsFromString("--max-semi-space-size=4")
    V8.setFlagsFromString("--heap-growing-percent=20")
    if (!fromSource) return import("../dist/main.js")
    Module.registerHooks({
      resolve: function (specifier, context, next) {
        return next(specifier, Object.assign({}, context, { conditions: context.conditions.concat("@rcpt/source") }))
      }
    })
    return import("../src/main.ts")
  })
}
