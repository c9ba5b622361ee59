// Goal: under every fault the real processes meet at once (a node killed and restarted, paused and
// resumed, cut off from its peers and healed), clients that read, write, append, compare-and-swap
// and delete concurrently see a store that a single copy could have been: lincheck must accept the
// whole recorded history. Method: a real 3-node cluster; four clients in this process on three
// keys, each running operations one after another until the faults are over; a schedule of faults
// drawn from a seed (RAFT_SEED, else a fresh one, printed on failure), one node impaired at a
// time so that a majority can always go on; at the end one more client reads every key.
// The history is checked when the test ends (real-cluster.ts). Real time decides the rest, so a
// seed replays the schedule, not the run.

import { SeededRandom } from "part3-persistence/random";
import { expect, onTestFailed, test } from "vitest";
import { ClientError } from "../../src/kv/client.ts";
import type { RealClient } from "../../src/real/client.ts";
import { freshSeed } from "../../src/real/clock.ts";
import { describeReal, RealCluster, useRealClusters } from "./real-cluster.ts";

useRealClusters();

const KEYS = ["x", "y", "z"];
const FAULTS = 8;
/** A bound on each client's operations, should the faults take far longer than they should. */
const MAX_OPERATIONS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One client's operations until `done()`: a random mix, values unique to the client, a pause of a
 * few milliseconds between two (so that the operations spread over the whole run of faults).
 */
async function work(
  client: RealClient,
  random: SeededRandom,
  done: () => boolean,
): Promise<number> {
  const seen = new Map<string, string | null>();
  let succeeded = 0;
  for (let n = 1; n <= MAX_OPERATIONS && !done(); n++) {
    const key = KEYS[random.int(0, KEYS.length - 1)]!;
    const value = `${client.id}${n}`;
    const roll = random.next();
    try {
      if (roll < 0.3) seen.set(key, (await client.get(key)).value);
      else if (roll < 0.5) await client.put(key, value);
      else if (roll < 0.75) await client.append(key, `,${value}`);
      else if (roll < 0.93) await client.cas(key, seen.get(key) ?? null, value);
      else await client.delete(key);
      succeeded++;
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
    }
    await sleep(random.int(5, 30));
  }
  return succeeded;
}

/** The faults, one at a time: each lasts a while, then is undone; the leader is hit half the time. */
async function inflict(cluster: RealCluster, random: SeededRandom): Promise<string[]> {
  const done: string[] = [];
  for (let step = 0; step < FAULTS; step++) {
    const anyNode = random.int(0, cluster.ids.length - 1);
    const victim = random.chance(0.5) ? await cluster.leader().catch(() => anyNode) : anyNode;
    const action = (["kill", "pause", "cut"] as const)[random.int(0, 2)]!;
    done.push(`${action} n${victim}`);
    if (action === "kill") await cluster.kill(victim);
    else if (action === "pause") cluster.pause(victim);
    else await cluster.cut(victim);
    await sleep(random.int(300, 1200));
    if (action === "kill") await cluster.restart(victim);
    else if (action === "pause") cluster.resume(victim);
    else await cluster.heal(victim);
    await sleep(random.int(200, 600));
  }
  return done;
}

describeReal("real nodes: randomized faults", () => {
  test("kills, restarts, pauses and cut-offs under concurrent clients: lincheck accepts the history", async () => {
    const raw = process.env.RAFT_SEED;
    const seed = raw === undefined || raw === "" ? freshSeed() : Number(raw);
    onTestFailed(() =>
      console.error(`fault schedule seed ${seed}: RAFT_SEED=${seed} replays the schedule`),
    );
    const random = new SeededRandom(seed);
    const cluster = await RealCluster.start({ nodes: 3, seed });
    let over = false;
    // Two patient clients that ride out most faults, two hasty ones that often give up: their
    // operations end with "may have taken effect", which lincheck must place or leave out.
    const clients = [
      cluster.client("a", { deadlineMs: 5000 }),
      cluster.client("b", { deadlineMs: 5000 }),
      cluster.client("c", { deadlineMs: 800, attemptTimeoutMs: 300 }),
      cluster.client("d", { deadlineMs: 800, attemptTimeoutMs: 300 }),
    ];
    const working = clients.map((client) => work(client, random.fork(), () => over));
    const faults = await inflict(cluster, random.fork());
    over = true;
    const succeeded = (await Promise.all(working)).reduce((a, b) => a + b, 0);
    const reader = cluster.client("reader", { deadlineMs: 30_000 });
    for (const key of KEYS) await reader.get(key);
    cluster.harness("note", {
      text: `faults: ${faults.join(", ")}; ${succeeded} operations succeeded`,
    });
    expect(succeeded, "no operation succeeded during the faults").toBeGreaterThan(0);
  }, 60_000);
});
