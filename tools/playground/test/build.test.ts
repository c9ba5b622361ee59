// What the build takes from the parts: each part's mutants (read from scripts/mutants.ts without
// running it, each edit applying exactly once), the rule that leaves out test files that need
// Node, and the stand-ins for node:path the harness's paths go through.
import { readFileSync } from "node:fs";
import nodePath from "node:path";
import { describe, expect, test } from "vitest";
import { mutantsOf, REPO, raftPartOf, testFiles } from "../src/build/bundle.ts";
import { applyMutant } from "../src/build/mutants.ts";
import * as shim from "../src/shims/path.ts";

describe("mutants", () => {
  test.each(["part1-election", "part2-replication", "part3-persistence", "part4-kv"])(
    "%s: every mutant of its src/raft.ts applies exactly once",
    (part) => {
      const mutants = mutantsOf(part);
      expect(mutants.length).toBeGreaterThan(10);
      expect(mutants.map((m) => m.name)).toContain("majority-counted-with->=");
      const file = nodePath.join(REPO, raftPartOf(part), "src", "raft.ts");
      const source = readFileSync(file, "utf8");
      for (const m of mutants) expect(applyMutant(source, m, file)).not.toBe(source);
    },
  );

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
  test("part 3: the disk-storage tests and the trace-format check are left out, with why", async () => {
    const { included, excluded } = await testFiles("part3-persistence");
    expect(excluded).toEqual([
      {
        file: "part3-persistence/test/disk-storage.test.ts",
        reason: expect.stringMatching(/^imports node:/),
      },
      { file: "part3-persistence/test/trace-format.test.ts", reason: "imports node:fs" },
    ]);
    expect(included).toContain("part3-persistence/test/crash-points.test.ts");
    expect(included).toContain("part3-persistence/test/golden.test.ts");
  });

  test("part 4: the real-process tests are left out, the simulated ones stay", async () => {
    const { included, excluded } = await testFiles("part4-kv");
    expect(excluded.map((e) => e.file).every((f) => f.startsWith("part4-kv/test/real/"))).toBe(
      true,
    );
    expect(excluded.length).toBe(5);
    expect(included).toContain("part4-kv/test/basic.test.ts");
    expect(included).toContain("part4-kv/test/kv-chaos.test.ts");
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
