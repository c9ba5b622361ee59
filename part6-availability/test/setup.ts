// Runs around every test: after each one, this part's code may not have left real handles
// (timers, sockets) open. The consensus code never touches real time, so any such handle is a
// leak, and the test that leaked it fails by name with its replay command. (Each cluster also
// checks after its test that no virtual timer outlived its shutdown: see harness.ts.)
//
// why-is-node-running records where each handle was created. A handle is ours when the code that
// created it is this part's; the test runner's own (its timers, the file it is still closing
// after a snapshot) are not, even when a test's frame is further down their stack.

import path from "node:path";
import { afterEach } from "vitest";
import whyIsNodeRunning from "why-is-node-running";
import { currentSeed, currentTest } from "./harness.ts";
import { replayHelp } from "./replay.ts";

const partDir = path.resolve(import.meta.dirname, "..");

afterEach(() => {
  const leaked = handlesCreatedByThisPart();
  if (leaked.length === 0) return;
  throw new Error(
    `real handles left open by this part's code:\n\n${leaked.join("\n\n")}\n${replayHelp(currentTest(), currentSeed())}`,
  );
});

/** why-is-node-running's report, one block per open handle (its stack, innermost first), kept if this part created it. */
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
  // A write to stdout or stderr still under way (RAFT_LOG into a file) is not a leak.
  const pendingWrite = (block: string[]) => block[0] === "# WRITEWRAP";
  return blocks
    .filter((block) => !pendingWrite(block) && ours(block[1] ?? ""))
    .map((block) => block.join("\n"));
}
