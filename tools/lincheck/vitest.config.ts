import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "lincheck",
    include: ["test/**/*.test.ts"],
    // The command-line tests start pnpm and tsx several times each: room on a busy 2-core machine
    // (three `pnpm lincheck` runs took 18 s with the load average at 20). Only a backstop: no
    // verdict here depends on the wall clock.
    testTimeout: 120_000,
  },
});
