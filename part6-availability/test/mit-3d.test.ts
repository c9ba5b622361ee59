// Goal: the snapshot scenarios of the MIT 6.5840 Raft lab 3D, all seven: snapshots basic;
// install snapshots with a follower cut off, on a reliable and an unreliable network; install
// snapshots with a follower crashed, on a reliable and an unreliable network; every server
// crashed and restarted from its snapshot and the log after it; and a snapshot's initialization
// after a restart not lost by the next save. Method: as in the lab, in virtual time. The lab's
// tester state machine takes a snapshot every 10 applied entries (its SnapShotInterval) of the
// list of commands applied; here the policy does (snapshotAfterEntries 10) and the simulation's
// state machine is the list of entries applied (state-machine.ts). The lab's iteration counts
// are kept (30 for the install tests, 5 for the crash of all servers). Its MAXLOGSIZE, 2,000
// bytes of persisted Raft state, is checked after every iteration as the lab does; besides, the
// safety checks bound each log to 10 applied entries on every event and compare every snapshot
// with the entries it stands for. Random commands, servers and counts come from the test's seed.

import { describe, expect } from "vitest";
import type { NodeId } from "../src/raft.ts";
import type { SeededRandom } from "../src/random.ts";
import { unreliableNetwork } from "../src/sim/network.ts";
import { Cluster, test } from "./harness.ts";

/** The lab's SnapShotInterval: its tester snapshots every 10 applied entries. */
const SNAPSHOT_INTERVAL = 10;
/** The lab's MAXLOGSIZE: at most this many bytes of persisted Raft state (term, vote, log). */
const MAXLOGSIZE = 2000;
const snapshots = { snapshotAfterEntries: SNAPSHOT_INTERVAL };

/** The lab's rand.Int(): a random command, from the test's seed. */
function randomCommand(random: SeededRandom): number {
  return random.int(0, 2 ** 31 - 1);
}

/** The lab's LogSize(): the largest persisted Raft state, snapshot aside, in bytes of JSON. */
function logSize(cluster: Cluster): number {
  return Math.max(
    ...cluster.ids.map((id) => {
      const { snapshot: _, ...raftState } = cluster.storage.get(id)!.load();
      return JSON.stringify(raftState).length;
    }),
  );
}

/** The lab's crash of every server and start of them all again, on their storage. */
function crashAndRestartAll(cluster: Cluster): void {
  for (const id of cluster.ids) cluster.crash(id);
  for (const id of cluster.ids) cluster.restart(id);
}

/**
 * The lab's snapcommon: 30 rounds of cutting off (or crashing) a follower or the leader, a
 * burst of 5 to 14 commands straight to a server (the leader, or in one round of three a
 * follower, which refuses them), then bringing the victim back, which may need a snapshot.
 */
async function snapCommon(disconnect: boolean, reliable: boolean, crash: boolean): Promise<void> {
  const cluster = Cluster.start(3, {
    raft: snapshots,
    ...(reliable ? {} : { network: unreliableNetwork }),
  });
  const random = cluster.randomStream();
  const servers = cluster.ids.length;
  await cluster.one(randomCommand(random), servers, true);
  let { leader: leader1 } = await cluster.checkSingleLeader();
  for (let i = 0; i < 30; i++) {
    let victim: NodeId = (leader1 + 1) % servers;
    let sender: NodeId = leader1;
    if (i % 3 === 1) [sender, victim] = [victim, sender];
    if (disconnect) {
      cluster.isolate(victim);
      await cluster.one(randomCommand(random), servers - 1, true);
    }
    if (crash) {
      cluster.crash(victim);
      await cluster.one(randomCommand(random), servers - 1, true);
    }
    // Perhaps enough for a snapshot.
    const burst = SNAPSHOT_INTERVAL / 2 + random.int(0, SNAPSHOT_INTERVAL - 1);
    for (let k = 0; k < burst; k++) cluster.submitToServer(sender, randomCommand(random));
    // Let the followers catch up: all of them when none was cut off, so that no InstallSnapshot
    // is needed for the basic test.
    const caughtUp = !disconnect && !crash ? servers : servers - 1;
    await cluster.one(randomCommand(random), caughtUp, true);
    expect(logSize(cluster), `round ${i}`).toBeLessThan(MAXLOGSIZE);
    if (disconnect) {
      // A follower that may be behind, and need a snapshot to catch up.
      cluster.reconnect(victim);
      await cluster.one(randomCommand(random), servers, true);
      ({ leader: leader1 } = await cluster.checkSingleLeader());
    }
    if (crash) {
      cluster.restart(victim);
      await cluster.one(randomCommand(random), servers, true);
      ({ leader: leader1 } = await cluster.checkSingleLeader());
    }
  }
  // What each variant is about: no InstallSnapshot when every follower kept up, some when not.
  const installs = cluster.tracer.events.filter((e) => e.kind === "snapshot.install").length;
  if (disconnect || crash) expect(installs).toBeGreaterThan(0);
  else expect(installs).toBe(0);
}

describe("MIT 6.5840 lab 3D: snapshots", () => {
  test("snapshots basic", async () => {
    await snapCommon(false, true, false);
  });

  test("install snapshots (disconnect)", async () => {
    await snapCommon(true, true, false);
  });

  test("install snapshots (disconnect, unreliable)", async () => {
    await snapCommon(true, false, false);
  });

  test("install snapshots (crash)", async () => {
    await snapCommon(false, true, true);
  });

  test("install snapshots (crash, unreliable)", async () => {
    await snapCommon(false, false, true);
  });

  test("crash and restart all servers: each starts from its snapshot and the log after it", async () => {
    const cluster = Cluster.start(3, { raft: snapshots, network: unreliableNetwork });
    const random = cluster.randomStream();
    await cluster.one(randomCommand(random), 3, true);
    for (let i = 0; i < 5; i++) {
      // Perhaps enough for a snapshot.
      const n = SNAPSHOT_INTERVAL / 2 + random.int(0, SNAPSHOT_INTERVAL - 1);
      for (let k = 0; k < n; k++) await cluster.one(randomCommand(random), 3, true);
      const index1 = await cluster.one(randomCommand(random), 3, true);
      crashAndRestartAll(cluster);
      const index2 = await cluster.one(randomCommand(random), 3, true);
      expect(index2, `index decreased from ${index1} to ${index2}`).toBeGreaterThanOrEqual(
        index1 + 1,
      );
    }
    const restores = cluster.tracer.events.filter(
      (e) => e.kind === "snapshot.restore" && e.details.reason === "loaded from storage at start",
    );
    expect(restores.length).toBeGreaterThan(0);
  });

  test("snapshot initialization after a crash: the next save keeps it", async () => {
    const cluster = Cluster.start(3, { raft: snapshots, network: unreliableNetwork });
    const random = cluster.randomStream();
    await cluster.one(randomCommand(random), 3, true);
    // Enough to make a snapshot.
    for (let k = 0; k < SNAPSHOT_INTERVAL + 1; k++)
      await cluster.one(randomCommand(random), 3, true);
    crashAndRestartAll(cluster);
    // A single command, to get something written back to storage.
    await cluster.one(randomCommand(random), 3, true);
    crashAndRestartAll(cluster);
    // Another, to trigger the bug: a node that restarted without its snapshot in memory would
    // have saved over it.
    await cluster.one(randomCommand(random), 3, true);
    for (const id of cluster.ids) {
      expect(cluster.storage.get(id)!.load().snapshot?.lastIncludedIndex).toBeGreaterThanOrEqual(
        10,
      );
    }
  });
});
