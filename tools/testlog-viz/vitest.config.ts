import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "testlog-viz",
    include: ["test/**/*.test.ts"],
    // The browser test launches chromium; give it room on a busy 2-core machine.
    testTimeout: 30_000,
  },
});
