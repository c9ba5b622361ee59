// Once before the real-process tests: the bundles their node processes run are brought up to date
// (scripts/launch.mjs), so that the tests' first nodes, started together, do not each build them.

import { prepareNodes } from "../../src/real/spawn.ts";

export default function setup(): void {
  prepareNodes();
}
