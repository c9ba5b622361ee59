// Every test of every part that the playground bundles runs there and passes, as it does under
// vitest: the catalog lists each by its file and full name, a session loads it by that name and
// runs it in the part's Node bundle (the same code and shims as the browser's). A test that
// provokes a violation on purpose holds at it, as the page does, and then goes on to its end.
import { describe, expect, test } from "vitest";
import { nodeEngine } from "../src/node/bundled.ts";
import { PARTS } from "../src/parts.ts";

describe("every scenario of every part, loaded by name", () => {
  test.each(PARTS.map((p) => p.name))(
    "%s: each of its tests runs in the playground and passes",
    async (part) => {
      const engine = await nodeEngine(part);
      const runtime = await engine.runtime;
      const files = runtime.catalog?.files ?? [];
      const failed: string[] = [];
      let ran = 0;
      for (const { file, tests } of files) {
        for (const t of tests) {
          const link = `part=${part}&file=${encodeURIComponent(file)}&test=${encodeURIComponent(t.name)}`;
          const session = new engine.Session(runtime, engine.fromFragment(link));
          session.start();
          await session.settledNow();
          while (session.phase === "violation") {
            session.resume();
            await session.settledNow();
          }
          session.close();
          ran++;
          if (session.phase !== "ended" || session.test?.state !== "pass") {
            failed.push(`${file} > ${t.name}: ${session.phase}, ${JSON.stringify(session.test)}`);
          }
        }
      }
      expect(failed).toEqual([]);
      expect(files.length).toBeGreaterThan(5);
      expect(ran).toBeGreaterThan(50);
    },
  );
});

describe("a scenario fails in the playground as it fails under vitest", () => {
  test("with a tie counted as a majority, the 4-node split elects a leader, and the test says so", async () => {
    const engine = await nodeEngine("part1-election");
    const name = "even-sized clusters > 4 nodes split in halves elect no one until the split heals";
    const link = `part=part1-election&mutant=${encodeURIComponent("majority-counted-with->=")}&file=${encodeURIComponent("part1-election/test/even.test.ts")}&test=${encodeURIComponent(name)}`;
    const session = new engine.Session(await engine.runtime, engine.fromFragment(link));
    session.start();
    await session.settledNow();
    session.close();
    expect(session.test?.state).toBe("fail");
    // vitest's own assertion message, from its expect (@vitest/expect)
    expect(session.test?.errors[0]).toMatch(/^expected \[ \+0 \] to deeply equal \[\]/);
  });
});

describe("a mutant of another file than src/raft.ts", () => {
  test("part 5, chunks appended whatever their offset (src/snapshot.ts): Figure 13's rule 3 test fails, and passes without it", async () => {
    const engine = await nodeEngine("part5-snapshots");
    const runtime = await engine.runtime;
    const mutant = runtime.mutants.find((m) => m.name === "chunks-appended-whatever-their-offset");
    expect(mutant?.file).toBe("src/snapshot.ts");
    const name =
      "Figure 13: InstallSnapshot receiver > rules 2-4: chunks written at their offsets, taken, and the last installs; duplicates and late copies change nothing";
    const scenario = `part=part5-snapshots&file=${encodeURIComponent("part5-snapshots/test/snapshot-rules.test.ts")}&test=${encodeURIComponent(name)}`;
    const outcome = async (link: string) => {
      const session = new engine.Session(runtime, engine.fromFragment(link));
      session.start();
      await session.settledNow();
      session.close();
      return session.test;
    };
    const broken = await outcome(`${scenario}&mutant=chunks-appended-whatever-their-offset`);
    expect(broken?.state).toBe("fail");
    // the follower's snapshot text, its chunks appended out of place, is no longer JSON
    expect(broken?.errors[0]).toMatch(/JSON/);
    expect(await outcome(scenario)).toEqual({ state: "pass", errors: [] });
  });
});
