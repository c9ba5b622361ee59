import { defineConfig } from "vitest/config";

// Two projects, one file each: the simulation's tests (virtual time: no load can change their
// verdict) and the real processes' tests (the wall clock), which start when the simulation's are
// done, so that neither competes with the other for the cores. The root vitest.config.ts lists
// the two files itself: vitest does not nest projects.
export default defineConfig({
  test: {
    projects: ["vitest.sim.config.ts", "vitest.real.config.ts"],
  },
});
