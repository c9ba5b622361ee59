// Entry point of `pnpm lincheck` (the root's script and the package's); main.ts does the work.
// This file only wires it to the process: its streams, its exit code, and a word about pnpm.

import { quietOnBrokenPipe } from "./command.ts";
import { EXIT, main } from "./main.ts";

quietOnBrokenPipe();

const code = main(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
});

// pnpm follows any exit code but 0 with its own "ELIFECYCLE Command failed" line, unless run as
// `pnpm -s`. A verdict is not a failure of the command, so say what the line means.
const verdict = code === EXIT["not-linearizable"] || code === EXIT.unknown;
if (
  verdict &&
  process.env.npm_lifecycle_event === "lincheck" &&
  process.env.npm_config_reporter !== "silent"
) {
  console.error(
    `lincheck: exit code ${code} reports the verdict; pnpm's "Command failed" line below means only that (pnpm -s lincheck leaves it out)`,
  );
}
process.exitCode = code;
