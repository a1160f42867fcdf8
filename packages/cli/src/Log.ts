/**
 * Log lines that cannot drive a terminal: a message may quote what a mail server or an input file
 * said, so its text passes through `Printable.escapeControls` before the logger formats it.
 *
 * @since 0.1.0
 */
import { Logger } from "effect"
import { Printable } from "@rcpt/verifier"

/**
 * `logger` with control characters and bidi overrides in string messages escaped.
 *
 * @category constructors
 * @since 0.1.0
 */
export const escaping = <Output>(logger: Logger.Logger<unknown, Output>): Logger.Logger<unknown, Output> =>
  Logger.make((options) => {
    const escape = (m: unknown) => (typeof m === "string" ? Printable.escapeControls(m) : m)
    const message = Array.isArray(options.message) ? options.message.map(escape) : escape(options.message)
    return logger.log({ ...options, message })
  })
