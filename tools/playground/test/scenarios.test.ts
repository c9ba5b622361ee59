// Every test of every part that the playground bundles runs there and passes, as it does under
// vitest: the catalog lists each by its file and full name, a session loads it by that name and
// runs it in the part's Node bundle (the same code and shims as the browser's). A test that
// provokes a violation on purpose holds at it, as the page does, and then goes on to its end.
import { describe, expect, test } from "vitest";
import { nodeEngine } from "../src/node/bundled.ts";

describe("every scenario of every part, loaded by name", () => {
  test.each(["part1-election", "part2-replication", "part3-persistence", "part4-kv"])(
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
