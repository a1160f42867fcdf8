/**
 * The verification session's phases, named after the reply awaited. Apart so that the reply
 * classifier can name them without importing the session.
 *
 * @internal
 */
import type { DialoguePhase } from "./dialogue.ts"

/**
 * What the machine waits for, named after the reply it expects.
 *
 * @category models
 * @since 0.1.0
 */
export type Phase = DialoguePhase | "AwaitProbe" | "AwaitVrfy"
