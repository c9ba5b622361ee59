// Our store as real processes: three nodes on free ports (pnpm kv:node's code, DiskStorage with
// fdatasync, no trace files), driven by RealClient, the client `pnpm kv` uses.

import { openSync } from "node:fs";
import { Agent } from "node:http";
import path from "node:path";
import { type ClusterMap, formatClusterMap } from "../src/real/addresses.ts";
import { RealClient } from "../src/real/client.ts";
import { prepareNodes, spawnNode } from "../src/real/spawn.ts";
import { agreedLeader, fetchStatus, freePorts, waitFor } from "../test/real/local.ts";
import type { Processes } from "./processes.ts";
import type { Counters, System } from "./system.ts";

const NODES = 3;

export async function startOurs(
  processes: Processes,
  fail: (why: string) => void,
  spread: boolean,
): Promise<System> {
  prepareNodes(); // once, before the three nodes start together
  const ports = await freePorts(NODES);
  const cluster: ClusterMap = new Map(ports.map((port, id) => [id, { host: "127.0.0.1", port }]));
  for (const id of cluster.keys()) {
    const log = openSync(path.join(processes.dir, `n${id}.log`), "a");
    const args = ["--id", String(id), "--cluster", formatClusterMap(cluster), "--no-trace"];
    if (spread) args.push("--follower-reads");
    args.push("--data", path.join(processes.dir, `n${id}`), "--initial-cluster-state", "new");
    processes.add(spawnNode(args, log), `n${id} (see ${processes.dir}/n${id}.log)`, fail);
  }
  // A connection per /status call: a kept-alive one idle between loads may be closing at the
  // server's end (its keep-alive timeout) just as it is reused, and a status would go missing.
  const agent = new Agent({ keepAlive: false });
  const statuses = async () =>
    (await Promise.all(ports.map((_, id) => fetchStatus(agent, cluster.get(id)!)))).filter(
      (s) => s !== undefined,
    );
  await waitFor(
    "a leader of our cluster",
    async () => agreedLeader(await statuses(), NODES),
    30_000,
    100,
  );
  const clients: RealClient[] = [];
  const client = (n: number) => {
    const readFrom = spread ? { readFrom: n % NODES } : {};
    clients[n] ??= new RealClient({ id: `bench-${n}`, cluster, seed: n + 1, ...readFrom });
    return clients[n];
  };
  return {
    name: "raft-ts",
    put: async (n, key, value) => void (await client(n).put(key, value)),
    get: async (n, key) => void (await client(n).get(key)),
    async counters(): Promise<Counters> {
      const all = await statuses();
      // A node that did not answer would make the sum too small: no number rather than a wrong one.
      const syncs =
        all.length === NODES ? all.reduce((sum, s) => sum + s.storage.syncs, 0) : Number.NaN;
      return { syncs, committed: Math.max(0, ...all.map((s) => s.commitIndex)) };
    },
    close() {
      for (const c of clients) c?.close();
      agent.destroy();
    },
  };
}
