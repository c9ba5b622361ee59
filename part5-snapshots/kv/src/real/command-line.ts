// What the commands of this part share (`pnpm kv`, `pnpm kv:node`, `pnpm kv:cluster`, in
// scripts/), so that they behave as one:
//
// - `--help` prints the usage on stdout and exits 0.
// - A usage error (one of node:util parseArgs' own, or a UsageError: a bad number, a missing
//   argument) prints `<command>: <what is wrong>` and `Try '<command> --help'.` on stderr and exits
//   2. Any other error is not the user's typing: its message, and exit status 1.
// - Numbers on the command line go through one parser, whose message says the range.
// - A path the user gives is relative to the folder they typed the command in (pnpm runs scripts
//   in the package's folder, and says where the user was in INIT_CWD).
// - Output closed early (`| head`) ends the command quietly, with status 0.

import path from "node:path";

/**
 * This part's folder. The commands also run bundled (scripts/launch.mjs), from out/bundle/,
 * which is two folders below the part as this file is: the same path leads here from both.
 */
export const partDir = path.resolve(import.meta.dirname, "../..");
export const DEFAULT_CLUSTER = "0=127.0.0.1:7000,1=127.0.0.1:7001,2=127.0.0.1:7002";
export const DEFAULT_DATA = path.join(partDir, "out", "data");
export const DEFAULT_TRACES = path.join(partDir, "out", "traces");

/** Something wrong with the command line: exit status 2, and a pointer to --help. */
export class UsageError extends Error {}

/** The one number parser: a whole number in min..max, or a UsageError that says so. */
export function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** Paths on the command line are the user's: relative to where pnpm was started, not to its cwd. */
export function userPath(given: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), given);
}

export interface CommandOptions {
  /** The command as the user types it, e.g. `pnpm kv`. */
  name: string;
  /**
   * What to do when stdout or stderr is closed by its reader (EPIPE). By default the process
   * ends at once, status 0; a node or a supervisor first stops what it runs.
   */
  onOutputClosed?: () => void;
}

/** Runs a command's main and exits as the conventions above say. */
export async function runCommand(options: CommandOptions, main: () => Promise<number>) {
  const closed = options.onOutputClosed ?? (() => process.exit(0));
  let once = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      if (!once) closed();
      once = true;
    });
  }
  try {
    process.exitCode = await main();
  } catch (error) {
    process.exitCode = report(options.name, error);
  }
}

/** Says what went wrong; returns the exit status: 2 for a usage error, 1 for anything else. */
function report(name: string, error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  // parseArgs says what is wrong with the command line in a TypeError with an ERR_PARSE_ARGS code.
  const code = String((error as NodeJS.ErrnoException | undefined)?.code);
  if (error instanceof UsageError || code.startsWith("ERR_PARSE_ARGS")) {
    console.error(`${name}: ${message}\nTry '${name} --help'.`);
    return 2;
  }
  // An Error of our own or of the system (a file that cannot be opened) says enough; any other
  // kind (a TypeError...) is a bug, and its stack is what a report of it needs.
  const plain = error instanceof Error && (error.constructor === Error || "code" in error);
  console.error(
    plain || !(error instanceof Error) ? `${name}: ${message}` : `${name}: ${error.stack}`,
  );
  return 1;
}

/**
 * Calls `stop` on the first SIGINT, SIGTERM or SIGHUP. Ctrl-C reaches every process of the
 * terminal's foreground group, so a wrapper (pnpm) may pass the same signal on again a moment
 * later: a repeat within a second is that echo; a later one means "now", and exits at once.
 */
export function handleSignals(stop: (signal: string) => void): void {
  let first: number | undefined;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (first === undefined) {
        first = Date.now();
        stop(signal);
      } else if (Date.now() - first > 1000) {
        process.exit(130);
      }
    });
  }
}
