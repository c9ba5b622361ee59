// The reference: a 3-member etcd cluster on the same machine, started from the `etcd` on the
// PATH (Debian's etcd-server) with its default timings (heartbeat 100 ms, election 1000 ms) and
// its default durability (the WAL fsync'ed before a write is acknowledged). It is driven over its
// JSON gateway (POST /v3/kv/put and /v3/kv/range, keys and values in base64), HTTP keep-alive, so
// that both stores pay for HTTP and JSON alike. Its reads are linearizable (the default, ReadIndex),
// as ours are; a member that is not the leader serves them too (spread: client n at member n mod 3).

import { execFileSync, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { Agent } from "node:http";
import path from "node:path";
import type { Address } from "../src/real/addresses.ts";
import { call } from "../src/real/http.ts";
import { freePorts, waitFor } from "../test/real/local.ts";
import type { Processes } from "./processes.ts";
import type { Counters, System } from "./system.ts";

const MEMBERS = 3;

/** etcd's version line, or undefined if no `etcd` can be run. */
export function etcdVersion(): string | undefined {
  try {
    const out = execFileSync("etcd", ["--version"], { encoding: "utf8", stdio: "pipe" });
    return out.split("\n")[0]?.replace("etcd Version: ", "etcd ");
  } catch {
    return undefined;
  }
}

export async function startEtcd(
  processes: Processes,
  fail: (why: string) => void,
  spread: boolean,
): Promise<System> {
  const ports = await freePorts(2 * MEMBERS);
  const clients: Address[] = ports.slice(0, MEMBERS).map((port) => ({ host: "127.0.0.1", port }));
  spawnMembers(processes, fail, clients, ports.slice(MEMBERS));
  // The load's connections are kept alive; the status and metrics calls between loads open their
  // own (as ours.ts does), never an idle one the server may be closing.
  const agent = new Agent({ keepAlive: true });
  const control = new Agent({ keepAlive: false });
  const post = async (to: Address, route: string, body: object, via = agent) => {
    const answer = await call(via, to, route, JSON.stringify(body), {
      timeoutMs: 5000,
      limit: 1 << 20,
    });
    if (answer.status !== 200) throw new Error(`etcd ${route}: HTTP ${answer.status}`);
    return JSON.parse(answer.body.toString()) as Record<string, unknown>;
  };
  const status = (to: Address) =>
    post(to, "/v3/maintenance/status", {}, control).catch(() => undefined) as Promise<
      EtcdStatus | undefined
    >;
  const leader = await waitFor(
    "a leader of the etcd cluster",
    async () => {
      const all = await Promise.all(clients.map(status));
      return clients.find(
        (_, i) => all[i] !== undefined && all[i].leader === all[i].header.member_id,
      );
    },
    30_000,
    100,
  );
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  return {
    name: "etcd",
    put: async (_n, key, value) =>
      void (await post(leader, "/v3/kv/put", { key: b64(key), value: b64(value) })),
    get: async (n, key) => {
      const at = spread ? clients[n % MEMBERS]! : leader;
      await post(at, "/v3/kv/range", { key: b64(key) });
    },
    async counters(): Promise<Counters> {
      const metrics = await Promise.all(clients.map((to) => syncsOf(control, to)));
      const head = await status(leader);
      return { syncs: metrics.reduce((a, b) => a + b, 0), committed: Number(head?.raftIndex ?? 0) };
    },
    close() {
      agent.destroy();
      control.destroy();
    },
  };
}

/** Starts the members: member i serves clients on `clients[i]` and its peers on `peerPorts[i]`. */
function spawnMembers(
  processes: Processes,
  fail: (why: string) => void,
  clients: Address[],
  peerPorts: number[],
): void {
  const peerUrl = (i: number) => `http://127.0.0.1:${peerPorts[i]}`;
  const initial = clients.map((_, i) => `e${i}=${peerUrl(i)}`).join(",");
  clients.forEach((address, i) => {
    const url = `http://127.0.0.1:${address.port}`;
    const log = openSync(path.join(processes.dir, `e${i}.log`), "a");
    const args = [
      ["--name", `e${i}`, "--data-dir", path.join(processes.dir, `e${i}`)],
      ["--listen-client-urls", url, "--advertise-client-urls", url],
      ["--listen-peer-urls", peerUrl(i), "--initial-advertise-peer-urls", peerUrl(i)],
      ["--initial-cluster", initial, "--initial-cluster-state", "new"],
      ["--initial-cluster-token", "raft-ts-bench", "--logger", "zap", "--log-level", "warn"],
    ].flat();
    const child = spawn("etcd", args, { stdio: ["ignore", log, log], detached: true });
    processes.add(child, `etcd e${i} (see ${processes.dir}/e${i}.log)`, fail);
  });
}

interface EtcdStatus {
  header: { member_id: string };
  leader: string;
  raftIndex: string;
}

/** A member's disk syncs from its /metrics: WAL fsyncs and backend (bbolt) commits. */
async function syncsOf(agent: Agent, to: Address): Promise<number> {
  const answer = await call(agent, to, "/metrics", undefined, { timeoutMs: 5000, limit: 16 << 20 });
  const text = answer.body.toString();
  const count = (metric: string) =>
    Number(new RegExp(`^${metric}_count (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return (
    count("etcd_disk_wal_fsync_duration_seconds") +
    count("etcd_disk_backend_commit_duration_seconds")
  );
}
