/**
 * Read timeouts per phase, for any machine `SmtpClient.run` drives: the phases of the
 * verification `Session` and of the `Submission` share their names, so one record type and one
 * phase-to-timeout mapping serve both. The values are each service's policy: the verifier's are
 * short (`Policy.phaseTimeouts`), the mailer's follow RFC 5321 §4.5.3.2
 * (`MailerConfig.phaseTimeouts`).
 *
 * @since 0.2.0
 */
import type { Duration } from "effect"

/**
 * The timeouts every dialogue needs: connecting, and the phases both machines have.
 *
 * @category models
 * @since 0.2.0
 */
export interface Common {
  readonly connect: Duration.Input
  readonly greeting: Duration.Input
  readonly ehlo: Duration.Input
  readonly starttls: Duration.Input
  readonly tlsHandshake: Duration.Input
  readonly mail: Duration.Input
  readonly rcpt: Duration.Input
  readonly rset: Duration.Input
  readonly quit: Duration.Input
}

/**
 * A verification session's timeouts (`Session`): the common ones and VRFY.
 *
 * @category models
 * @since 0.2.0
 */
export interface Verification extends Common {
  readonly vrfy: Duration.Input
}

/**
 * A submission's timeouts (`Submission`): the common ones, AUTH, DATA and the reply after the body.
 *
 * @category models
 * @since 0.2.0
 */
export interface Submission extends Common {
  readonly auth: Duration.Input
  readonly data: Duration.Input
  readonly dataEnd: Duration.Input
}

/**
 * Any machine's timeouts: the common ones and whichever of the others its phases use.
 *
 * @category models
 * @since 0.2.0
 */
export type PhaseTimeouts = Common & Partial<Omit<Verification & Submission, keyof Common>>

const byPhase: Readonly<Record<string, keyof (Verification & Submission)>> = {
  AwaitGreeting: "greeting",
  AwaitEhlo: "ehlo",
  AwaitHelo: "ehlo",
  AwaitStartTls: "starttls",
  AwaitTlsHandshake: "tlsHandshake",
  AwaitAuth: "auth",
  AwaitMail: "mail",
  AwaitRcpt: "rcpt",
  AwaitProbe: "rcpt",
  AwaitRset: "rset",
  AwaitVrfy: "vrfy",
  AwaitData: "data",
  AwaitDataEnd: "dataEnd",
  AwaitQuit: "quit",
  Done: "quit"
}

/**
 * The read timeout for a phase (`SmtpClient.run`'s `phaseTimeout`). A phase without its own
 * timeout in the record (one the machine never enters) and an unknown phase get `quit`'s.
 *
 * @category timeouts
 * @since 0.2.0
 */
export const timeoutFor =
  (timeouts: PhaseTimeouts) =>
  (phase: string): Duration.Input => {
    const field = byPhase[phase]
    return (field === undefined ? undefined : timeouts[field]) ?? timeouts.quit
  }
