// The summary above a timeline: leaders per term, elections, messages, commands, and from part 3
// on crashes, restarts and saves, from part 4 the clients' operations, from part 5 snapshots
// taken and installed and any follower that lost data; then the test's notes.

import type { Lane, Row } from "./model.ts";
import { isKind, type TraceEvent } from "./trace.ts";

export interface Summary {
  /** term → nodes that were leader in it; more than one is an Election Safety violation */
  leaders: [number, number[]][];
  elections: number;
  sent: number;
  delivered: number;
  /** drops and RPC errors before the shutdown */
  dropped: number;
  rpcErrors: number;
  /** drops and RPC errors of the messages still in flight when the test shut the nodes down */
  atShutdown: number;
  heartbeats: number;
  /** failed checks, violations the test did not expect, a failing end */
  failures: number;
  /** violations the test provoked on purpose (test.end says expectedViolation) */
  expectedViolations: number;
  /** part 5: the rows where a leader reports that a follower lost data it had acknowledged */
  dataLost: [row: number, text: string][];
  submitted: number;
  refused: number;
  /** the highest commitIndex any node reached */
  committed: number;
  duration: number;
  /** the test's own notes, with their rows: the story it tells */
  notes: [number, string][];
  /**
   * part 3: durable saves, crashes by the harness, halts (storage failed), restarts; part 5:
   * snapshots taken by a node of its own state, and leaders' snapshots installed by followers
   */
  storage: {
    saves: number;
    crashes: number;
    halts: number;
    restarts: number;
    snapshots: number;
    installs: number;
  };
  /** part 4: how many clients, their operations and how those ended, their attempts at nodes */
  clients: {
    clients: number;
    operations: number;
    ok: number;
    failed: number;
    maybe: number;
    attempts: number;
  };
}

export function summarize(rows: Row[], events: TraceEvent[], column: Map<number, number>): Summary {
  const tally = tallyRows(rows);
  const count = (kind: string) => tally.before.get(kind) ?? 0;
  const submits = events.filter(isKind("submit"));
  return {
    ...leadersAndElections(rows, column),
    sent: count("send"),
    delivered: count("deliver"),
    dropped: count("drop"),
    rpcErrors: count("rpc.error"),
    atShutdown: tally.atShutdown,
    heartbeats: tally.heartbeats,
    failures: tally.failures,
    expectedViolations: tally.expected,
    dataLost: tally.dataLost,
    submitted: submits.length,
    refused: submits.filter((e) => "refused" in e.details).length,
    committed: tally.committed,
    duration: rows.at(-1)?.t ?? 0,
    notes: tally.notes,
    storage: {
      saves: count("persist"),
      crashes: count("crash"),
      halts: count("halt"),
      restarts: count("restart"),
      snapshots: count("snapshot.take"),
      installs: count("snapshot.install"),
    },
    clients: clientSummary(events),
  };
}

/** One pass over the rows (a trace may have 100,000): what the summary counts in them. */
function tallyRows(rows: Row[]) {
  const tally = {
    /** rows of each kind before the shutdown */
    before: new Map<string, number>(),
    atShutdown: 0,
    heartbeats: 0,
    failures: 0,
    expected: 0,
    dataLost: [] as [number, string][],
    committed: 0,
    notes: [] as [number, string][],
  };
  rows.forEach((row, i) => {
    const { kind } = row;
    if (!row.afterShutdown) tally.before.set(kind, (tally.before.get(kind) ?? 0) + 1);
    else if (kind === "drop" || kind === "rpc.error") tally.atShutdown++;
    if (row.heartbeat && kind === "send") tally.heartbeats++;
    if (row.tone === "bad") tally.failures++;
    if (row.tone === "expected") tally.expected++;
    if (row.kind === "data.lost") tally.dataLost.push([i, `n${row.node}: ${row.text}`]);
    if (kind === "note") tally.notes.push([i, row.text]);
    for (const op of row.ops ?? []) {
      if (op[0] === "commit") tally.committed = Math.max(tally.committed, op[2]);
    }
  });
  return tally;
}

function clientSummary(events: TraceEvent[]): Summary["clients"] {
  const ends = events.filter(isKind("client.complete")).map((e) => e.details);
  return {
    clients: new Set(events.filter(isKind("client.invoke")).map((e) => e.details.client)).size,
    operations: events.filter(isKind("client.invoke")).length,
    ok: ends.filter((d) => d.result !== undefined).length,
    failed: ends.filter((d) => d.result === undefined && d.definite === true).length,
    maybe: ends.filter((d) => d.result === undefined && d.definite !== true).length,
    attempts: events.filter(isKind("client.send")).length,
  };
}

function leadersAndElections(rows: Row[], column: Map<number, number>) {
  const leaders = new Map<number, Set<number>>();
  let elections = 0;
  let before: Lane[] = rows[0]?.lanes ?? [];
  for (const row of rows) {
    const lane = row.node === null ? undefined : row.lanes[column.get(row.node)!];
    if (lane && row.node !== null) {
      const prev = before[column.get(row.node)!];
      if (lane.role === "candidate" && lane !== prev) {
        // a new election: becoming candidate, or starting over in a higher term
        if (prev?.role !== "candidate" || prev.term !== lane.term) elections++;
      }
      // Counted when a node becomes leader: a leader that sees a higher term may log the new
      // term a moment before it logs stepping down, and was never leader in that term.
      if (lane.role === "leader" && prev?.role !== "leader" && lane.term !== null) {
        const set = leaders.get(lane.term) ?? new Set();
        leaders.set(lane.term, set.add(row.node));
      }
    }
    before = row.lanes;
  }
  return {
    leaders: [...leaders]
      .sort((a, b) => a[0] - b[0])
      .map(([term, set]): [number, number[]] => [term, [...set]]),
    elections,
  };
}
