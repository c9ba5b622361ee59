// The lincheck command: reads a history file, checks it, prints the verdict and why, and writes the
// history page if asked. Kept apart from cli.ts (which only wires it to the process) so that the
// tests can call it directly. The exit code is the verdict, or says why there is none.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, sep } from "node:path";
import { parseArgs } from "node:util";
import { check, DEFAULT_MAX_STATES } from "./check.ts";
import { isUsageError, UsageError, usageMessage, userPath, wholeNumber } from "./command.ts";
import { explain } from "./explain.ts";
import { HistoryError } from "./history.ts";
import { type Format, formats, readHistoryFile } from "./parse/index.ts";
import { renderHtml } from "./view/html.ts";

/**
 * A verdict (0, 1, 4), or why there is none. "Unknown" is 4 and not 2, and an error 3 and not 1,
 * because 1 and 2 already mean something: not linearizable, and a usage error.
 */
export const EXIT = {
  linearizable: 0,
  "not-linearizable": 1,
  usage: 2,
  error: 3,
  unknown: 4,
} as const;

export const USAGE = `usage: pnpm -s lincheck <history> [--all] [--html <out.html> [--timeline <page.html>]]
                       [--format json|jepsen|kv] [--max-states <n>] [--time-limit <ms>]

Check whether a recorded history of client operations is linearizable.

  <history>            a lincheck JSON-lines history, a Jepsen etcd log or a kv log
                       (the format is recognised from its first line)
  --all                check every partition (key), even after one is found not linearizable;
                       by default the check stops there, as Porcupine does
  --html <file>        also write a self-contained HTML page drawing the history
  --timeline <file>    with --html: the test's timeline page (from dotest.sh or pnpm viz); the
                       history page links to it, relative to where the page is written
  --format <name>      the input format, if its first line does not say: json, jepsen or kv
  --max-states <n>     explore at most n search states per partition, then answer unknown
                       (default ${DEFAULT_MAX_STATES}); a count, so every machine gives the same answer
  --time-limit <ms>    also give up after this many milliseconds (no limit by default)
  -h, --help           show this help

Paths are relative to the folder you type the command in.

exit code: 0 linearizable, 1 not linearizable, 4 unknown (a limit was reached);
           2 a usage error, 3 bad input or another error (the message says which)
(-s keeps pnpm from adding "ELIFECYCLE Command failed" when the exit code is not 0.)`;

const TRY = "pnpm lincheck";

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: "boolean" },
      html: { type: "string" },
      timeline: { type: "string" },
      format: { type: "string" },
      "max-states": { type: "string" },
      "time-limit": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help" as const;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "no history file given"
        : `expected one history file, got ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  const format = values.format;
  if (format !== undefined && !(formats as readonly string[]).includes(format)) {
    throw new UsageError(`unknown --format "${format}" (expected ${formats.join(", ")})`);
  }
  if (values.timeline !== undefined && values.html === undefined) {
    throw new UsageError("--timeline needs --html: it is the page that links to the timeline");
  }
  return {
    file: positionals[0]!,
    html: values.html,
    timeline: values.timeline,
    format: format as Format | undefined,
    check: {
      allPartitions: values.all === true,
      maxStates: optional(values["max-states"], (v) => wholeNumber(v, "--max-states", 1)),
      timeLimitMs: optional(values["time-limit"], (v) => wholeNumber(v, "--time-limit", 0)),
    },
  };
}

type Options = Exclude<ReturnType<typeof options>, "help">;

const optional = <T>(value: string | undefined, read: (v: string) => T) =>
  value === undefined ? undefined : read(value);

/** The href of the timeline page, as seen from the history page: relative, each part encoded. */
function timelineHref(page: string, timeline: string): string {
  const path = relative(dirname(userPath(page)), userPath(timeline));
  return path.split(sep).map(encodeURIComponent).join("/");
}

function writeHtml(file: string, html: string): void {
  const path = userPath(file);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, html);
  } catch (e) {
    throw new HistoryError(
      file,
      0,
      `cannot write the page (${(e as Error).message}): choose another --html`,
    );
  }
}

function run(opts: Options, io: Io): number {
  const history = readHistoryFile(userPath(opts.file), opts.file, opts.format);
  const result = check(history.model, history.operations, opts.check);
  io.out(explain(history, result));
  if (opts.html !== undefined) {
    const timeline = optional(opts.timeline, (t) => timelineHref(opts.html!, t));
    writeHtml(opts.html, renderHtml(history, result, { ...opts.check, timeline }));
    io.out(`wrote ${opts.html}`);
  }
  return EXIT[result.verdict];
}

function internal(e: unknown): string {
  const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return `lincheck: an internal error, a bug in lincheck; please report it with the history file:\n${what}`;
}

/**
 * The whole command; returns the exit code instead of exiting, so tests can call it. Bad input
 * (a file that cannot be read or written, a line that is wrong) is a HistoryError naming the file
 * and line; anything else that goes wrong is a bug in lincheck, reported as one.
 */
export function main(argv: string[], io: Io): number {
  try {
    const opts = options(argv);
    if (opts === "help") {
      io.out(USAGE);
      return 0;
    }
    return run(opts, io);
  } catch (e) {
    if (isUsageError(e)) {
      io.err(usageMessage("lincheck", TRY, e));
      return EXIT.usage;
    }
    io.err(e instanceof HistoryError ? `lincheck: ${e.message}` : internal(e));
    return EXIT.error;
  }
}
