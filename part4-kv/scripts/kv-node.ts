// `pnpm kv:node`: one node of the key/value store (src/real/node-main.ts; --help says how).

import { nodeMain } from "../src/real/node-main.ts";

process.exitCode = await nodeMain(process.argv.slice(2).filter((arg) => arg !== "--"));
// Everything is closed by now; should a handle linger anyway, the process still ends.
setTimeout(() => process.exit(), 2000).unref();
