import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, USAGE } from "../src/main.ts";
import { corpusEntries, repoRoot } from "./corpus.ts";

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const dir = mkdtempSync(join(tmpdir(), "lincheck-cli-"));
const illegal = corpusEntries().find((e) => e.file === "jepsen/etcd_000.log")!;
const legal = corpusEntries().find((e) => e.file === "kv/c10-ok.txt")!;

describe("the lincheck command", () => {
  it("exits 0 for a linearizable history and says so", () => {
    const r = run(legal.path);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/LINEARIZABLE \(kv model, \d+ operations, 10 partitions\) in [\d.]+ ms/);
  });

  it("exits 1 for a violation and explains where it breaks", () => {
    const r = run(illegal.path);
    expect(r.code).toBe(1);
    expect(r.out).toContain("NOT LINEARIZABLE");
    expect(r.out).toMatch(/longest linearizable prefix has \d+ of 85 operations/);
    expect(r.out).toContain("the model rejects every operation that could go next");
    expect(r.out).toContain("<- returned first: the history breaks here");
  });

  it("reads the README's JSON example and finds its stale read", () => {
    const r = run(join(repoRoot, "tools/lincheck/examples/stale-read.jsonl"));
    expect(r.code).toBe(1);
    expect(r.out).toContain('#4 client c1 (line 6): get("x") -> "1"   <- returned first');
  });

  it("exits 2 when the budget runs out", () => {
    const r = run(illegal.path, "--budget", "0");
    expect(r.code).toBe(2);
    expect(r.out).toContain("UNKNOWN");
    expect(r.out).toContain("time budget");
  });

  it("exits 3 for bad input, naming file and line", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"model": "register"}\n{"client": 1, "call": "soon"}\n');
    const r = run(bad);
    expect(r.code).toBe(3);
    expect(r.err).toContain(`${bad}:2: "call" must be a number`);
  });

  it("exits 3 for bad arguments, with the usage", () => {
    for (const argv of [
      [],
      ["a", "b"],
      ["a", "--format", "csv"],
      ["a", "--budget", "soon"],
      ["--colour"],
    ]) {
      const r = run(...argv);
      expect(r.code).toBe(3);
      expect(r.err).toContain("usage: pnpm lincheck");
    }
  });

  it("prints help", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    expect(r.out).toBe(USAGE);
  });

  it("writes the HTML page, creating its folder", () => {
    const page = join(dir, "new", "page.html");
    expect(run(illegal.path, "--html", page).code).toBe(1);
    expect(readFileSync(page, "utf8")).toContain('class="op breaker');
  });

  it("runs as the root script, with the real exit code", () => {
    const tsx = join(repoRoot, "tools/lincheck/node_modules/.bin/tsx");
    const r = spawnSync(tsx, ["tools/lincheck/src/cli.ts", illegal.path], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("NOT LINEARIZABLE");
  });
});
