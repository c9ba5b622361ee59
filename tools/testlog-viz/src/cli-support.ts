// What every command line of the repository does the same way (the lead's CLI contract): a
// usage error is `<prog>: <what is wrong>` and `Try '<prog> --help'.` with status 2; any other
// error says what happened with status 1, never "Try --help"; a closed pipe (`| head`) ends the
// program quietly; and paths the user typed are read from the folder they typed them in.

import { resolve } from "node:path";

/** How the user types the command, for usage lines and the "Try … --help" hint. */
export const PROG = "pnpm viz";

/** A command line the program cannot act on: a bad option, a missing input, a file not a trace. */
export class UsageError extends Error {}

/** node:util parseArgs' own complaints (unknown option, missing value) are usage errors too. */
export function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

/** The message and exit status of an error that reached the top: 2 for usage, else 1. */
export function errorReport(error: unknown): { text: string; status: 1 | 2 } {
  if (isUsageError(error)) {
    return { text: `testlog-viz: ${error.message}\nTry '${PROG} --help'.\n`, status: 2 };
  }
  const why = error instanceof Error ? error.message : String(error);
  // a system error (no such file, no permission) says what happened; anything else is a bug
  const system = typeof (error as { code?: unknown } | null)?.code === "string";
  if (system || !(error instanceof Error)) return { text: `testlog-viz: ${why}\n`, status: 1 };
  return {
    text: `testlog-viz: internal error, please report it with the trace that caused it: ${why}\n${error.stack ?? ""}\n`,
    status: 1,
  };
}

/**
 * A path the user gave, made absolute. pnpm runs the script in the repository's root and says
 * in INIT_CWD where the user typed the command; relative paths mean that folder.
 */
export function userPath(given: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD ?? process.cwd(), given);
}

/** `… | head` closes stdout early: the reader's choice, not an error; leave quietly. */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
}
