// What lincheck's command lines (the checker, src/main.ts, and the benchmark, bench/run.ts) share
// with every other command of the repository: a usage error says what is wrong and where the help
// is, and exits 2; any other error is not turned into one; numbers are read one way; a closed
// pipe (`| head`) ends the command quietly; and a relative path is the user's, relative to where
// they typed the command.

import { resolve } from "node:path";

/** The command line itself is wrong: a bad option, a missing argument, a number out of range. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Whether an error is the user's command line: a UsageError, or one of node:util parseArgs' own
 * (an unknown option, a missing value), which are TypeErrors told apart by their ERR_PARSE_ARGS
 * code. Any other TypeError is a bug, and must not be reported as "Try --help".
 */
export function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError) return true;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

/**
 * The two lines of a usage error on stderr: what is wrong, and the command that explains.
 * parseArgs' message for an unknown option goes on about positionals; the option is what matters.
 */
export function usageMessage(prog: string, command: string, error: Error): string {
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  const what = unknown ? `unknown option ${unknown[1]}` : error.message;
  return `${prog}: ${what}\nTry '${command} --help'.`;
}

/**
 * The one way numbers are read from a command line: digits only (no "1e3", no "0x10", no sign),
 * from `min` up. Anything else is a UsageError naming the option and what it got.
 */
export function wholeNumber(text: string, option: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${option} must be a whole number of at least ${min}, got "${text}"`);
  }
  return n;
}

/**
 * A path the user typed, made absolute. pnpm runs a package's script in the package's folder and
 * sets INIT_CWD to the folder the user typed the command in, which their paths are relative to.
 */
export function userPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD ?? process.cwd(), path);
}

/** The part of a stream quietOnBrokenPipe needs (process.stdout and process.stderr are ones). */
interface Output {
  on(event: "error", listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/**
 * `pnpm lincheck h.log | head` closes the pipe before the command is done writing. That is the
 * reader's choice, not an error: exit at once, with status 0 and no stack trace. Other write
 * errors are rethrown.
 */
export function quietOnBrokenPipe(
  streams: readonly Output[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on("error", (error) => {
      if (error.code !== "EPIPE") throw error;
      exit(0);
    });
  }
}
