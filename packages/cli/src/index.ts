/**
 * @rcpt/cli: the `rcpt` command line, a thin shell over @rcpt/verifier. The modules are exported
 * for reuse and tests; the command itself is `bin/rcpt.ts` (which imports `main.ts`: importing
 * that runs the command line, so it is not in this barrel).
 *
 * @since 0.1.0
 */
export * as Bulk from "./Bulk.ts"
export * as Demo from "./Demo.ts"
export * as ExitCode from "./ExitCode.ts"
export * as Input from "./Input.ts"
export * as Options from "./Options.ts"
export * as Output from "./Output.ts"
export * as Progress from "./Progress.ts"
export * as Table from "./Table.ts"
export * as Verify from "./Verify.ts"
