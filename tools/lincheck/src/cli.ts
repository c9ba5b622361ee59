import { EXIT, main } from "./main.ts";

// `pnpm lincheck h.log | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
});

// `pnpm lincheck` runs this in the folder of the package.json that defines the script (the root,
// or tools/lincheck); INIT_CWD is where the user typed the command, which their paths are relative to.
const viaPnpm = process.env.npm_lifecycle_event === "lincheck";
if (viaPnpm && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

const code = main(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
});

// pnpm follows any exit code but 0 with its own "ELIFECYCLE Command failed" line, unless run as
// `pnpm -s`. A verdict is not a failure of the command, so say what the line means.
if (
  viaPnpm &&
  code !== 0 &&
  code !== EXIT.badInput &&
  process.env.npm_config_reporter !== "silent"
) {
  console.error(
    `lincheck: exit code ${code} reports the verdict; pnpm's "Command failed" line below means only that (pnpm -s lincheck leaves it out)`,
  );
}
process.exitCode = code;
