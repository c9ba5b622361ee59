import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "part6-availability",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
  },
});
