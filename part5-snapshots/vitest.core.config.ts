import { defineConfig } from "vitest/config";

// The Raft core's tests (test/): the key/value store's are in vitest.kv.config.ts (simulated) and
// vitest.kvreal.config.ts (real processes). The root vitest.config.ts lists the three files itself:
// vitest does not nest projects.
export default defineConfig({
  test: {
    name: "part5-snapshots",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
