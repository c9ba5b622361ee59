// Goal: the key/value scenarios of the MIT 6.824 (6.5840) lab 4B, kvraft with snapshots: the
// InstallSnapshot RPC bringing a server that missed 50 puts back into a majority that needs it;
// logs trimmed and snapshots small after 400 puts; the speed test with snapshots. (The lab's
// GenericTest with snapshots is mit-kv-snapshots-generic.test.ts.) Method: as mit-kv.test.ts, in
// virtual time, with the lab's maxraftstate of 1000 bytes; no server's log may hold more than 8
// times that (the lab's LogSize check, mit-kv-generic.ts). lincheck then checks every operation
// of each run, as the lab's Porcupine does (harness.ts).

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";
import { expectGet } from "./kv-helpers.ts";
import {
  checkClientAppends,
  checkLogsTrimmed,
  ELECTION_TIMEOUT,
  element,
  MAXRAFTSTATE,
  options,
  snapshotChars,
} from "./mit-kv-generic.ts";

describe("MIT 6.824 lab 4B, key/value service with snapshots", () => {
  test("InstallSnapshot RPC", async () => {
    const cluster = Cluster.start(3, options(false, MAXRAFTSTATE));
    const ck = cluster.client("ck");
    await cluster.settle(ck.put("a", "A"));
    await expectGet(cluster, ck, "a", "A");
    // A bunch of puts into the majority partition.
    cluster.partition([0, 1], [2]);
    cluster.setClientReach("ck1", [0, 1]);
    const ck1 = cluster.client("ck1");
    for (let i = 0; i < 50; i++) await cluster.settle(ck1.put(String(i), String(i)));
    await cluster.advance(ELECTION_TIMEOUT);
    await cluster.settle(ck1.put("b", "B"));
    // The majority has thrown away most of its log.
    checkLogsTrimmed(cluster, MAXRAFTSTATE);
    // Now a majority that needs the lagging server: it has to catch up, by a snapshot.
    cluster.partition([0, 2], [1]);
    cluster.setClientReach("ck2", [0, 2]);
    const ck2 = cluster.client("ck2");
    await cluster.settle(ck2.put("c", "C"));
    await cluster.settle(ck2.put("d", "D"));
    await expectGet(cluster, ck2, "a", "A");
    await expectGet(cluster, ck2, "b", "B");
    await expectGet(cluster, ck2, "1", "1");
    await expectGet(cluster, ck2, "49", "49");
    expect(cluster.events.some((e) => e.node === 2 && e.kind === "snapshot.install")).toBe(true);
    // Now everybody.
    cluster.heal();
    await cluster.settle(ck.put("e", "E"));
    await expectGet(cluster, ck, "c", "C");
    await expectGet(cluster, ck, "e", "E");
    await expectGet(cluster, ck, "1", "1");
  });

  test("snapshot size is reasonable", async () => {
    const cluster = Cluster.start(3, options(false, MAXRAFTSTATE));
    const ck = cluster.client("ck");
    for (let i = 0; i < 200; i++) {
      await cluster.settle(ck.put("x", "0"));
      await expectGet(cluster, ck, "x", "0");
      await cluster.settle(ck.put("x", "1"));
      await expectGet(cluster, ck, "x", "1");
    }
    // The servers have thrown away most of their logs, and their snapshots are small (the lab's
    // maxsnapshotstate: 500).
    checkLogsTrimmed(cluster, MAXRAFTSTATE);
    expect(snapshotChars(cluster)).toBeGreaterThan(0);
    expect(snapshotChars(cluster)).toBeLessThanOrEqual(500);
  });

  test("ops complete fast enough with snapshots: well under a heartbeat interval each", async () => {
    const cluster = Cluster.start(3, options(false, MAXRAFTSTATE));
    const ck = cluster.client("ck");
    await cluster.settle(ck.get("x"));
    const start = cluster.clock.now();
    for (let i = 0; i < 1000; i++) await cluster.settle(ck.append("x", element(0, i)));
    const perOp = (cluster.clock.now() - start) / 1000;
    checkClientAppends(0, (await cluster.settle(ck.get("x"))).value ?? "", 1000);
    checkLogsTrimmed(cluster, MAXRAFTSTATE);
    // The lab's bound: three operations per heartbeat interval (ours is 50 ms).
    expect(perOp).toBeLessThan(50 / 3);
  });
});
