// What the build takes from the parts: each part's mutants (read from scripts/mutants.ts without
// running it, each edit applying exactly once), the rule that leaves out test files that need
// Node, and the stand-ins for node:path the harness's paths go through.
import { readdirSync, readFileSync } from "node:fs";
import nodePath from "node:path";
import { describe, expect, test } from "vitest";
import { mutantsOf, mutatedFile, REPO, raftPartOf, testFiles } from "../src/build/bundle.ts";
import { applyMutant } from "../src/build/mutants.ts";
import { PARTS } from "../src/parts.ts";
import * as shim from "../src/shims/path.ts";

describe("mutants", () => {
  test.each(PARTS.map((p) => p.name))(
    "%s: every mutant applies exactly once to the file it edits",
    (part) => {
      const mutants = mutantsOf(part);
      expect(mutants.length).toBeGreaterThan(10);
      expect(mutants.map((m) => m.name)).toContain("majority-counted-with->=");
      for (const m of mutants) {
        const file = mutatedFile(part, m);
        const source = readFileSync(file, "utf8");
        expect(applyMutant(source, m, file)).not.toBe(source);
      }
    },
  );

  test("part 5: part 3's mutants and eleven of snapshots, one of them in src/snapshot.ts", () => {
    const names = (part: string) => mutantsOf(part).map((m) => m.name);
    const own = names("part5-snapshots").filter((n) => !names("part3-persistence").includes(n));
    expect(own).toHaveLength(11);
    expect(names("part5-snapshots")).toEqual([...names("part3-persistence"), ...own]);
    const elsewhere = mutantsOf("part5-snapshots").filter((m) => m.file !== undefined);
    expect(elsewhere.map((m) => [m.name, m.file])).toEqual([
      ["chunks-appended-whatever-their-offset", "src/snapshot.ts"],
    ]);
    expect(mutatedFile("part5-snapshots", elsewhere[0]!)).toBe(
      nodePath.join(REPO, "part5-snapshots", "src", "snapshot.ts"),
    );
  });

  test("part 4 has no consensus code of its own: its mutants are part 3's", () => {
    expect(raftPartOf("part4-kv")).toBe("part3-persistence");
    expect(mutantsOf("part4-kv")).toEqual(mutantsOf("part3-persistence"));
  });

  test("an edit that does not occur exactly once is an error naming the mutant", () => {
    const m = { name: "twice", rule: "", find: "a", replace: "b" };
    expect(() => applyMutant("a a", m, "raft.ts")).toThrow(/mutant twice: .* more than once/);
    expect(() => applyMutant("c", m, "raft.ts")).toThrow(/occurs nowhere/);
  });
});

describe("test files that cannot run in a browser", () => {
  test("part 3: the disk tests and the trace-format check are left out, with why", async () => {
    const { included, excluded } = await testFiles("part3-persistence");
    expect(excluded).toEqual([
      { file: "part3-persistence/test/disk-recovery.test.ts", reason: "imports node:fs" },
      {
        file: "part3-persistence/test/disk-storage.test.ts",
        reason: expect.stringMatching(/^imports node:/),
      },
      { file: "part3-persistence/test/trace-format.test.ts", reason: "imports node:fs" },
    ]);
    expect(included).toContain("part3-persistence/test/crash-points.test.ts");
    expect(included).toContain("part3-persistence/test/golden.test.ts");
  });

  test("part 5: as part 3's, the disk tests and the trace-format check are left out, with why; the snapshot scenarios stay", async () => {
    const { included, excluded } = await testFiles("part5-snapshots");
    expect(excluded).toEqual([
      { file: "part5-snapshots/test/disk-recovery.test.ts", reason: "imports node:fs" },
      { file: "part5-snapshots/test/disk-snapshots.test.ts", reason: "imports node:fs" },
      {
        file: "part5-snapshots/test/disk-storage.test.ts",
        reason: expect.stringMatching(/^imports node:/),
      },
      { file: "part5-snapshots/test/trace-format.test.ts", reason: "imports node:fs" },
    ]);
    for (const name of [
      "snapshot-rules",
      "mit-3d",
      "snapshot-scenarios",
      "chaos-snapshots",
      "crash-points-snapshots",
      "snapshot-checks",
    ]) {
      expect(included).toContain(`part5-snapshots/test/${name}.test.ts`);
    }
  });

  test("part 4: the real-process tests and the check of the history page on disk are left out, the simulated ones stay", async () => {
    const { included, excluded } = await testFiles("part4-kv");
    const real = readdirSync(nodePath.join(REPO, "part4-kv", "test", "real"))
      .filter((name) => name.endsWith(".test.ts"))
      .map((name) => `part4-kv/test/real/${name}`);
    expect(real.length).toBeGreaterThan(4);
    expect(excluded.map((e) => e.file)).toEqual(
      ["part4-kv/test/history-check.test.ts", ...real].sort(),
    );
    expect(excluded[0]?.reason).toBe("imports node:fs");
    expect(included).toContain("part4-kv/test/basic.test.ts");
    expect(included).toContain("part4-kv/test/kv-chaos.test.ts");
    expect(included).toContain("part4-kv/test/mit-kv-restarts.test.ts");
  });
});

describe("node:path stand-in", () => {
  test("gives what node:path gives for the harness's paths", () => {
    const cases: [string, string[]][] = [
      ["resolve", ["/repo/part1-election/test", ".."]],
      ["resolve", ["/repo/part1-election", ".."]],
      ["resolve", ["/repo", "part1-election/test/a.test.ts"]],
      ["relative", ["/repo", "/repo/part1-election/test/a.test.ts"]],
      ["relative", ["/repo/part1-election", "/repo/part1-election/test/a.test.ts"]],
      ["relative", ["/repo/a/b", "/repo/c"]],
      ["basename", ["/repo/part1-election"]],
      ["basename", ["part1-election/test/a.test.ts", ".test.ts"]],
      ["dirname", ["/repo/part1-election/test/a.test.ts"]],
      ["join", ["/traces", "x.jsonl"]],
      ["join", ["/repo/part4-kv", "out", "failed"]],
      ["extname", ["a/b.test.ts"]],
    ];
    for (const [fn, args] of cases) {
      const ours = (shim as unknown as Record<string, (...a: string[]) => string>)[fn]!(...args);
      const node = (nodePath as unknown as Record<string, (...a: string[]) => string>)[fn]!(
        ...args,
      );
      expect(ours, `${fn}(${args.join(", ")})`).toBe(node);
    }
  });
});
