// Goal: docs/trace-format.md and src/trace.ts say the same thing. Method: read the kinds and the
// field names out of the document's tables; every kind this part's trace.ts defines must be there,
// and every field that any event of a long run carries (the chaos scenario with snapshots, a node
// catching up by one, each harness action, and a leader whose follower lost data) must be named in
// its kind's row.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { chaosNetwork, runChaos } from "../src/sim/chaos.ts";
import { type Kind, sentences, type TraceEvent } from "../src/trace.ts";
import { Cluster } from "./harness.ts";
import { leader } from "./node-under-test.ts";

const doc = readFileSync(path.resolve(import.meta.dirname, "../../docs/trace-format.md"), "utf8");

/** Each kind in the first column of a table row, with the backticked names in the rest of it. */
function documented(): Map<string, Set<string>> {
  const kinds = new Map<string, Set<string>>();
  for (const line of doc.split("\n")) {
    const cells = line.split("|").slice(1, -1);
    if (cells.length < 2) continue;
    const names = (cell: string) => [...cell.matchAll(/`([A-Za-z.]+)`/g)].map((m) => m[1]!);
    const fields = new Set(cells.slice(1).flatMap(names));
    for (const kind of names(cells[0]!))
      kinds.set(kind, new Set([...(kinds.get(kind) ?? []), ...fields]));
  }
  return kinds;
}

/** A run that emits every kind a test can: chaos, then each harness action once. */
async function everyKind(): Promise<TraceEvent[]> {
  const raft = { snapshotAfterEntries: 20, snapshotChunkSize: 2048 };
  const cluster = Cluster.start(5, { seed: 3, network: chaosNetwork, raft });
  await runChaos(cluster, cluster.randomStream());
  // A leader cut off with a command it can never commit, which its successor's entry replaces.
  const { leader } = await cluster.checkSettled();
  cluster.isolate(leader);
  cluster.submitToServer(leader, "stray");
  await cluster.advance(1000);
  await cluster.one("replaces it", 4, true);
  cluster.reconnect(leader);
  await cluster.one("everywhere", 5, true);
  // A follower cut off while a snapshot's worth of entries commit catches up by InstallSnapshot.
  const behind = (leader + 1) % 5;
  cluster.isolate(behind);
  for (let i = 0; i < 25; i++) await cluster.one(`without n${behind} ${i}`, 4, true);
  cluster.reconnect(behind);
  await cluster.one("everywhere again", 5, true);
  // Part 6: reads on the leader and on a follower, one refused, a transfer given up, a clock drift.
  const { leader: reader } = await cluster.checkSettled();
  await cluster.read(reader);
  await cluster.read((reader + 1) % 5);
  cluster.node((reader + 1) % 5).forgetLeader();
  const target = (reader + 2) % 5;
  cluster.isolate(target);
  cluster.node(reader).transferLeadership(target);
  await cluster.read(target);
  await cluster.advance(500);
  cluster.reconnect(target);
  // A follower that stops hearing the leader asks for pre-votes the others ignore (the lease).
  const unheard = (reader + 3) % 5;
  cluster.cut(reader, unheard);
  await cluster.advance(400);
  cluster.uncut(reader, unheard);
  cluster.drift(0, 1.1);
  cluster.slow(0, 1, 100);
  cluster.cut(0, 1);
  cluster.uncut(0, 1);
  cluster.partition([0, 1], [2, 3, 4]);
  cluster.crash(4);
  cluster.restart(4);
  // n3's next save fails as on a full disk: it halts.
  const storage = cluster.storage.get(3)!;
  const failing = storage.saves + 1;
  storage.faults = (n) => (n === failing ? "disk full" : undefined);
  cluster.note("the end");
  await cluster.advance(1000);
  await cluster.shutdown();
  return [...cluster.tracer.events, ...(await lostData())];
}

/** A leader whose follower acknowledges an entry and then refuses it: it reports lost data. */
async function lostData(): Promise<TraceEvent[]> {
  const t = await leader();
  t.node.submit("x");
  await t.clock.runFor(0);
  for (const call of t.peers.appendRequests.splice(0)) call.reply({ term: 1, success: true });
  await t.clock.runFor(50);
  for (const call of t.peers.appendRequests.splice(0)) {
    call.reply({ term: 1, success: false, conflictIndex: 1 });
  }
  await t.clock.runFor(0);
  t.node.stop();
  return t.tracer.events;
}

describe("the trace format", () => {
  test("every kind of src/trace.ts is documented", () => {
    const missing = Object.keys(sentences).filter((kind) => !documented().has(kind));
    expect(missing).toEqual([]);
  });

  test("every field an event carries is named in its kind's row", async () => {
    const kinds = documented();
    const undocumented = new Set<string>();
    const seen = new Set<Kind>();
    for (const event of await everyKind()) {
      seen.add(event.kind);
      const fields = kinds.get(event.kind) ?? new Set();
      for (const field of Object.keys(event.details)) {
        if (!fields.has(field)) undocumented.add(`${event.kind}.${field}`);
      }
    }
    expect([...undocumented]).toEqual([]);
    // Only what a passing run cannot show is left out: how a test ends, and a broken rule.
    const unseen = Object.keys(sentences).filter((kind) => !seen.has(kind as Kind));
    expect(unseen.sort()).toEqual(["test.end", "violation"]);
  });
});
