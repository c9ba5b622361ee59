// Helpers for the key/value scenarios (go-kv, mit-kv): numbered clients, checked reads, a
// response held back or lost at a node, and promises left to run in the background.

import type { SeededRandom } from "part5-snapshots/random";
import { expect } from "vitest";
import type { ClientOptions } from "../src/kv/client.ts";
import type { KvEntry, KvResponse } from "../src/kv/commands.ts";
import type { KvSimCluster, SimKvClient } from "../src/sim/kv-cluster.ts";

/** New clients c1, c2, … of one cluster, each with a session of its own. */
export function clientMaker(
  cluster: KvSimCluster,
): (options?: Partial<ClientOptions>) => SimKvClient {
  let made = 0;
  return (options = {}) => cluster.client(`c${++made}`, options);
}

/** A get that must return `value` (null: the key must not exist). */
export async function expectGet(
  cluster: KvSimCluster,
  client: SimKvClient,
  key: string,
  value: string | null,
): Promise<void> {
  const result = await cluster.settle(client.get(key));
  expect(result, `get ${JSON.stringify(key)} by ${client.id}`).toEqual({
    value,
    existed: value !== null,
  });
}

/**
 * Marks a promise as handled now (it may reject before the test awaits it, and an unhandled
 * rejection would fail the run) and returns it unchanged: awaiting it still throws.
 */
export function inBackground<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * The next response node `node`'s service gives is held back `delayMs` of virtual time (as the Go
 * series' DelayNextHTTPResponseFromService does), or lost for good with "lose". A node that
 * crashes meanwhile sends nothing: the response is dropped, as it would be with the process.
 */
export function holdNextResponse(
  cluster: KvSimCluster,
  node: number,
  delayMs: number | "lose",
): void {
  const service = cluster.services.get(node)!;
  const handle = service.handle.bind(service);
  service.handle = (request) => {
    service.handle = handle;
    return handle(request).then(
      (response) =>
        new Promise<KvResponse>((resolve) => {
          if (delayMs === "lose") return;
          cluster.clock.setTimer(delayMs, () => {
            const alive =
              cluster.services.get(node) === service && cluster.state(node).role !== "dead";
            if (alive) resolve(response);
          });
        }),
    );
  };
}

/**
 * When `node` puts `client`'s next request in its log, the client network stops carrying
 * anything between them for `forMs`: the request has arrived, its reply is lost on the way back.
 */
export function loseReplyOnClientNetwork(
  cluster: KvSimCluster,
  client: string,
  node: number,
  forMs: number,
): void {
  let done = false;
  cluster.tracer.subscribe((event) => {
    if (done || event.kind !== "submit" || event.node !== node) return;
    const entry = event.details.command as KvEntry | null;
    if (entry?.client !== client || "refused" in event.details) return;
    done = true;
    cluster.setClientReach(
      client,
      cluster.ids.filter((id) => id !== node),
    );
    cluster.clock.setTimer(forMs, () => cluster.setClientReach(client, cluster.ids));
  });
}

/** How many entries node `node` has applied that carry `client`'s request `seq`. */
export function copiesApplied(
  cluster: KvSimCluster,
  node: number,
  client: string,
  seq: number,
): number {
  return cluster.applied.get(node)!.filter((e) => {
    const entry = e.command as KvEntry | null;
    return entry?.kind === "kv" && entry.client === client && entry.seq === seq;
  }).length;
}

/** The ids in an order drawn from `random` (Fisher-Yates). */
export function shuffled(ids: readonly number[], random: SeededRandom): number[] {
  const items = [...ids];
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A promise and whether it has settled yet (its rejection counts as handled). */
export function watched<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { promise, settled: () => settled };
}
