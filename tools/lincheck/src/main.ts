import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { check, DEFAULT_MAX_STATES } from "./check.ts";
import { explain } from "./explain.ts";
import { HistoryError } from "./history.ts";
import { type Format, formats, readHistory } from "./parse/index.ts";
import { renderHtml } from "./view/html.ts";

export const EXIT = { linearizable: 0, "not-linearizable": 1, unknown: 2, badInput: 3 } as const;

export const USAGE = `usage: pnpm -s lincheck <history> [--all] [--html <out.html>] [--format json|jepsen|kv]
                       [--max-states <n>] [--time-limit <ms>]

Check whether a recorded history of client operations is linearizable.

  <history>            a lincheck JSON-lines history, a Jepsen etcd log or a kv log
                       (the format is recognised from its first line)
  --all                check every partition (key), even after one is found not linearizable;
                       by default the check stops there, as Porcupine does
  --html <file>        also write a self-contained HTML page drawing the history
  --format <name>      the input format, if its first line does not say: json, jepsen or kv
  --max-states <n>     explore at most n search states per partition, then answer unknown
                       (default ${DEFAULT_MAX_STATES}); a count, so every machine gives the same answer
  --time-limit <ms>    also give up after this many milliseconds (no limit by default)
  -h, --help           show this help

exit code: 0 linearizable, 1 not linearizable, 2 unknown (a limit was reached), 3 bad input
(-s keeps pnpm from adding "ELIFECYCLE Command failed" when the exit code is not 0.)`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A whole number of at least `min` from an option, or a message saying what it must be. */
function count(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(
      `${name} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: "boolean" },
      html: { type: "string" },
      format: { type: "string" },
      "max-states": { type: "string" },
      "time-limit": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true } as const;
  if (positionals.length !== 1) throw new Error("expected exactly one history file");
  const format = values.format;
  if (format !== undefined && !(formats as readonly string[]).includes(format)) {
    throw new Error(`unknown --format ${format} (expected ${formats.join(", ")})`);
  }
  return {
    help: false,
    file: positionals[0]!,
    html: values.html,
    format: format as Format | undefined,
    check: {
      allPartitions: values.all === true,
      maxStates: count(values["max-states"], "--max-states", 1),
      timeLimitMs: count(values["time-limit"], "--time-limit", 0),
    },
  } as const;
}

function writeHtml(file: string, html: string): void {
  try {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, html);
  } catch (e) {
    throw new HistoryError(file, 0, `cannot write the page: ${(e as Error).message}`);
  }
}

/** The whole command; returns the exit code instead of exiting, so tests can call it. */
export function main(argv: string[], io: Io): number {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(argv);
  } catch (e) {
    io.err(`lincheck: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT.badInput;
  }
  if (opts.help) {
    io.out(USAGE);
    return 0;
  }
  try {
    const history = readHistory(opts.file, opts.format);
    const result = check(history.model, history.operations, opts.check);
    io.out(explain(history, result));
    if (opts.html !== undefined) {
      writeHtml(opts.html, renderHtml(history, result, opts.check));
      io.out(`wrote ${opts.html}`);
    }
    return EXIT[result.verdict];
  } catch (e) {
    if (!(e instanceof HistoryError)) throw e;
    io.err(`lincheck: ${e.message}`);
    return EXIT.badInput;
  }
}
