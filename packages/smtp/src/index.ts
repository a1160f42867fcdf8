/**
 * @rcpt/smtp: the SMTP client protocol as pure data and functions. No I/O, no clock, no randomness.
 *
 * @since 0.1.0
 */
export * as Address from "./Address.ts"
export * as Capabilities from "./Capabilities.ts"
export * as Classify from "./Classify.ts"
export * as Command from "./Command.ts"
export * as ProtocolError from "./ProtocolError.ts"
export * as Reply from "./Reply.ts"
export * as ReplyParser from "./ReplyParser.ts"
export * as Session from "./Session.ts"
export * as DataEncoder from "./DataEncoder.ts"
export * as Sasl from "./Sasl.ts"
export * as Submission from "./Submission.ts"
