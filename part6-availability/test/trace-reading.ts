// Reading a cluster's trace in a test (go-persistence.test.ts, persistence-bugs.test.ts): waiting
// in virtual time for an event, and what a node's latest restart loaded from its storage.

import type { NodeId } from "../src/raft.ts";
import type { EventOf, Kind } from "../src/trace.ts";
import type { Cluster } from "./harness.ts";

/**
 * Waits (in virtual time) for the first event of `kind`, from event number `from` of the trace on,
 * that `match`es, and returns it: one already in the trace counts.
 */
export async function waitFor<K extends Kind>(
  cluster: Cluster,
  kind: K,
  match: (e: EventOf<K>) => boolean,
  from = 0,
  deadlineMs = 3000,
): Promise<EventOf<K>> {
  let next = from;
  let found: EventOf<K> | undefined;
  const scan = () => {
    const events = cluster.tracer.events;
    for (; found === undefined && next < events.length; next++) {
      const e = events[next]!;
      if (e.kind === kind && match(e as EventOf<K>)) found = e as EventOf<K>;
    }
    return found !== undefined;
  };
  await cluster.runUntil(cluster.clock.now() + deadlineMs, scan);
  if (found === undefined) throw new Error(`no such ${kind} event within ${deadlineMs} ms`);
  return found;
}

/** The state the latest restart of `id` loaded from its storage. */
export function restartedWith(cluster: Cluster, id: NodeId) {
  const restarts = cluster.tracer.events.filter(
    (e): e is EventOf<"restart"> => e.kind === "restart" && e.details.node === id,
  );
  const last = restarts.at(-1);
  if (last === undefined) throw new Error(`n${id} never restarted`);
  const { currentTerm, votedFor, log } = last.details;
  return { currentTerm, votedFor, commands: log.map((entry) => entry.command) };
}
