// Entry point for `pnpm viz` and dotest.sh; see main.ts for what it does.
import chalk from "chalk";
import { main } from "./main.ts";

// `pnpm viz -f text … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  // chalk's default instance has already looked at whether stdout is a terminal
  color: chalk.level,
});
