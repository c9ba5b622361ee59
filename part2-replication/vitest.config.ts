import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part2-replication",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
