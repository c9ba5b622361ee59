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

  it("exits 2 when the state budget runs out, and says which limit it was", () => {
    const r = run(illegal.path, "--max-states", "5");
    expect(r.code).toBe(2);
    expect(r.out).toContain("UNKNOWN");
    expect(r.out).toContain(
      "the history: gave up after 5 states: the state budget (--max-states) ran out",
    );
  });
});

describe("the lincheck command and partitions", () => {
  it("stops at the first partition that is not linearizable, unless --all", () => {
    const h = join(dir, "two-bad-keys.jsonl");
    const put = (c: string, t: number, k: string, v: string) =>
      `{"client": "${c}", "call": ${t}, "return": ${t + 1}, "input": {"op": "put", "key": "${k}", "value": "${v}"}, "output": {}}`;
    const get = (c: string, t: number, k: string, v: string) =>
      `{"client": "${c}", "call": ${t}, "return": ${t + 1}, "input": {"op": "get", "key": "${k}"}, "output": {"value": "${v}"}}`;
    writeFileSync(
      h,
      [
        '{"model": "kv"}',
        put("a", 0, "x", "1"),
        get("b", 2, "x", "0"),
        put("a", 4, "y", "1"),
        put("a", 6, "y", "2"),
        get("b", 8, "y", "1"),
      ].join("\n"),
    );
    const first = run(h);
    expect(first.code).toBe(1);
    expect(first.out).toContain('key "x": the longest linearizable prefix');
    expect(first.out).not.toContain('key "y":');
    expect(first.out).toContain("1 other partition was not checked");
    const all = run(h, "--all");
    expect(all.code).toBe(1);
    expect(all.out).toContain('key "x": the longest linearizable prefix');
    expect(all.out).toContain('key "y": the longest linearizable prefix');
    expect(all.out).not.toContain("not checked");
  });
});

describe("the lincheck command, given something wrong", () => {
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
      ["a", "--max-states", "soon"],
      ["a", "--max-states", "0"],
      ["a", "--time-limit", "-1"],
      ["a", "--budget", "100"],
      ["--colour"],
    ]) {
      const r = run(...argv);
      expect(r.code).toBe(3);
      expect(r.err).toContain("usage: pnpm -s lincheck");
    }
  });

  it("says so when --format does not match the file, naming the line", () => {
    const r = run(join(repoRoot, "tools/lincheck/examples/stale-read.jsonl"), "--format", "jepsen");
    expect(r.code).toBe(3);
    expect(r.err).toContain(
      "stale-read.jsonl:1: --format jepsen does not match the file: this line looks like a lincheck JSON history, not a Jepsen log",
    );
  });
});

describe("the lincheck command's other duties", () => {
  it("prints help", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    expect(r.out).toBe(USAGE);
  });

  it("writes the HTML page, creating its folder", () => {
    const page = join(dir, "new", "page.html");
    expect(run(illegal.path, "--html", page).code).toBe(1);
    expect(readFileSync(page, "utf8")).toContain(
      '<button id="jump" data-partition="0" data-op="43">',
    );
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

/** `pnpm lincheck` as a user types it, in `cwd`, with none of the outer pnpm run's settings. */
function viaPnpm(cwd: string, ...argv: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(npm_|INIT_CWD$|PNPM_SCRIPT_SRC_DIR$)/i.test(k)),
  );
  return spawnSync("pnpm", argv, { cwd, encoding: "utf8", env });
}

describe("pnpm lincheck, as the README says to run it", () => {
  const tool = join(repoRoot, "tools/lincheck");

  it("works in the tool's folder and below it, with paths relative to where it is typed", () => {
    for (const [cwd, file] of [
      [tool, "examples/stale-read.jsonl"],
      [join(tool, "examples"), "stale-read.jsonl"],
      [repoRoot, "tools/lincheck/examples/stale-read.jsonl"],
    ] as const) {
      const r = viaPnpm(cwd, "-s", "lincheck", file);
      expect(r.stdout, cwd).toContain(`${file}: NOT LINEARIZABLE`);
      expect(r.status, cwd).toBe(1);
      // -s: no "ELIFECYCLE Command failed" from pnpm after a verdict.
      expect(r.stderr, cwd).toBe("");
    }
  });

  it("without -s, says that pnpm's failure line only reports the verdict", () => {
    const r = viaPnpm(tool, "lincheck", "examples/stale-read.jsonl");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("lincheck: exit code 1 reports the verdict");
  });
});
