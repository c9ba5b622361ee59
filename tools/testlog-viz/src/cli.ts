// Entry point for `pnpm viz` and dotest.sh; see main.ts for what it does.
import chalk from "chalk";
import { quietOnClosedPipe } from "./cli-support.ts";
import { main } from "./main.ts";

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

process.exitCode = main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  // chalk's default instance has already looked at whether stdout is a terminal
  color: chalk.level,
});
