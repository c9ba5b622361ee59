// Runs around every test file: after the file, no cluster may leave virtual timers behind, and
// this part's code may not leave real handles (timers, sockets) open. The consensus code never
// touches real time, so any such handle is a leak. why-is-node-running records where each handle
// was created; handles created by the test runner itself (it keeps its own timers) are not ours
// and are left out.

import path from "node:path";
import { afterAll, expect } from "vitest";
import whyIsNodeRunning from "why-is-node-running";
import { startedClusters } from "./harness.ts";

const partDir = path.resolve(import.meta.dirname, "..");

afterAll(async () => {
  for (const cluster of startedClusters) await cluster.shutdown();
  const leakedTimers = startedClusters
    .filter((cluster) => cluster.clock.pendingTimers() > 0)
    .map((cluster) => `seed ${cluster.seed}: ${cluster.clock.pendingTimers()} virtual timers`);
  expect(leakedTimers, "virtual timers still pending after shutdown").toEqual([]);
  const leaked = handlesCreatedByThisPart();
  if (leaked.length > 0) console.error(leaked.join("\n\n"));
  expect(leaked.length, "real handles left open by this part's code (where, above)").toBe(0);
});

/** why-is-node-running's report, one block per open handle, kept if this part created it. */
function handlesCreatedByThisPart(): string[] {
  const lines: string[] = [];
  whyIsNodeRunning({ error: (line: unknown) => lines.push(String(line)) });
  const blocks: string[][] = [];
  for (const line of lines) {
    if (line.startsWith("# ")) blocks.push([line]);
    else if (line !== "") blocks.at(-1)?.push(line);
  }
  const ours = (line: string) => {
    const location = /^(\S+):\d+/.exec(line); // "file:line - source"; some handles have no stack
    if (location === null) return false;
    const file = path.resolve(location[1]!);
    return file.startsWith(partDir) && !file.includes("node_modules") && !file.endsWith("setup.ts");
  };
  return blocks.filter((block) => block.slice(1).some(ours)).map((block) => block.join("\n"));
}
