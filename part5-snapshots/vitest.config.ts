import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part5-snapshots",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
