// `pnpm test:seeds <count>`: this part's suite under many seeds (scripts/seed-sweep.ts; --help).

import path from "node:path";
import { seedSweep } from "./seed-sweep.ts";

await seedSweep(path.resolve(import.meta.dirname, ".."), process.argv.slice(2));
