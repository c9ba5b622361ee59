// Nodes running on this machine, as the real-process tests and the benchmark drive them: free
// ports on 127.0.0.1, a wait that is bounded and says what it waited for, a node's /status, and
// the leader a majority agrees on.
//
// Every bound of the real-process tests (each wait here, vitest's timeout of a test) is sized for
// a busy two-core machine and multiplied by one factor, RAFT_REAL_PATIENCE (default 1): on a
// slower machine, RAFT_REAL_PATIENCE=3 gives everything three times as long. A bound is only
// there so that a test that would hang fails instead, saying what it waited for; no test checks
// how fast anything is.

import { type Agent, createServer } from "node:http";
import type { Address } from "../../src/real/addresses.ts";
import { call } from "../../src/real/http.ts";
import type { StorageCounts } from "../../src/real/node.ts";

/** What /status answers (src/real/api.ts). */
export interface Status {
  id: number;
  role: string;
  term: number;
  leader: number | null;
  commitIndex: number;
  lastApplied: number;
  logLength: number;
  keys: number;
  pid: number;
  incarnation: number;
  storage: StorageCounts;
  faults?: { drop: number[] };
}

/** The factor of every bound (above); a positive number. */
export const PATIENCE = patience(process.env.RAFT_REAL_PATIENCE);

function patience(text: string | undefined): number {
  if (text === undefined || text === "") return 1;
  const factor = Number(text);
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new Error(`RAFT_REAL_PATIENCE must be a positive number, got "${text}"`);
  }
  return factor;
}

/**
 * Where this process takes ports for its nodes: a block of its own, below the ports the system
 * hands out when asked for any and for outgoing connections (32768-60999 on Linux). A port the
 * system picked was free a moment ago, but before a node could bind it, a node of a test running
 * in another worker could take the same one: once, under load, a test's n0 found its port taken
 * and the test spoke to the other test's node. So each process claims a block for itself, and
 * within it each port is checked free. The claim is a listening socket on the block's guard port
 * (30000 + the block's number), held until the process ends: two processes cannot listen on one
 * port, and the system frees it when a process dies, even by kill -9. (Blocks chosen by vitest's
 * VITEST_POOL_ID were not enough: a worker kept for the next file keeps its id after vitest has
 * given the id to another worker, and two workers of one run once shared a block.)
 */
const PORT_BLOCK = 400;
const BLOCKS = 25; // 10000-19999
const GUARD_BASE = 30_000;

interface PortBlock {
  /** The block's first port, once claimed. */
  base: Promise<number>;
  /** The next port to try, from the block's first. */
  next: number;
}

/**
 * This process's block, claimed at the first call. It is kept on the global object: vitest may
 * load this module anew for another test file in the same worker, and every copy must take its
 * ports from the one block, one after the other.
 */
function portBlock(): PortBlock {
  const shared = globalThis as { raftPortBlock?: PortBlock };
  // Where in the block to begin: by pid, as the block may have been another process's before.
  shared.raftPortBlock ??= { base: claimBlock(), next: (process.pid * 37) % PORT_BLOCK };
  return shared.raftPortBlock;
}

async function claimBlock(): Promise<number> {
  const first = process.pid % BLOCKS;
  for (let i = 0; i < BLOCKS; i++) {
    const block = (first + i) % BLOCKS;
    const guard = createServer();
    const held = await new Promise<boolean>((resolve) => {
      guard.once("error", () => resolve(false));
      guard.listen(GUARD_BASE + block, "127.0.0.1", () => resolve(true));
    });
    // Unreferenced: it keeps no process alive, and is no handle a test left open.
    if (held) {
      guard.unref();
      return 10_000 + block * PORT_BLOCK;
    }
  }
  throw new Error(
    `every block of ports from 10000 to 19999 is claimed: 127.0.0.1:${GUARD_BASE}-${GUARD_BASE + BLOCKS - 1} are all in use`,
  );
}

/** `count` ports of this process's block that were free on 127.0.0.1 a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const block = portBlock();
  const base = await block.base;
  const ports: number[] = [];
  for (let tried = 0; ports.length < count; tried++) {
    if (tried === PORT_BLOCK) throw new Error(`no ${count} free ports among ${blockName(base)}`);
    const port = base + (block.next++ % PORT_BLOCK);
    if (await isFree(port)) ports.push(port);
  }
  return ports;
}

/**
 * `count` consecutive ports from the one returned, all free on 127.0.0.1 a moment ago, for a
 * command that takes a base port (`pnpm kv:cluster --base-port`). Tries each run of the block once.
 */
export async function freePortRange(count: number): Promise<number> {
  const block = portBlock();
  const base = await block.base;
  for (let tried = 0; tried < PORT_BLOCK; tried += count) {
    let offset = block.next % PORT_BLOCK;
    if (offset + count > PORT_BLOCK) offset = 0; // a run does not wrap round the block's end
    block.next = offset + count;
    const free = await Promise.all(
      Array.from({ length: count }, (_, i) => isFree(base + offset + i)),
    );
    if (free.every(Boolean)) return base + offset;
  }
  throw new Error(`no ${count} consecutive free ports among ${blockName(base)}`);
}

function blockName(base: number): string {
  return `127.0.0.1:${base}-${base + PORT_BLOCK - 1} (this process's block)`;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port where nothing listens on 127.0.0.1 now, for a test that needs a connection refused. It is
 * below the ports the system hands out when asked for any (from 32768 on Linux, 49152 elsewhere):
 * no port that freePorts gives a test running beside it, for a node or a server, can be this one.
 */
export async function quietPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await isFree(port)) return port;
  }
  throw new Error("found no free port from 20000 to 29999 on 127.0.0.1 in 50 tries");
}

/**
 * Polls `probe` every `everyMs` until it returns a value, or fails after `timeoutMs` (times
 * PATIENCE) saying what it waited for.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const bound = timeoutMs * PATIENCE;
  const deadline = Date.now() + bound;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `waited ${bound} ms for ${typeof what === "string" ? what : what()}, in vain`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The node's /status, or undefined if it does not answer within `timeoutMs` (times PATIENCE). */
export async function fetchStatus(
  agent: Agent,
  address: Address,
  timeoutMs = 2000 * PATIENCE,
): Promise<Status | undefined> {
  try {
    const answer = await call(agent, address, "/status", undefined, { timeoutMs, limit: 65536 });
    return answer.status === 200 ? (JSON.parse(answer.body.toString()) as Status) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The leader that a majority of a cluster of `size` follows in its term, from the statuses of the
 * nodes that answered (a paused or cut-off old leader may still believe it leads: it is not
 * followed by a majority, so it is not the one).
 */
export function agreedLeader(statuses: readonly Status[], size: number): number | undefined {
  for (const s of statuses) {
    if (s.role !== "leader") continue;
    const followers = statuses.filter((o) => o.term === s.term && o.leader === s.id).length;
    if (followers * 2 > size) return s.id;
  }
  return undefined;
}
