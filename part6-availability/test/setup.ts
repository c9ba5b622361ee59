// Runs around every test: after each one, the code of the test's part may not have left real
// handles (timers, sockets, files) open. The consensus code never touches real time, so any such
// handle is a leak, and the test that leaked it fails by name with its replay command. (Each
// cluster also checks after its test that no virtual timer outlived its shutdown: see harness.ts.)
//
// An async hook records where each handle was created, for the whole run; after each test, a
// handle still open counts as a leak when the code that created it (the first frame of its stack
// outside Node itself) is the part's: the test's own package, or this one (a later part imports
// this file). The test runner's own handles (its timers, the file it is still closing after a
// snapshot) are not, even when a test's frame is further down their stack. A test that timed out
// on the wall clock is not checked: what it left open is only what its unfinished body holds.
// (why-is-node-running, which this replaces, turns its hook off at its first report, so it could
// only ever see the handles of the first test of a file.)

import { createHook } from "node:async_hooks";
import path from "node:path";
import { afterEach } from "vitest";
import { currentSeed, currentTest, timedOut } from "./harness.ts";
import { packageOf, replayHelp } from "./replay.ts";

const thisPart = path.resolve(import.meta.dirname, "..");
const thisFile = import.meta.filename;

/**
 * Kinds of resource that hold nothing open: promises, setImmediate (the virtual clock's), and
 * requests some calls make and finish at once (crypto's randomInt).
 */
const IGNORED = new Set([
  "PROMISE",
  "Immediate",
  "TickObject",
  "Microtask",
  "TIMERWRAP",
  "PerformanceObserver",
  "RANDOMBYTESREQUEST",
]);

interface Handle {
  type: string;
  resource: WeakRef<object>;
  stack: string;
}

/**
 * The handles created since the worker started and not yet destroyed or reported. One hook per
 * worker thread: this file runs again for every test file, and the worker keeps its globals.
 */
const worker = globalThis as { raftOpenHandles?: Map<number, Handle> };
worker.raftOpenHandles ??= recordHandles();
const open = worker.raftOpenHandles;

function recordHandles(): Map<number, Handle> {
  const handles = new Map<number, Handle>();
  createHook({
    init(id, type, _trigger, resource: object) {
      if (IGNORED.has(type)) return;
      handles.set(id, { type, resource: new WeakRef(resource), stack: new Error().stack ?? "" });
    },
    destroy(id) {
      handles.delete(id);
    },
  }).enable();
  return handles;
}

afterEach(async (ctx) => {
  // Node tells the hook that a handle is gone (closed, fired, cancelled) a turn of the event loop
  // later: a handle the test closed at its end must not count as open.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  const left = [...open].filter(([, handle]) => isOpen(handle));
  // Each handle is reported once, by the test that left it.
  for (const [id] of left) open.delete(id);
  if (timedOut(ctx.task.result?.errors)) {
    console.error(
      `\n"${ctx.task.name}" did not finish within vitest's wall-clock limit, and its seed cannot replay that:\nthe machine may be far too busy (a longer limit: --testTimeout=<ms>), or the test awaits something that never happens.\n`,
    );
    return;
  }
  const ours = [thisPart, packageOf(ctx.task.file.filepath).dir];
  const leaked = left.map(([, handle]) => handle).filter((handle) => createdBy(handle, ours));
  if (leaked.length === 0) return;
  const report = leaked.map((h) => `# ${h.type}\n${frames(h.stack).join("\n")}`);
  throw new Error(
    `real handles left open by this part's code:\n\n${report.join("\n\n")}\n${replayHelp(currentTest(), currentSeed())}`,
  );
});

/** Whether a handle still holds the process: not collected, fired, cancelled or unref'd. */
function isOpen(handle: Handle): boolean {
  const resource = handle.resource.deref() as
    | { hasRef?: () => boolean; _destroyed?: boolean } // _destroyed: a Timeout's, once it is over
    | undefined;
  if (resource === undefined || resource._destroyed === true) return false;
  return resource.hasRef?.() ?? true;
}

/** Whether the code that created the handle is in one of `dirs` (and not in node_modules). */
function createdBy(handle: Handle, dirs: string[]): boolean {
  const file = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/.exec(frames(handle.stack)[0] ?? "")?.[1];
  if (file === undefined) return false;
  const resolved = path.resolve(file.replace(/^file:\/\//, ""));
  return (
    !resolved.includes("node_modules") && dirs.some((dir) => resolved.startsWith(dir + path.sep))
  );
}

/** The frames of a creation stack after the hook's own and Node's: its creator first. */
function frames(stack: string): string[] {
  return stack
    .split("\n")
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => !line.includes(thisFile) && !/\(?node:/.test(line));
}
