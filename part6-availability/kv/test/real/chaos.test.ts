// Goal: under every fault the real processes meet at once (a node killed and restarted, paused and
// resumed, cut off from its peers and healed; part 6: stopped cleanly, a leader handing over
// first, and leadership transferred, thesis §3.10), clients that read, write, append, compare-and-swap
// and delete concurrently see a store that a single copy could have been: lincheck must accept the
// whole recorded history, the verdict this test ends with. Method: a real 3-node cluster; four
// clients in this process on three keys, each running operations one after another until the
// faults are over; eleven faults drawn from a seed (RAFT_SEED, else a fresh one, printed on
// failure): every kind at least twice, every other one on the leader, held until the others have
// elected a new one; one node impaired at a time, so that a majority can always go on; at the end
// one more client reads every key. That the run did its work is checked too, from the nodes'
// traces: leaders that took over, restarted nodes, operations completed while a fault lasted.
// Real time decides the rest, so a seed replays the schedule, not the run.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { SeededRandom } from "part6-availability/random";
import { expect, onTestFailed, test } from "vitest";
import { ClientError } from "../../src/kv/client.ts";
import type { RealClient } from "../../src/real/client.ts";
import { freshSeed } from "../../src/real/clock.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

const KEYS = ["x", "y", "z"];
/** Every kind of fault, most at least twice: eleven in all, in an order the seed draws. */
const FAULTS = [
  ...["kill", "kill", "kill", "pause", "pause", "pause", "cut", "cut"],
  ...["stop", "transfer", "transfer"], // part 6: a clean stop (the leader hands over), a transfer
] as const;
/** A bound on each client's operations, should the faults take far longer than they should. */
const MAX_OPERATIONS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the run did, as the test sees it. */
interface Run {
  faults: string[];
  /** Whether a fault is in effect now. */
  impaired: boolean;
  /** Operations that completed while a fault was in effect. */
  duringFaults: number;
}

/**
 * One client's operations until `done()`: a random mix, values unique to the client, a pause of a
 * few milliseconds between two (so that the operations spread over the whole run of faults).
 */
async function work(
  client: RealClient,
  random: SeededRandom,
  run: Run,
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
      if (run.impaired) run.duringFaults++;
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
    }
    await sleep(random.int(5, 30));
  }
  return succeeded;
}

/**
 * The faults, one at a time, each undone before the next. A fault on the leader lasts until the
 * others have a new one (a failover, every time); one on a follower a few hundred milliseconds.
 */
async function inflict(cluster: RealCluster, random: SeededRandom, run: Run): Promise<void> {
  const order: string[] = [...FAULTS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const [step, action] of order.entries()) {
    const leader = await cluster.leader();
    const victim = step % 2 === 0 ? leader : random.int(0, cluster.ids.length - 1);
    run.faults.push(`${action} n${victim}${victim === leader ? " (the leader)" : ""}`);
    run.impaired = true;
    if (action === "kill") await cluster.kill(victim);
    else if (action === "stop") await cluster.stopNode(victim);
    else if (action === "pause") cluster.pause(victim);
    else if (action === "transfer") {
      // From the leader to the victim, or, the victim leading, to one of the others.
      const others = cluster.ids.filter((id) => id !== leader);
      await cluster.transfer(leader, victim === leader ? others[random.int(0, 1)]! : victim);
    } else await cluster.cut(victim);
    if (victim === leader) await cluster.leader(cluster.ids.filter((id) => id !== victim));
    await sleep(random.int(100, 300));
    if (action === "kill" || action === "stop") await cluster.restart(victim);
    else if (action === "pause") cluster.resume(victim);
    else if (action === "cut") await cluster.heal(victim);
    run.impaired = false;
    await sleep(random.int(50, 200));
  }
}

/** Every event of the nodes' trace files (one per start of a node) in the run's folder. */
function nodeEvents(
  folder: string,
): { node: number; term: number; kind: string; details: { to?: string } }[] {
  return readdirSync(folder)
    .filter((name) => /^n\d+-i\d+\.jsonl$/.test(name))
    .flatMap((name) => readFileSync(path.join(folder, name), "utf8").trim().split("\n"))
    .map((line) => JSON.parse(line));
}

describeReal("real nodes: randomized faults", () => {
  test("kills, stops, restarts, pauses, cut-offs and transfers under concurrent clients: lincheck accepts the history", async (ctx) => {
    const raw = process.env.RAFT_SEED;
    const seed = raw === undefined || raw === "" ? freshSeed() : Number(raw);
    onTestFailed(() =>
      console.error(`fault schedule seed ${seed}: RAFT_SEED=${seed} replays the schedule`),
    );
    const random = new SeededRandom(seed);
    // Elections twice as quick as the other tests': a failover sooner, the faults closer together.
    const quick = ["--election-timeout", "150-300", "--heartbeat", "50", "--rpc-timeout", "200"];
    const cluster = await RealCluster.start(ctx, { nodes: 3, seed, flags: quick });
    const run: Run = { faults: [], impaired: false, duringFaults: 0 };
    let over = false;
    // Two patient clients that ride out most faults, two hasty ones that often give up: their
    // operations end with "may have taken effect", which lincheck must place or leave out.
    const clients = [
      cluster.client("a", { deadlineMs: 5000 }),
      cluster.client("b", { deadlineMs: 5000 }),
      cluster.client("c", { deadlineMs: 800, attemptTimeoutMs: 300 }),
      cluster.client("d", { deadlineMs: 800, attemptTimeoutMs: 300 }),
    ];
    const working = clients.map((client) => work(client, random.fork(), run, () => over));
    await inflict(cluster, random.fork(), run);
    over = true;
    const succeeded = (await Promise.all(working)).reduce((a, b) => a + b, 0);
    const reader = cluster.client("reader", { deadlineMs: 30_000 });
    for (const key of KEYS) await reader.get(key);
    cluster.harness("note", {
      text: `faults: ${run.faults.join(", ")}; ${succeeded} operations succeeded`,
    });

    // The run did what it is for: every fault on the leader ended its leadership, every kill was
    // followed by a start on the same data, and the store served while faults were in effect.
    const events = nodeEvents(cluster.runFolder);
    const leaderships = new Set(
      events
        .filter((e) => e.kind === "role" && e.details.to === "leader")
        .map((e) => `${e.node}@${e.term}`),
    );
    expect(leaderships.size, "leaders: the first and one per failover").toBeGreaterThanOrEqual(5);
    const starts = events.filter((e) => e.kind === "process.start").length;
    expect(starts, "node starts: three, and one per kill or stop").toBe(3 + 3 + 1);
    expect(run.duringFaults, "operations completed while a fault was in effect").toBeGreaterThan(0);
    // Part 6: the two transfers happened by TimeoutNow (§3.10), not by an election timeout.
    const byTimeoutNow = events.filter(
      (e) =>
        e.kind === "role" &&
        e.details.to === "candidate" &&
        /^TimeoutNow/.test((e.details as { reason?: string }).reason ?? ""),
    );
    expect(byTimeoutNow.length, "candidacies on a TimeoutNow").toBeGreaterThanOrEqual(2);
    await cluster.expectLinearizable();
  });
});
