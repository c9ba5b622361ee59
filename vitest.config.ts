import { defineConfig } from "vitest/config";

// The root run: every part and every tool, each with its own vitest.config.ts, and a part's
// real-process tests where it has them (vitest.real.config.ts: they run after the others).
// VITEST_JSON_REPORT=<file> also writes vitest's JSON report there (.ci/run counts results from it).
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    projects: ["part*-*", "part*-*/vitest.real.config.ts", "tools/*"],
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
  },
});
