// The one place where the playground meets the parts' virtual time. A part's VirtualClock
// (src/clock.ts) lets promise continuations settle between two timers by awaiting
// `setImmediate`; a browser has no setImmediate, so the build gives the parts this one instead
// (esbuild's `inject`), and in Node a session puts it in place of the global. Every call is a
// "gate": the simulation stands still there, every continuation queued so far has run, and the
// session that keeps the gate decides when it goes on (at once, after a pause for the chosen
// speed, after the reader's step) and applies the reader's actions first. Gates are counted, so a
// session names the moment of each action by its gate's number, the same in any runtime.

/** Decides what happens at each gate; `resume` lets the simulation go on (once). */
export interface Keeper {
  pass(resume: () => void): void;
}

type Task = () => void;

let keeper: Keeper | null = null;

/** The session whose gates these are, or none (then every gate opens at once). */
export function setKeeper(next: Keeper | null): void {
  keeper = next;
}

/** A task of the runtime's own (a macrotask): runs after every queued promise continuation. */
export const macrotask: (task: Task) => void = runtimeMacrotask();

function runtimeMacrotask(): (task: Task) => void {
  // Node has setImmediate, captured here before a session replaces the global with the gate.
  const native = (globalThis as { setImmediate?: (task: Task) => unknown }).setImmediate;
  if (typeof native === "function") return (task) => void native(task);
  // Browsers: a message to oneself is a task of its own, with none of setTimeout's 4 ms clamp.
  const queue: Task[] = [];
  const channel = new MessageChannel();
  // (typed here as Node's MessagePort, which has no onmessage; this branch runs in browsers only)
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => queue.shift()?.();
  return (task) => {
    queue.push(task);
    channel.port2.postMessage(null);
  };
}

/** What the parts call as `setImmediate` (the clock passes a promise's resolve). */
export function gatedSetImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]) {
  const resume = () => callback(...args);
  if (keeper === null) macrotask(resume);
  else keeper.pass(resume);
  return undefined;
}

/**
 * In Node, without a bundle: makes the global setImmediate the gate, for code imported directly
 * (tsx). Returns what puts the original back.
 */
export function gateGlobalSetImmediate(): () => void {
  const g = globalThis as unknown as { setImmediate: unknown };
  const original = g.setImmediate;
  g.setImmediate = gatedSetImmediate;
  return () => {
    g.setImmediate = original;
  };
}
