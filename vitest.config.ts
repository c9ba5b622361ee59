import { defineConfig } from "vitest/config";

// The root run: every part and every tool, each with its own vitest.config.ts.
// VITEST_JSON_REPORT=<file> also writes vitest's JSON report there (.ci/run counts results from it).
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    projects: ["part*-*", "tools/*"],
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
  },
});
