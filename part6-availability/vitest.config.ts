import { defineConfig } from "vitest/config";

// Every test here runs in virtual time, so none depends on how fast the machine is: a simulated
// test ends by its own budget of virtual time and timers (test/harness.ts), not by the wall clock.
// The wall-clock limits are only a backstop for a test that awaits something that never happens,
// and long enough that no load the machine is under reaches them.
// The test files share worker threads and their loaded modules (no fresh module state per file:
// nothing in src/ or test/ keeps state between tests), which saves a worker start and a transform
// of the same modules for every file. One worker per core: vitest's default leaves one core to its
// own process (a single worker on a 2-core machine), which has little to do while the tests run.
export default defineConfig({
  test: {
    name: "part6-availability",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    pool: "threads",
    isolate: false,
    maxWorkers: "100%",
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
