import { describe, expect, test } from "vitest";
import { applyOp, type Entry, initialState, type Op, StateReplay } from "../src/state.ts";

/** Row i appends entry i+1 in term (i % 3) + 1 on node i % 2, and node 0 commits every 7th. */
const opsOf = (i: number): Op[] => [
  ["append", i % 2, Math.floor(i / 2) + 1, [[(i % 3) + 1, `"c${i}"`]]],
  ...(i % 7 === 0 ? [["commit", 0, Math.floor(i / 2)] as Op] : []),
];

function direct(row: number) {
  const state = initialState([0, 1]);
  for (let i = 0; i <= row; i++) for (const op of opsOf(i)) applyOp(state, op);
  return state;
}

describe("StateReplay", () => {
  test("the state after any row equals replaying every row from the start, in any order of asking", () => {
    const replay = new StateReplay([0, 1], opsOf);
    for (const row of [1200, 3, 499, 500, 501, 999, 1000, 1799, 0]) {
      expect(replay.after(row), `row ${row}`).toEqual(direct(row));
    }
  });

  test("a state handed out is a copy: changing it changes nothing later", () => {
    const replay = new StateReplay([0, 1], opsOf);
    const first = replay.after(600);
    first.get(0)!.log.length = 0;
    first.get(0)!.commitIndex = 99;
    expect(replay.after(600)).toEqual(direct(600));
  });

  test("truncate cuts the log; a node the trace never declared gets a record of its own", () => {
    const state = initialState([0]);
    applyOp(state, [
      "append",
      0,
      1,
      [
        [1, "a"],
        [1, "b"],
        [2, "c"],
      ],
    ]);
    applyOp(state, ["truncate", 0, 2]);
    expect(state.get(0)!.log).toEqual([[1, "a"]]);
    applyOp(state, ["vote", 7, 0]);
    expect(state.get(7)!.votedFor).toBe(0);
  });
});

describe("storage (part 3)", () => {
  test("appended entries are unsaved until a persist; a truncation unsaves from where it cut", () => {
    const state = initialState([0], true);
    const n0 = state.get(0)!;
    applyOp(state, ["append", 0, 1, [[1, "a"]]]);
    expect([n0.saved, n0.disk]).toEqual([0, { term: 0, votedFor: null, lastLogIndex: 0 }]);
    applyOp(state, ["persist", 0, 1, 0, 1]);
    expect([n0.saved, n0.disk]).toEqual([1, { term: 1, votedFor: 0, lastLogIndex: 1 }]);
    applyOp(state, ["append", 0, 2, [[1, "b"]]]);
    applyOp(state, ["persist", 0, 1, 0, 2]);
    applyOp(state, ["truncate", 0, 2]);
    applyOp(state, ["append", 0, 2, [[2, "c"]]]);
    // memory holds [a, c], storage still [a, b]: only [1] is saved as it is
    expect([n0.saved, n0.disk!.lastLogIndex]).toEqual([1, 2]);
  });

  test("a restart brings back what storage holds, with commitIndex and lastApplied at 0", () => {
    const state = initialState([0], true);
    const entries = (...commands: string[]): Entry[] => commands.map((c) => [1, c]);
    applyOp(state, ["append", 0, 1, entries("a", "b", "c")]);
    applyOp(state, ["commit", 0, 2]);
    applyOp(state, ["apply", 0, 2]);
    applyOp(state, ["progress", 0, 1, 4, 3]);
    applyOp(state, ["restart", 0, 3, 1, entries("a", "b")]);
    expect(state.get(0)).toEqual({
      votedFor: 1,
      log: entries("a", "b"),
      commitIndex: 0,
      lastApplied: 0,
      progress: new Map(),
      disk: { term: 3, votedFor: 1, lastLogIndex: 2 },
      saved: 2,
    });
  });

  test("a trace without storage tracks none: nothing is ever unsaved", () => {
    const state = initialState([0]);
    applyOp(state, ["append", 0, 1, [[1, "a"]]]);
    expect(state.get(0)!.disk).toBeNull();
  });
});
