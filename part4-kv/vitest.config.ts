import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part4-kv",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
