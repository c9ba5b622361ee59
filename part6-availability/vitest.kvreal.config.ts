// The key/value store's real-process tests (kv/test/real/): clusters of node processes on this
// machine. They run after every simulated project of the run (`groupOrder`), so that the
// simulation's files do not compete with them for the cores, and their files run together, since
// a real test mostly waits (on elections, on the faults it inflicts). Their bounds are wall-clock
// ones, sized for a busy two-core machine and scaled by RAFT_REAL_PATIENCE (kv/test/real/local.ts):
// a test that hangs fails with "Test timed out" and where its nodes' logs and traces are kept.

import { defineConfig } from "vitest/config";
import { PATIENCE } from "./kv/test/real/local.ts";

export default defineConfig({
  test: {
    name: "part6-availability kv real",
    include: ["kv/test/real/**/*.test.ts"],
    globalSetup: ["kv/test/real/global-setup.ts"],
    setupFiles: ["kv/test/real/setup.ts"],
    sequence: { groupOrder: 1 },
    // A few workers, each loading the modules once for the files it runs (the files share no
    // state but their clusters, each of which its own test stops).
    maxWorkers: 4,
    isolate: false,
    testTimeout: 60_000 * PATIENCE,
    hookTimeout: 30_000 * PATIENCE,
    // The workers, and every process the tests start (nodes, `pnpm kv`), without
    // NODE_EXTRA_CA_CERTS: Node 20 reads and parses that file as each process starts (0.1 s of CPU
    // for a system's bundle, several times that on a busy machine), and they speak plain HTTP.
    env: { NODE_EXTRA_CA_CERTS: "" },
    // Each module's transform is kept on disk (node_modules/.experimental-vitest-cache, keyed by
    // the file's content and the config), so a run transforms only what changed since the last.
    experimental: { fsModuleCache: true },
  },
});
