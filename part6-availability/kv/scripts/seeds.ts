// `pnpm kv:seeds <count>`: the store's simulated suite under many seeds, with the core's sweep
// (part6-availability/scripts/seed-sweep.ts; --help).

import path from "node:path";
import { seedSweep } from "part6-availability/scripts/seed-sweep";

await seedSweep(path.resolve(import.meta.dirname, ".."), process.argv.slice(2));
