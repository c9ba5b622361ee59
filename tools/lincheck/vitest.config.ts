import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "lincheck",
    include: ["test/**/*.test.ts"],
    // Only a backstop, at 10 minutes as for the parts: no verdict here depends on the wall clock
    // (the command-line tests start pnpm and tsx several times each: three `pnpm lincheck` runs
    // took 18 s with the load average at 20).
    testTimeout: 600_000,
  },
});
