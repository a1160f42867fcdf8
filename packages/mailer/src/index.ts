/**
 * @rcpt/mailer: sending mail over rcpt's protocol core, as an Effect service.
 *
 * @since 0.1.0
 */
export * as Mailer from "./Mailer.ts"
export * as MailerConfig from "./MailerConfig.ts"
export * as MailMessage from "./MailMessage.ts"
export * as SendError from "./SendError.ts"
export * as SendResult from "./SendResult.ts"
