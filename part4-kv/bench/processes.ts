// The processes and folders a benchmark run starts, and their end: whatever happens (done, an
// error, Ctrl-C), every process group is stopped and waited for, and the run's folder removed.
// Our nodes also stop by themselves should this process die (spawn.ts, --stdin-lifeline).

import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { signalGroup, stopChild } from "../src/real/spawn.ts";

const partDir = path.resolve(import.meta.dirname, "..");

export class Processes {
  /**
   * The run's folder. It is in the part's out/ folder, not the system's temporary one: that may
   * be a tmpfs, where an fsync costs nothing and the numbers would mean little.
   */
  readonly dir: string;
  private readonly children = new Set<ChildProcess>();

  constructor() {
    mkdirSync(path.join(partDir, "out"), { recursive: true });
    this.dir = mkdtempSync(path.join(partDir, "out", "bench-"));
    process.once("exit", () => this.killNow());
  }

  /** Keeps `child` to stop at the end; fails if it exits before then. */
  add(child: ChildProcess, what: string, onEarlyExit: (message: string) => void): ChildProcess {
    this.children.add(child);
    child.once("exit", (code, signal) => {
      if (this.children.delete(child)) onEarlyExit(`${what} exited (${signal ?? code}) early`);
    });
    return child;
  }

  /** Stops every process (SIGTERM, then SIGKILL after 3 s) and removes the folder. */
  async stopAll(): Promise<void> {
    const all = [...this.children];
    this.children.clear();
    await Promise.all(all.map((child) => stopChild(child, 3000)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For a process on its way out: SIGKILL everything, synchronously. */
  private killNow(): void {
    for (const child of this.children) signalGroup(child, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Ctrl-C (it may come twice: from the terminal, and relayed by tsx), SIGTERM or SIGHUP runs
 * `stop` (the clusters' processes first), then ends this process; a second signal does not cut
 * that short.
 */
export function stopOnSignals(stop: () => Promise<unknown>): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping the clusters`);
      void stop().then(() => process.exit(130));
    });
  }
}
