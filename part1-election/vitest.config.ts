import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part1-election",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
