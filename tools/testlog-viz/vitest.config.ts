import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "testlog-viz",
    include: ["test/**/*.test.ts"],
    // Only a backstop, at 10 minutes as for the parts: no verdict here depends on the wall clock
    // (rendering is deterministic; the browser tests wait on the page with bounds of their own).
    testTimeout: 600_000,
  },
});
