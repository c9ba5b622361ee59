import { defineConfig } from "vitest/config";

// Three projects, one file each: the Raft core's tests (vitest.core.config.ts), the key/value
// store's in the simulation (vitest.kv.config.ts) and its real processes' (vitest.kvreal.config.ts),
// which start when the simulated ones are done. The root vitest.config.ts lists the three files
// itself: vitest does not nest projects.
export default defineConfig({
  test: {
    projects: ["vitest.core.config.ts", "vitest.kv.config.ts", "vitest.kvreal.config.ts"],
  },
});
