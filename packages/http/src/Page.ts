/**
 * The web page at `/`: plain HTML, CSS and JavaScript from `page/` (no build step), for people
 * who would rather drop a file than call an API. It talks to the jobs API like any client.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"

// From the package's root, found by its name, not from this module's location: the `rcpt` CLI
// bundles this code into files of its own, from where `../page/` is elsewhere.
const asset = (name: string) =>
  readFileSync(
    Path.join(Path.dirname(createRequire(import.meta.url).resolve("@rcpt/http/package.json")), "page", name),
    "utf8"
  )

const files: ReadonlyArray<readonly [path: `/${string}`, file: string, contentType: string]> = [
  ["/", "index.html", "text/html; charset=utf-8"],
  ["/app.js", "app.js", "text/javascript; charset=utf-8"],
  ["/style.css", "style.css", "text/css; charset=utf-8"]
]

const route = ([path, file, contentType]: (typeof files)[number]) => {
  const body = asset(file)
  return HttpRouter.add(
    "GET",
    path,
    Effect.succeed(
      HttpServerResponse.text(body, {
        contentType,
        headers: {
          "cache-control": "no-cache",
          "content-security-policy":
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
          "x-content-type-options": "nosniff"
        }
      })
    )
  )
}

/**
 * The page's routes. The files are read once, when the module is loaded.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<never, never, HttpRouter.HttpRouter> = Layer.mergeAll(
  route(files[0]!),
  route(files[1]!),
  route(files[2]!)
)
