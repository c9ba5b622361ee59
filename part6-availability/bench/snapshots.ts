// What snapshots buy (§7), measured two ways:
//
// 1. Catch-up: a follower cut off while 10,000 commands commit comes back, on a 3-node simulated
//    cluster with 1-5 ms latency. Without snapshots the leader sends it all 10,000 entries; with
//    a snapshot every 1,000 applied entries it sends the snapshot (the state, not the history)
//    and the entries after it. The state machine is a small key/value map (100 keys, each
//    command sets one), as a store's would be: the state stays small however long the log.
// 2. Restart: DiskStorage holding 1,000 to 100,000 entries of 100-byte commands, with no
//    snapshot and with one every 1,000 entries (a 1,000-key state): the folder's size, and how
//    long a start takes to read it back and rebuild the state machine (the snapshot, then the log
//    after it; or the whole log).
//
//   pnpm --filter part6-availability exec tsx bench/snapshots.ts
//
// Safety and conformance checks run on every event of the simulated runs, as in the tests.

import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DiskStorage } from "../src/disk-storage.ts";
import type { NodeId, RaftNode } from "../src/raft.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import { uniformLatency } from "../src/sim/network.ts";

const KEYS = 100;
const BEHIND = 10_000;

interface CatchUp {
  snapshots: boolean;
  rpcs: number;
  bytes: number;
  entries: number;
  virtualMs: number;
  wallMs: number;
}

/** A key/value map as the state machine: commands {k, v} set a key. */
function kvStateMachine(node: RaftNode): Map<string, unknown> {
  const state = new Map<string, unknown>();
  node.onApply((e) => {
    const { k, v } = e.command as { k: string; v: string };
    state.set(k, v);
  });
  node.snapshotSource(() => [...state]);
  node.onRestore((s) => {
    state.clear();
    for (const [k, v] of s.data as [string, unknown][]) state.set(k, v);
  });
  return state;
}

/** Runs one catch-up; traffic counts what was sent to the follower once it came back. */
async function catchUp(snapshots: boolean): Promise<CatchUp> {
  const states = new Map<NodeId, Map<string, unknown>>();
  const cluster = new SimCluster(3, {
    seed: 1,
    raft: snapshots
      ? { snapshotAfterEntries: 1000 }
      : { snapshotAfterEntries: 0, snapshotAfterBytes: 0 },
    network: { latency: uniformLatency(1, 5) },
    snapshots: "application",
    onNode: (id, node) => states.set(id, kvStateMachine(node)),
  });
  cluster.tracer.keep = false;
  cluster.startNodes();
  await cluster.clock.runFor(5000, () => cluster.leaders().length === 1);
  const leader = cluster.leaders()[0]!.id;
  const away = (leader + 1) % 3;
  cluster.isolate(away);
  for (let i = 0; i < BEHIND; i += 100) {
    for (let k = i; k < i + 100; k++)
      cluster.submitToServer(leader, { k: `key${k % KEYS}`, v: `value ${k}` });
    await cluster.advance(5);
  }
  const last = cluster.state(leader).lastLogIndex;
  await cluster.runUntil(
    cluster.clock.now() + 60_000,
    () => cluster.state(leader).commitIndex >= last,
  );
  const sent = { rpcs: 0, bytes: 0, entries: 0 };
  cluster.tracer.subscribe((e) => {
    // From whoever leads: the follower, back with a higher term, may force an election.
    if (e.kind !== "send" || e.details.to !== away) return;
    sent.bytes += e.details.bytes;
    if (e.details.type !== "request") return;
    sent.rpcs++;
    if (e.details.rpc === "AppendEntries") sent.entries += e.details.payload.entries.length;
  });
  cluster.reconnect(away);
  const started = performance.now();
  const from = cluster.clock.now();
  await cluster.runUntil(from + 120_000, () => cluster.state(away).lastApplied >= last);
  if (cluster.state(away).lastApplied < last) throw new Error("the follower did not catch up");
  if (JSON.stringify([...states.get(away)!]) !== JSON.stringify([...states.get(leader)!])) {
    throw new Error("the follower's state differs from the leader's");
  }
  if (cluster.firstViolation) throw new Error(cluster.firstViolation.message);
  const result = {
    snapshots,
    ...sent,
    virtualMs: cluster.clock.now() - from,
    wallMs: performance.now() - started,
  };
  await cluster.shutdown();
  return result;
}

interface Restart {
  entries: number;
  snapshots: boolean;
  folderBytes: number;
  startMs: number;
}

/** Writes `entries` commands in saves of 100 (a snapshot every 1,000 if asked), then starts again. */
function restart(entries: number, snapshots: boolean, dir: string): Restart {
  const folder = mkdtempSync(join(dir, "raft-bench-"));
  try {
    const storage = new DiskStorage(folder);
    storage.save({ hardState: { currentTerm: 1, votedFor: 0 } });
    const state = new Map<string, string>();
    for (let i = 1; i <= entries; i += 100) {
      const batch = Array.from({ length: 100 }, (_, k) => {
        const command = { k: `key${(i + k) % 1000}`, v: "v".repeat(90) };
        state.set(command.k, command.v);
        return { term: 1, command };
      });
      storage.save({ log: { from: i, entries: batch } });
      const last = i + 99;
      if (snapshots && last % 1000 === 0) {
        storage.save({
          snapshot: {
            lastIncludedIndex: last,
            lastIncludedTerm: 1,
            data: JSON.stringify([...state]),
          },
        });
      }
    }
    storage.close();
    const folderBytes = readdirSync(folder).reduce(
      (sum, f) => sum + statSync(join(folder, f)).size,
      0,
    );
    const started = performance.now();
    const again = new DiskStorage(folder);
    const loaded = again.load();
    const rebuilt = new Map<string, string>(
      loaded.snapshot ? JSON.parse(loaded.snapshot.data) : [],
    );
    for (const { command } of loaded.log) {
      const { k, v } = command as { k: string; v: string };
      rebuilt.set(k, v);
    }
    const startMs = performance.now() - started;
    again.close();
    if (rebuilt.size !== state.size) throw new Error("the state read back differs");
    return { entries, snapshots, folderBytes, startMs };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const pad = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => String(c).padStart(widths[i]!)).join("  ");

export async function snapshotSection(dir = tmpdir()): Promise<void> {
  console.log(
    `\nCatch-up by snapshot or by log: a follower cut off while ${BEHIND} commands commit (a ${KEYS}-key map), 3 nodes, latency 1-5 ms, seed 1`,
  );
  const widths = [20, 6, 12, 9, 12, 10];
  console.log(
    pad(["snapshots", "RPCs", "bytes sent", "entries", "virtual time", "wall time"], widths),
  );
  for (const snapshots of [false, true]) {
    const r = await catchUp(snapshots);
    console.log(
      pad(
        [
          snapshots ? "every 1000 entries" : "none",
          r.rpcs,
          r.bytes,
          r.entries,
          `${(r.virtualMs / 1000).toFixed(2)} s`,
          `${(r.wallMs / 1000).toFixed(2)} s`,
        ],
        widths,
      ),
    );
  }
  console.log(
    `\nRestart: DiskStorage in ${dir}, entries of 100-byte commands saved 100 at a time (fdatasync each), a 1000-key state; a start reads the folder back and rebuilds the state`,
  );
  const columns = [9, 20, 14, 12];
  console.log(pad(["entries", "snapshots", "folder", "start"], columns));
  for (const entries of [1000, 10_000, 100_000]) {
    for (const snapshots of [false, true]) {
      const r = restart(entries, snapshots, dir);
      console.log(
        pad(
          [
            entries,
            snapshots ? "every 1000 entries" : "none",
            `${(r.folderBytes / 1024).toFixed(0)} KB`,
            `${r.startMs.toFixed(1)} ms`,
          ],
          columns,
        ),
      );
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(
    `Node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores)`,
  );
  await snapshotSection();
}
