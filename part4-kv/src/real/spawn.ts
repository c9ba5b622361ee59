// Starting a node in a process of its own, as `pnpm kv:cluster`, the tests and the benchmark do:
// plain Node on scripts/launch.mjs, which runs `pnpm kv:node`'s code from its bundle, so that the
// node serves within a fraction of a second and a signal reaches the node itself, with no wrapper
// process between (SIGKILL and SIGSTOP must hit the process that holds the data folder).
//
// The child gets its own process group (`detached`): Ctrl-C in the terminal then reaches only the
// supervisor, which stops the nodes in order, and a kill of the group takes everything it started.
// Its standard input is a pipe from the supervisor with --stdin-lifeline: if the supervisor dies,
// even by SIGKILL, the pipe closes and the node stops by itself instead of running on unseen.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import path from "node:path";

const partDir = path.resolve(import.meta.dirname, "../..");
const launcher = path.join(partDir, "scripts", "launch.mjs");

/** Where a node's log lines go: a pipe the parent reads, or a file descriptor it opened. */
export type NodeOutput = "pipe" | number;

/**
 * Brings the bundles up to date now (launch.mjs), so that nodes spawned together do not each
 * build them. Optional: a node whose bundle is stale builds it itself.
 */
export function prepareNodes(): void {
  execFileSync(process.execPath, [launcher, "--build"], { stdio: "inherit", env: nodeEnv() });
}

export function spawnNode(args: readonly string[], output: NodeOutput): ChildProcess {
  return spawn(process.execPath, [launcher, "kv-node", ...args, "--stdin-lifeline"], {
    cwd: partDir,
    stdio: ["pipe", output, output],
    detached: true,
    env: { ...nodeEnv(), FORCE_COLOR: "0" },
  });
}

/**
 * This process's environment without NODE_EXTRA_CA_CERTS: Node 20 reads and parses that file of
 * certificates as it starts (0.1 s of CPU for a system's bundle, several times that on a busy
 * machine), and a node speaks plain HTTP only. An empty value is ignored.
 */
function nodeEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_EXTRA_CA_CERTS: "" };
}

/** Resolves when the process has exited (at once if it has already). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Sends `signal` to the child's whole process group. A group that no longer exists is not an
 * error: the process may have died a moment ago.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Asks the child to stop (SIGTERM); kills it (SIGKILL) if it has not within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  signalGroup(child, "SIGCONT"); // a paused node cannot stop
  signalGroup(child, "SIGTERM");
  const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
  await exited(child);
  clearTimeout(timer);
}
