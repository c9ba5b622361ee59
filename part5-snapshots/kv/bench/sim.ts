// The simulated store's speed: how many client operations a 3-node KvSimCluster carries per second
// of wall time (and per simulated second), with everything the tests have switched on: the safety
// and conformance checks on every event, the trace, and the history lincheck would check.

import { KvSimCluster } from "../src/sim/kv-cluster.ts";

export interface SimResult {
  clients: number;
  ops: number;
  virtualSeconds: number;
  wallSeconds: number;
}

export async function simulated(clients: number, virtualSeconds: number): Promise<SimResult> {
  const cluster = new KvSimCluster(3, { seed: 1 });
  cluster.startNodes();
  const until = cluster.clock.now() + virtualSeconds * 1000;
  let ops = 0;
  const run = async (c: number) => {
    const client = cluster.client(`c${c}`);
    for (let n = 0; cluster.clock.now() < until; n++) {
      await client.put(`k${c}-${n % 100}`, `v${n}`);
      ops++;
    }
  };
  const started = performance.now();
  const runs = Array.from({ length: clients }, (_, c) => run(c));
  await cluster.settle(Promise.all(runs), virtualSeconds * 1000 + 60_000);
  const wallSeconds = (performance.now() - started) / 1000;
  return { clients, ops, virtualSeconds, wallSeconds };
}
