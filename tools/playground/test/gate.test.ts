// The gate the parts' clock meets in place of setImmediate and clearImmediate: a callback runs
// with its arguments in a task of its own, gates open in the order they were queued, a cleared one
// never opens; and in a session a gate's number counts the callbacks that ran (one for each timer
// a run fires, one where it ends), never those a run cleared, so a link's gates mean the same
// whatever the clock's batches.
import { describe, expect, test } from "vitest";
import { Gate, gatedClearImmediate, gatedSetImmediate } from "../src/engine/gate.ts";
import type { SimClusterLike } from "../src/engine/types.ts";
import { nodeEngine } from "../src/node/bundled.ts";

/** One turn of Node's own event loop (the gate is not the global here). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("the gate, without a session", () => {
  test("runs each callback with its arguments, after the code that queued it, in order; a cleared one never", async () => {
    const calls: unknown[] = [];
    const first = gatedSetImmediate((a: number, b: string) => calls.push([a, b]), 1, "b");
    const cleared = gatedSetImmediate(() => calls.push("cleared"));
    gatedSetImmediate((c: string) => calls.push(c), "c");
    gatedClearImmediate(cleared);
    gatedClearImmediate(undefined); // as Node's: anything else is left alone
    expect(first).toBeInstanceOf(Gate);
    expect(calls).toEqual([]);
    for (let i = 0; i < 3; i++) await turn();
    expect(calls).toEqual([[1, "b"], "c"]);
  });
});

describe("gates in a session", () => {
  test.each([7, 40, 333, 1500])(
    "gate %i is the callback that many: every timer fired and every run ended before it, none cleared",
    async (at) => {
      const engine = await nodeEngine("part1-election");
      const runtime = await engine.runtime;
      const { part } = runtime;
      const createCluster = part.createCluster;
      // The free session runs its cluster 100 ms at a time: count the runs that ended.
      let runsEnded = 0;
      let cluster: (SimClusterLike & { clock: { stepsTaken(): number } }) | undefined;
      part.createCluster = (n, seed) => {
        const created = createCluster(n, seed) as NonNullable<typeof cluster>;
        const runUntil = created.runUntil.bind(created);
        created.runUntil = (deadline, done) =>
          runUntil(deadline, done).then((stopped) => {
            runsEnded++;
            return stopped;
          });
        cluster = created;
        return created;
      };
      try {
        const session = new engine.Session(
          runtime,
          engine.fromFragment(`part=part1-election&n=3&seed=2&at=${at}`),
        );
        session.start();
        await session.settledNow();
        session.close();
        expect(session.phase).toBe("paused");
        expect(session.gateNow()).toBe(at);
        // The clock queues its callbacks in batches of up to 64 and clears what a run leaves:
        // each 100 ms run fires a few timers, so most runs cleared some.
        expect(runsEnded).toBeGreaterThan(0);
        expect(cluster!.clock.stepsTaken() + runsEnded).toBe(at - 1);
      } finally {
        part.createCluster = createCluster;
      }
    },
  );

  test("the reader acting at any moment, at full speed, makes a link that replays to the same trace", async () => {
    const engine = await nodeEngine("part3-persistence");
    const runtime = await engine.runtime;
    const session = new engine.Session(
      runtime,
      engine.fromFragment("part=part3-persistence&n=3&seed=5"),
    );
    session.start();
    const actions: Parameters<typeof session.act>[0][] = [
      { kind: "crash", node: 1 },
      { kind: "submit", node: -1, command: "x=1" },
      { kind: "restart", node: 1 },
      { kind: "partition", groups: [[0], [1, 2]] },
      { kind: "heal" },
      { kind: "submit", node: -1, command: "x=2" },
    ];
    // Each action in a task of its own, as a click is, wherever the simulation is: mostly between
    // two gates, where the next gate takes its turn at once.
    for (const action of actions) {
      for (let i = 0; i < 25; i++) await turn();
      session.act(action);
    }
    for (let i = 0; i < 25; i++) await turn();
    session.pause();
    await session.settledNow();
    const link = session.link();
    const live = engine.jsonLines(session.events);
    session.close();
    expect(link.actions.map((a) => a.action)).toEqual(actions);
    expect(new Set(link.actions.map((a) => a.gate)).size).toBe(actions.length);
    const replay = new engine.Session(runtime, link);
    replay.start();
    await replay.settledNow();
    replay.close();
    expect(replay.phase).toBe("paused");
    expect(replay.gateNow()).toBe(link.at);
    expect(engine.jsonLines(replay.events)).toBe(live);
  });
});
