import { defineConfig } from "vitest/config";

// The key/value store's tests in the simulation (kv/test/; the real processes' are in
// vitest.kvreal.config.ts, the Raft core's in vitest.core.config.ts). Every test here runs in
// virtual time, so none depends on how fast the machine is: a simulated test ends by its own
// budget of virtual time and timers (the core's test/harness.ts), not by the wall clock. The
// wall-clock limits are only a backstop for a test that awaits something that never happens, and
// long enough that no load the machine is under reaches them. The test files share worker threads
// and their loaded modules (no fresh module state per file: nothing in src/ or test/ keeps state
// between tests), which saves a worker start and a transform of the same modules for every file.
// One worker per core: vitest's default leaves one core to its own process (so a single worker on
// a 2-core machine), which has little to do while the tests run.
export default defineConfig({
  test: {
    name: "part6-availability kv",
    include: ["kv/test/**/*.test.ts"],
    exclude: ["kv/test/real/**"],
    setupFiles: ["kv/test/setup.ts"],
    pool: "threads",
    isolate: false,
    maxWorkers: "100%",
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Each module's transform is kept on disk (node_modules/.experimental-vitest-cache, keyed by
    // the file's content and the config), so a run transforms only what changed since the last.
    experimental: { fsModuleCache: true },
  },
});
