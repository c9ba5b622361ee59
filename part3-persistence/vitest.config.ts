import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part3-persistence",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
