// `pnpm kv:seeds <count>`: the store's simulated suite under many seeds, with the core's sweep
// (part5-snapshots/scripts/seed-sweep.ts; --help).

import path from "node:path";
import { seedSweep } from "part5-snapshots/scripts/seed-sweep";

await seedSweep(path.resolve(import.meta.dirname, ".."), process.argv.slice(2));
