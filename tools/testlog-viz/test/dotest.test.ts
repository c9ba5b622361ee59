// dotest.sh's own checks. Running a part's tests through it is left to .ci/run and the README's
// demo (here it would run vitest inside vitest); the one run here matches no test, into a
// folder of the test's own (DOTEST_OUT), never the reader's .traces.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const script = new URL("../../../dotest.sh", import.meta.url).pathname;
// from another folder on purpose: the script must find the repository by itself
const dotest = (...args: string[]) =>
  spawnSync("bash", [script, ...args], { encoding: "utf8", cwd: tmpdir() });
const dotestInto = (out: string, ...args: string[]) =>
  spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    cwd: tmpdir(),
    env: { ...process.env, DOTEST_OUT: out },
  });

describe("dotest.sh", () => {
  test("--help explains the arguments and lists the part folders", () => {
    const { status, stdout } = dotest("--help");
    expect(status).toBe(0);
    expect(stdout).toContain("Usage: ./dotest.sh <part-folder> [test-name-pattern] [seed]");
    expect(stdout).toMatch(/Part folders: .*part1-election/);
  });

  test("rejects an unknown part folder, listing the real ones", () => {
    for (const part of ["part9-nothing", "tools/testlog-viz", "../main"]) {
      const { status, stderr } = dotest(part);
      expect(status, part).toBe(2);
      expect(stderr).toContain(`unknown part folder '${part}'`);
      expect(stderr).toContain("  part1-election");
    }
  });

  test("rejects a seed that is not a number, and no arguments at all", () => {
    const seed = dotest("part1-election", "basic", "12abc");
    expect(seed.status).toBe(2);
    expect(seed.stderr).toContain("the seed must be a non-negative integer, not '12abc'");
    const none = dotest();
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("Usage:");
  });

  test("a pattern that matches no test keeps the previous run's timelines", () => {
    const out = join(mkdtempSync(join(tmpdir(), "dotest-")), "part1-election");
    mkdirSync(out);
    writeFileSync(join(out, "index.html"), "the previous run's index");
    const { status, stderr } = dotestInto(out, "part1-election", "no test is called this");
    expect(status).toBe(1);
    expect(stderr).toContain(
      "no test ran (did 'no test is called this' match a test in part1-election?)",
    );
    expect(stderr).toContain("the previous run's timelines are still in");
    expect(readdirSync(out)).toEqual(["index.html"]);
    // and no half-made folder is left beside it
    expect(readdirSync(join(out, ".."))).toEqual(["part1-election"]);
  }, 120_000);
});
