import { defineConfig } from "vitest/config";

// The real processes' tests (test/real): node processes on 127.0.0.1, on the wall clock, each wait
// bounded by the test itself. They run after every project of the first group (the simulated
// tests of every part) is done, so that the processes they start have the cores to themselves.
export default defineConfig({
  test: {
    name: "part4-kv (real processes)",
    include: ["test/real/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    pool: "forks",
    sequence: { groupOrder: 1 },
  },
});
