// Goal: show that each check part 5 adds can fail, so a run that passes with snapshots means the
// guarantees held: State Machine Safety on snapshots (two snapshots of one index that differ; one
// that is not the state its entries make; one whose last entry is not the committed one), a
// snapshot of state not applied or not committed, the log compacted backwards, the bound on the
// applied entries a log keeps, a snapshot sent before it is durable, and a follower losing
// entries it acknowledged. Method: hand-made traces, each breaking one rule the way a buggy node
// would, next to one that keeps them all; then a live cluster whose state machine hands over a
// wrong snapshot, stopped at that event with its seed.

import { describe, expect, test } from "vitest";
import type { AppliedEntry, NodeId, Role } from "../src/raft.ts";
import { ConformanceChecker } from "../src/sim/conformance.ts";
import { SafetyChecker, type SafetyOptions } from "../src/sim/safety.ts";
import { StateDigests } from "../src/sim/state-machine.ts";
import { digestOf } from "../src/snapshot.ts";
import type { SnapshotSummary, TraceEvent } from "../src/trace.ts";
import { event } from "./events.ts";
import { Cluster } from "./harness.ts";

/** The simulation's snapshot of `commands` applied at 1, 2, … in term 1 (state-machine.ts). */
function simulated(commands: string[]): SnapshotSummary {
  const entries: AppliedEntry[] = commands.map((command, i) => ({
    index: i + 1,
    term: 1,
    command,
  }));
  const text = JSON.stringify(entries);
  return {
    lastIncludedIndex: commands.length,
    lastIncludedTerm: 1,
    size: text.length,
    digest: digestOf(text),
  };
}

const follower = (
  t: number,
  node: NodeId,
  kind: TraceEvent["kind"],
  details: unknown,
  role: Role = "follower",
  term = 1,
) => event(t, node, term, role, kind as never, details as never);

/** n`node` appends and applies `commands` from [1], as a follower of term 1. */
function appliedAll(node: NodeId, commands: string[], t = 0): TraceEvent[] {
  const entries = commands.map((command) => ({ term: 1, command }));
  return [
    follower(t, node, "log.append", { index: 1, entries }),
    follower(t, node, "commit", { from: 0, to: commands.length, reason: "" }),
    ...commands.map((command, i) => follower(t, node, "apply", { index: i + 1, term: 1, command })),
  ];
}

/** n`node` takes `snapshot` (compacting its log first, as a node does). */
function took(node: NodeId, snapshot: SnapshotSummary, t = 1): TraceEvent[] {
  const { lastIncludedIndex: through, lastIncludedTerm: term } = snapshot;
  return [
    follower(t, node, "log.compact", { through, term, removed: through }),
    follower(t, node, "snapshot.take", { ...snapshot, reason: "" }),
  ];
}

function check(events: TraceEvent[], options: SafetyOptions = { simulatedStates: true }) {
  const checker = new SafetyChecker(options);
  for (const e of events) checker.observe(e);
  return checker.violations.map((v) => [v.invariant, v.message]);
}

describe("safety checks on snapshots", () => {
  test("accept a legal history: snapshots of applied state, equal at equal indices, installs and restores", () => {
    const abc = simulated(["a", "b", "c"]);
    const legal = [
      ...appliedAll(0, ["a", "b", "c"]),
      ...took(0, abc),
      ...appliedAll(1, ["a", "b", "c"]),
      ...took(1, abc),
      // n2 gets it by InstallSnapshot: compaction, install, restore.
      follower(5, 2, "log.compact", { through: 3, term: 1, removed: 0 }),
      follower(5, 2, "snapshot.install", { ...abc, from: 0, kept: 0 }),
      follower(5, 2, "snapshot.restore", { ...abc, reason: "" }),
      follower(6, 2, "log.append", { index: 4, entries: [{ term: 1, command: "d" }] }),
      follower(6, 2, "commit", { from: 3, to: 4, reason: "" }),
      follower(6, 2, "apply", { index: 4, term: 1, command: "d" }),
    ];
    expect(check(legal)).toEqual([]);
  });

  test("two snapshots of one index that differ", () => {
    const events = [
      ...appliedAll(0, ["a", "b"]),
      ...took(0, { ...simulated(["a", "b"]) }),
      follower(5, 1, "log.compact", { through: 2, term: 1, removed: 0 }),
      follower(5, 1, "snapshot.install", { ...simulated(["a", "b"]), digest: 7, from: 0, kept: 0 }),
    ];
    expect(check(events, {})).toEqual([
      [
        "State Machine Safety",
        `n1's snapshot through [2] has digest 7, n0's snapshot through [2] had ${simulated(["a", "b"]).digest}`,
      ],
    ]);
  });

  test("a snapshot that is not the state the entries through it make (the simulation's)", () => {
    const wrong = simulated(["a", "x"]);
    const events = [...appliedAll(0, ["a", "b", "c"]), ...took(0, wrong)];
    const expected = new StateDigests();
    expected.add({ index: 1, term: 1, command: "a" });
    expected.add({ index: 2, term: 1, command: "b" });
    expect(check(events)).toEqual([
      [
        "State Machine Safety",
        `n0's snapshot through [2] has digest ${wrong.digest}, but the entries applied through [2] make ${expected.at(2)}`,
      ],
    ]);
  });

  test("a snapshot whose last entry has another term than the entry committed there", () => {
    const events = [
      ...appliedAll(0, ["a", "b"]),
      follower(5, 1, "log.compact", { through: 2, term: 3, removed: 0 }),
      follower(5, 1, "snapshot.install", {
        ...simulated(["a", "b"]),
        lastIncludedTerm: 3,
        from: 0,
        kept: 0,
      }),
    ];
    expect(check(events)).toEqual([
      [
        "State Machine Safety",
        "n1's snapshot through [2] ends with [2] T3, but [2] T1 is committed",
      ],
    ]);
  });

  test("a snapshot of state not applied, or restored beyond commitIndex", () => {
    const taken = [...appliedAll(0, ["a"]), ...took(0, simulated(["a", "b"]))];
    expect(check(taken, {})).toEqual([
      [
        "Commit and apply order",
        "n0 took a snapshot through [2], but had applied only through [1]",
      ],
    ]);
    const restored = [
      follower(0, 1, "log.compact", { through: 2, term: 1, removed: 0 }),
      follower(0, 1, "snapshot.restore", { ...simulated(["a", "b"]), reason: "" }),
    ];
    expect(check(restored, {})).toEqual([
      ["Commit and apply order", "n1 restored a snapshot through [2], but commitIndex is 0"],
    ]);
  });

  test("after a restore, applying anything but the entry after the snapshot", () => {
    const ab = simulated(["a", "b"]);
    const events = [
      follower(0, 1, "log.compact", { through: 2, term: 1, removed: 0 }),
      follower(0, 1, "snapshot.install", { ...ab, from: 0, kept: 0 }),
      follower(0, 1, "snapshot.restore", { ...ab, reason: "" }),
      follower(1, 1, "log.append", {
        index: 3,
        entries: [
          { term: 1, command: "c" },
          { term: 1, command: "d" },
        ],
      }),
      follower(1, 1, "commit", { from: 2, to: 4, reason: "" }),
      follower(1, 1, "apply", { index: 4, term: 1, command: "d" }),
    ];
    expect(check(events, {})).toEqual([
      [
        "Commit and apply order",
        "n1 applied [4] T1 after [2], with commitIndex 4 and T1 there in its log",
      ],
    ]);
  });

  test("a log compacted backwards", () => {
    const events = [
      ...appliedAll(0, ["a", "b", "c"]),
      ...took(0, simulated(["a", "b", "c"])),
      follower(2, 0, "log.compact", { through: 2, term: 1, removed: 0 }),
    ];
    expect(check(events)).toEqual([
      ["Log compaction", "n0 compacted its log through [2], but its snapshot already ended at [3]"],
    ]);
  });

  test("more applied entries kept in the log than the policy allows (MIT's MAXLOGSIZE)", () => {
    const events = appliedAll(0, ["a", "b", "c"]);
    expect(check(events, { maxAppliedInLog: 3 })).toEqual([]);
    expect(check(events, { maxAppliedInLog: 2 })).toEqual([
      [
        "Log compaction",
        "n0 keeps 3 applied entries in its log after its snapshot through [0], more than 2",
      ],
    ]);
  });
});

describe("conformance checks on snapshots", () => {
  const common = { heartbeat: false, bytes: 10 };
  function conformance(events: TraceEvent[]) {
    const logs = new SafetyChecker();
    const checker = new ConformanceChecker(logs, 3);
    for (const e of events) {
      logs.observe(e);
      checker.observe(e);
    }
    return checker.violations.map((v) => [v.invariant, v.message]);
  }

  test("a snapshot sent before it is durable", () => {
    const durable = (snapshotIndex?: number) =>
      follower(
        0,
        0,
        "persist",
        {
          currentTerm: 1,
          votedFor: null,
          hardState: true,
          lastLogIndex: 3,
          ...(snapshotIndex === undefined ? {} : { snapshotIndex }),
        },
        "leader",
      );
    const chunk = follower(
      2,
      0,
      "send",
      {
        ...common,
        msg: 1,
        to: 1,
        rpc: "InstallSnapshot",
        type: "request",
        payload: {
          term: 1,
          leaderId: 0,
          lastIncludedIndex: 3,
          lastIncludedTerm: 1,
          offset: 0,
          data: "[]",
          done: true,
        },
      },
      "leader",
    );
    const base = [
      durable(),
      follower(
        0,
        0,
        "log.append",
        { index: 1, entries: [1, 2, 3].map((i) => ({ term: 1, command: i })) },
        "leader",
      ),
      follower(1, 0, "log.compact", { through: 3, term: 1, removed: 3 }, "leader"),
    ];
    expect(conformance([...base, durable(3), chunk])).toEqual([]);
    expect(conformance([...base, chunk])).toEqual([
      [
        "Durable before sent",
        "n0 sent #1 in term 1 with vote null, log to [3] and snapshot through [3], but had made durable term 1, vote null, log to [3], snapshot through [0]",
      ],
    ]);
  });

  test("a follower that loses entries it acknowledged in the term: by a truncation, or a restart", () => {
    const ask = follower(
      0,
      0,
      "send",
      {
        ...common,
        msg: 1,
        to: 1,
        rpc: "AppendEntries",
        type: "request",
        payload: {
          term: 2,
          leaderId: 0,
          prevLogIndex: 0,
          prevLogTerm: 0,
          entries: [
            { term: 2, command: "a" },
            { term: 2, command: "b" },
          ],
          leaderCommit: 0,
        },
      },
      "leader",
      2,
    );
    const stored = follower(
      1,
      1,
      "log.append",
      {
        index: 1,
        entries: [
          { term: 2, command: "a" },
          { term: 2, command: "b" },
        ],
      },
      "follower",
      2,
    );
    const saved = follower(
      1,
      1,
      "persist",
      { currentTerm: 2, votedFor: null, hardState: true, logFrom: 1, entries: 2, lastLogIndex: 2 },
      "follower",
      2,
    );
    const yes = follower(
      1,
      1,
      "send",
      {
        ...common,
        msg: 2,
        to: 0,
        rpc: "AppendEntries",
        type: "reply",
        request: 1,
        payload: { term: 2, success: true },
      },
      "follower",
      2,
    );
    const leaderSaved = follower(
      0,
      0,
      "persist",
      { currentTerm: 2, votedFor: null, hardState: true, lastLogIndex: 0 },
      "leader",
      2,
    );
    const acknowledged = [leaderSaved, ask, stored, saved, yes];
    const cut = follower(3, 1, "log.truncate", { from: 2, removed: 1 }, "follower", 2);
    expect(conformance([...acknowledged, cut])).toEqual([
      [
        "Acknowledged entries kept",
        "n1 lost its entries from [2] on, having acknowledged [2] to the leader of term 2",
      ],
    ]);
    const wiped = event(
      4,
      1,
      2,
      "follower",
      "restart" as never,
      {
        node: 1,
        network: { groups: [[0, 1, 2]], cutOff: [], dead: [] },
        currentTerm: 2,
        votedFor: null,
        log: [],
      } as never,
    );
    expect(
      conformance([...acknowledged, { ...wiped, node: null, term: null, role: null }]),
    ).toEqual([
      [
        "Acknowledged entries kept",
        "n1 lost its entries from [1] on, having acknowledged [2] to the leader of term 2",
      ],
    ]);
    // In a later term a conflicting leader's entries may replace them: no violation.
    const later = follower(5, 1, "log.truncate", { from: 2, removed: 1 }, "follower", 3);
    expect(
      conformance([
        ...acknowledged,
        follower(4, 1, "term", { from: 2, to: 3, reason: "" }, "follower", 3),
        later,
      ]),
    ).toEqual([]);
  });
});

describe("a live cluster", () => {
  test("a state machine that hands over a wrong snapshot stops the run at that event, with the seed", async () => {
    const cluster = Cluster.start(3, {
      seed: 42,
      raft: { snapshotAfterEntries: 5 },
      onNode: (id, node, c) => {
        // n2's state machine forgets the first entry it applied.
        if (id === 2) node.snapshotSource(() => c.applied.get(id)!.slice(1));
      },
    });
    cluster.expectViolation();
    await expect(
      (async () => {
        for (let i = 1; i <= 5; i++) await cluster.one(`c${i}`, 3, true);
      })(),
    ).rejects.toThrow(
      /State Machine Safety violated at t=\d+ ms on n2: n2's snapshot through \[5\] has digest \d+, [\s\S]*seed 42/,
    );
  });
});
