// Goal: the service on one node (src/kv/service.ts) answers for its own entry, matched by
// (index, term): a request whose entry was lost with its leader's term fails definitely and never
// takes effect; one not applied in time fails indefinitely; a node that does not lead says so and
// names the leader it knows; a stopping service answers whatever still waits. Method: a simulated
// 3-node cluster; the requests go straight to one node's service, as the client network would
// deliver them, so the test sees each raw answer (these requests are not in the history lincheck
// checks; the clients' operations around them are).

import { describe, expect } from "vitest";
import type { KvEntry, KvRequest } from "../src/kv/commands.ts";
import { Cluster, test } from "./harness.ts";
import { expectGet, watched } from "./kv-helpers.ts";

const lostPut: KvRequest = { client: "x", seq: 1, command: { op: "put", key: "k", value: "lost" } };

/** Whether any node, live or not, has applied an entry with `value`. */
function appliedAnywhere(cluster: Cluster, value: string): boolean {
  return cluster.ids.some((id) =>
    cluster.applied.get(id)!.some((e) => {
      const command = (e.command as KvEntry | null)?.command;
      return command !== undefined && "value" in command && command.value === value;
    }),
  );
}

describe("the service waits for its own entry", () => {
  test("an entry lost with its leader's term: a definite failure, and no effect", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("k", "before"));
    cluster.isolate(leader);
    const answer = watched(cluster.services.get(leader)!.handle(lostPut));
    // The others elect a leader whose no-op takes the index the lost put was given.
    await cluster.checkSingleLeader();
    await cluster.settle(cluster.client("c2").put("k", "after"));
    expect(answer.settled()).toBe(false);
    cluster.reconnect(leader);
    expect(await cluster.settle(answer.promise, 3000)).toMatchObject({
      status: "failed",
      definite: true,
    });
    await expectGet(cluster, c1, "k", "after");
    expect(appliedAnywhere(cluster, "lost")).toBe(false);
  });

  test("an entry not applied in time: an indefinite failure", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    cluster.isolate(leader);
    const answer = watched(cluster.services.get(leader)!.handle(lostPut));
    await cluster.advance(1999);
    expect(answer.settled()).toBe(false);
    expect(await cluster.settle(answer.promise, 1)).toMatchObject({
      status: "failed",
      definite: false,
    });
    cluster.reconnect(leader);
  });
});

describe("the service answers at once, or when it stops", () => {
  test("a follower does not take requests, and names the leader it follows", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSettled();
    // A follower that voted knows the term, not yet its leader: that takes an AppendEntries,
    // which comes within a heartbeat interval (50 ms) and a message's delay.
    await cluster.advance(60);
    const follower = (leader + 1) % 3;
    expect(await cluster.services.get(follower)!.handle(lostPut)).toEqual({
      status: "not-leader",
      leaderHint: leader,
    });
    expect(appliedAnywhere(cluster, "lost")).toBe(false);
  });

  test("a service that closes answers every waiting request: it may still take effect", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    cluster.isolate(leader);
    const service = cluster.services.get(leader)!;
    const answer = watched(service.handle(lostPut));
    await cluster.advance(10);
    service.close();
    expect(await answer.promise).toMatchObject({ status: "failed", definite: false });
    cluster.reconnect(leader);
  });
});
