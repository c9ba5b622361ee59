// Goal: exactly once across the session window (thesis §6.3), at a commit rate that crosses the
// window within one client's deadline. A client whose answer was lost retries after its session
// has been forgotten: the retry is answered "session expired", which the client reports as an
// operation that may have taken effect, and the operation took effect once (part 4 ran such a
// retry again). A client idle for longer than the window opens a new session and goes on. And a
// session the store forgot is never open again, on any node, snapshots and restarts included.
// Method: a window of 200 entries and ten busy clients that commit entries as fast as they can;
// the victim's answer is lost on the client network (kv-helpers.ts); lincheck judges each whole
// history when the test ends (harness.ts), the indefinite failure included.

import { describe, expect } from "vitest";
import { ClientError } from "../src/kv/client.ts";
import type { KvEntry } from "../src/kv/commands.ts";
import { Cluster, type ClusterOptions, test } from "./harness.ts";
import { expectGet, inBackground, loseReplyOnClientNetwork, watched } from "./kv-helpers.ts";

const WINDOW = 200;
const OPTIONS: ClusterOptions = {
  service: { sessionWindow: WINDOW },
  raft: { snapshotAfterEntries: 100 },
};

/** Ten clients putting to keys of their own as fast as they can, until `stop` is called. */
function busyClients(cluster: Cluster): { stop: () => Promise<void> } {
  let stopped = false;
  const runs = Array.from({ length: 10 }, (_, i) =>
    inBackground(
      (async () => {
        const c = cluster.client(`busy${i}`);
        for (let n = 0; !stopped; n++) await c.put(`busy${i}`, String(n));
      })(),
    ),
  );
  return {
    stop: async () => {
      stopped = true;
      await cluster.settle(Promise.all(runs));
    },
  };
}

/** The sessions `client` opened: the indices of its applied opens, on node `id`. */
function opened(cluster: Cluster, id: number, client: string): number[] {
  return cluster.events.flatMap((e) => {
    if (e.kind !== "apply" || e.node !== id) return [];
    const entry = e.details.command as KvEntry | null;
    return entry?.open === true && entry.client === client ? [e.details.index] : [];
  });
}

describe("sessions across the window (thesis §6.3)", () => {
  test("a retry after the session was forgotten is answered 'expired', and ran once", async () => {
    const cluster = Cluster.start(3, OPTIONS);
    const victim = cluster.client("victim");
    await cluster.settle(victim.put("v", "")); // a leader serves, and the victim has a session
    const { leader } = await cluster.checkSingleLeader();
    const busy = busyClients(cluster);
    // The append reaches the leader; its answer is lost, and the victim cannot reach the leader
    // for 1.5 s, while the busy clients commit far more than the window's 200 entries.
    loseReplyOnClientNetwork(cluster, "victim", leader, 1500);
    const append = watched(victim.append("v", "once"));
    const start = cluster.state(leader).commitIndex;
    const error = await cluster.settle(append.promise).catch((e: unknown) => e);
    expect(cluster.state(leader).commitIndex - start).toBeGreaterThan(2 * WINDOW);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).definite).toBe(false);
    expect((error as ClientError).message).toMatch(/may have taken effect.*is not open/);
    await busy.stop();
    // It took effect once: the retry that reached the store did not run again.
    await expectGet(cluster, victim, "v", "once");
    // The victim went on in a new session (its get above opened it).
    expect(opened(cluster, leader, "victim")).toHaveLength(2);
  });

  test("a client idle for longer than the window opens a new session and goes on", async () => {
    const cluster = Cluster.start(3, OPTIONS);
    const idle = cluster.client("idle");
    await cluster.settle(idle.append("i", "a"));
    const busy = busyClients(cluster);
    await cluster.advance(1000);
    const { leader } = await cluster.checkSingleLeader();
    expect(cluster.state(leader).commitIndex).toBeGreaterThan(2 * WINDOW);
    // Its session is gone; its next request is answered "expired" before it ran, so the client
    // knows it cannot have taken effect: it opens a new session and sends it there, at once.
    expect(await cluster.settle(idle.append("i", "b"))).toEqual({ value: "a", existed: true });
    await busy.stop();
    await expectGet(cluster, idle, "i", "ab");
    expect(opened(cluster, leader, "idle")).toHaveLength(2);
  });

  test("a forgotten session is not open again on any node, after snapshots and restarts", async () => {
    const cluster = Cluster.start(3, OPTIONS);
    const c = cluster.client("c");
    await cluster.settle(c.put("k", "1"));
    const { leader } = await cluster.checkSingleLeader();
    const [session] = opened(cluster, leader, "c");
    const busy = busyClients(cluster);
    await cluster.advance(1000);
    await busy.stop();
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) cluster.restart(id);
    const next = await cluster.checkSingleLeader();
    // A late copy of c's first put, in its old session: answered "expired" by the state machine.
    const late = {
      client: "c",
      session: session!,
      seq: 1,
      command: { op: "put", key: "k", value: "1" },
    } as const;
    const answer = await cluster.settle(cluster.services.get(next.leader)!.handle(late));
    expect(answer).toMatchObject({ status: "session-expired", session });
    for (const id of cluster.ids) {
      expect(cluster.services.get(id)!.machine.sessionOf(session!)).toBeUndefined();
    }
    await expectGet(cluster, c, "k", "1");
  });
});
