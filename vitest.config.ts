import { readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

// The root run: every part and every tool, each with its own vitest.config.ts. vitest does not
// nest projects, so a package whose tests run as several projects (part4-kv: the simulation's and
// the real processes') names each in a vitest.<project>.config.ts, and those are listed instead.
// VITEST_JSON_REPORT=<file> also writes vitest's JSON report there (.ci/run counts results from it).
const jsonReport = process.env.VITEST_JSON_REPORT;

function projectsOf(dir: string): string[] {
  const own = readdirSync(dir).filter((file) => /^vitest\.[a-z]+\.config\.ts$/.test(file));
  return own.length > 0 ? own.map((file) => `${dir}/${file}`) : [dir];
}

const packages = readdirSync(".").filter((dir) => /^part\d+-/.test(dir));
const tools = readdirSync("tools").map((dir) => `tools/${dir}`);

export default defineConfig({
  test: {
    projects: [...packages, ...tools].flatMap(projectsOf),
    // One worker per core, as the parts ask for their own runs: projects that run side by side
    // (the same sequence.groupOrder) must agree on it.
    maxWorkers: "100%",
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
  },
});
