// The simulated tests, every file in parallel. None of them waits on the wall clock: a test ends
// by virtual time, and a runaway one is stopped by the harness's budget in virtual time, never by
// a wall-clock limit that a busy machine could break; so no timeout here. The real-process tests
// (test/real/) are a project of their own, vitest.real.config.ts, which runs after these.

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part4-kv",
    include: ["test/**/*.test.ts"],
    exclude: ["test/real/**", "**/node_modules/**"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 0,
    hookTimeout: 0,
  },
});
