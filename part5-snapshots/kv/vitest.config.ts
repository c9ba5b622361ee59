import { defineConfig } from "vitest/config";

// The store's simulated tests when vitest's root is this folder: its seed sweep (`pnpm kv:seeds`,
// scripts/seeds.ts) runs them from here. The project is the package's (../vitest.kv.config.ts);
// the real-process tests are left out, as a seed does not replay them.
export default defineConfig({
  test: {
    projects: ["../vitest.kv.config.ts"],
  },
});
