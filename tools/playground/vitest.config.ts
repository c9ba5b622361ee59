import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "playground",
    include: ["test/**/*.test.ts"],
    // The browser and Node-run tests bundle parts and launch chromium: room on a busy 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
