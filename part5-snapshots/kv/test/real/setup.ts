// Runs around every real-process test: once the tests of a file that were running together have
// ended and stopped their clusters, nothing they started may be left open in this process: no
// child process, no socket, no server (the brief: no process, port or temporary folder left
// behind). Tests that run concurrently share the process, so the check waits for the last of them.
// When one of them failed or timed out, nothing is checked: what it left open is a symptom of its
// failure, which its own message explains.

import { beforeEach } from "vitest";

/** Node's names for what the tests open: child processes, TCP connections and servers. */
const WATCHED = new Set(["ProcessWrap", "TCPSocketWrap", "TCPServerWrap", "TCPWRAP"]);

let running = 0;
let failed = false;
/**
 * What was reported open already: not again. The files a worker runs share its process, and this
 * file is run anew for each of them, so the list is kept on the process's global object.
 */
const shared = globalThis as { raftReportedOpen?: string[] };
shared.raftReportedOpen ??= [];

beforeEach((ctx) => {
  running++;
  // Registered before the test starts its clusters, so it runs after they have stopped (a test's
  // onTestFinished callbacks run last registered, first).
  ctx.onTestFinished(async ({ task }) => {
    running--;
    failed ||= task.result?.state === "fail";
    if (running > 0) return;
    const check = !failed;
    failed = false;
    if (check) await expectNothingOpen();
  });
});

async function expectNothingOpen(): Promise<void> {
  // A handle being closed counts as open until its close callback has run, a moment later.
  for (let tries = 0; tries < 50 && newlyOpen().length > 0; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const left = newlyOpen();
  if (left.length === 0) return;
  shared.raftReportedOpen!.push(...left);
  throw new Error(`the tests left open: ${left.join(", ")}`);
}

/** What is open now and was not reported before. */
function newlyOpen(): string[] {
  const open = process.getActiveResourcesInfo().filter((name) => WATCHED.has(name));
  for (const name of shared.raftReportedOpen!) {
    const i = open.indexOf(name);
    if (i >= 0) open.splice(i, 1);
  }
  return open;
}
