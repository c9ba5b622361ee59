import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { check } from "./check.ts";
import { explain } from "./explain.ts";
import { HistoryError } from "./history.ts";
import { type Format, formats, readHistory } from "./parse/index.ts";
import { renderHtml } from "./view/html.ts";

export const EXIT = { linearizable: 0, "not-linearizable": 1, unknown: 2, badInput: 3 } as const;

export const USAGE = `usage: pnpm lincheck <history> [--html <out.html>] [--format json|jepsen|kv] [--budget <ms>]

Check whether a recorded history of client operations is linearizable.

  <history>          a lincheck JSON-lines history, a Jepsen etcd log or a kv log
                     (the format is recognised from the first line)
  --html <file>      also write a self-contained HTML page drawing the history
  --format <name>    force the input format: json, jepsen or kv
  --budget <ms>      give up after this many milliseconds (default 10000): verdict unknown
  -h, --help         show this help

exit code: 0 linearizable, 1 not linearizable, 2 unknown (budget exhausted), 3 bad input`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      html: { type: "string" },
      format: { type: "string" },
      budget: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true } as const;
  if (positionals.length !== 1) throw new Error("expected exactly one history file");
  const format = values.format;
  if (format !== undefined && !(formats as readonly string[]).includes(format)) {
    throw new Error(`unknown --format ${format}`);
  }
  const budgetMs = values.budget === undefined ? undefined : Number(values.budget);
  if (budgetMs !== undefined && !(budgetMs >= 0))
    throw new Error("--budget must be a number of milliseconds");
  return {
    help: false,
    file: positionals[0]!,
    html: values.html,
    format: format as Format | undefined,
    budgetMs,
  };
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
    const result = check(history.model, history.operations, { budgetMs: opts.budgetMs });
    io.out(explain(history, result));
    if (opts.html !== undefined) {
      writeHtml(opts.html, renderHtml(history, result));
      io.out(`wrote ${opts.html}`);
    }
    return EXIT[result.verdict];
  } catch (e) {
    if (!(e instanceof HistoryError)) throw e;
    io.err(`lincheck: ${e.message}`);
    return EXIT.badInput;
  }
}
