// `pnpm test:seeds <count>`: this part's suite under many seeds, with part 3's sweep
// (part3-persistence/scripts/seed-sweep.ts; --help).

import path from "node:path";
import { seedSweep } from "part3-persistence/scripts/seed-sweep";

await seedSweep(path.resolve(import.meta.dirname, ".."), process.argv.slice(2));
