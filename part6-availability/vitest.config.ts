import { defineConfig } from "vitest/config";

// The Raft core's tests (vitest.core.config.ts). The root vitest.config.ts lists that file itself:
// vitest does not nest projects.
export default defineConfig({
  test: {
    projects: ["vitest.core.config.ts"],
  },
});
