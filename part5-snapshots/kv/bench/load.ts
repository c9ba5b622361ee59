// A closed-loop load: `clients` callers, each running one operation at a time, back to back, for
// a fixed time. Only operations started and finished inside the measured window count; a warm-up
// before it opens connections and lets the clients find the leader.

export interface LoadResult {
  clients: number;
  ops: number;
  failed: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** One operation of client `client`, its `n`th; it throws if the operation failed. */
export type Operation = (client: number, n: number) => Promise<void>;

export async function runLoad(
  clients: number,
  op: Operation,
  seconds: number,
  warmupSeconds: number,
): Promise<LoadResult> {
  const start = performance.now();
  const from = start + warmupSeconds * 1000;
  const until = from + seconds * 1000;
  const latencies: number[] = [];
  let failed = 0;
  const caller = async (client: number) => {
    for (let n = 0; performance.now() < until; n++) {
      const began = performance.now();
      let ok = true;
      try {
        await op(client, n);
      } catch {
        ok = false;
      }
      const ended = performance.now();
      if (began < from || ended > until) continue;
      if (ok) latencies.push(ended - began);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, client) => caller(client)));
  latencies.sort((a, b) => a - b);
  return {
    clients,
    ops: latencies.length,
    failed,
    seconds,
    opsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
