// `pnpm kv get|put|append|cas|delete|status`: the command-line client (src/real/cli.ts; --help).

import { cliMain } from "../src/real/cli.ts";

process.exitCode = await cliMain(process.argv.slice(2));
