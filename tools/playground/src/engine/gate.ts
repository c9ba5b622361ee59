// The one place where the playground meets the parts' virtual time. A part's VirtualClock
// (src/clock.ts) fires each timer in a `setImmediate` callback of its own, so that every promise
// continuation the timer started has run before the next one; it queues those callbacks a batch
// at a time and clears, with `clearImmediate`, the ones a run ends without using. A browser has
// neither, so the build gives the parts these instead (esbuild's `inject`), and in Node a session
// puts them in place of the globals. Every callback is a "gate": when its turn comes, the
// simulation stands still, every continuation queued so far has run, and the session that keeps
// the gate decides when it opens (at once, after a pause for the chosen speed, after the reader's
// step) and applies the reader's actions first. Gates open one at a time in the order they were
// queued, as Node runs its immediates; a cleared gate never opens. Gates are counted when their
// turn comes (cleared ones are not), so a session names the moment of each action by its gate's
// number, the same in any runtime: one gate for each timer a run fires, and one where it ends.

/** A gate as the parts' code holds it: what their setImmediate returns and clearImmediate takes. */
export class Gate {
  /** Cleared before its turn: it never opens. */
  cleared = false;
  /** Lets the simulation go on: the parts' callback, with its arguments. */
  readonly open: () => void;

  constructor(open: () => void) {
    this.open = open;
  }
}

/** Decides what happens at each gate: `pass` takes each one as it is queued, in order. */
export interface Keeper {
  pass(gate: Gate): void;
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

/** What the parts call as `setImmediate`: queues a gate that runs `callback(...args)` when it opens. */
export function gatedSetImmediate<A extends unknown[]>(
  callback: (...args: A) => void,
  ...args: A
): Gate {
  const gate = new Gate(() => callback(...args));
  if (keeper !== null) keeper.pass(gate);
  else
    macrotask(() => {
      if (!gate.cleared) gate.open();
    });
  return gate;
}

/** What the parts call as `clearImmediate`: the gate, if its turn has not come, never opens. */
export function gatedClearImmediate(gate: unknown): void {
  if (gate instanceof Gate) gate.cleared = true;
}

/**
 * In Node, without a bundle: makes the global setImmediate and clearImmediate the gate's, for
 * code imported directly (tsx). clearImmediate still clears Node's own immediates. Returns what
 * puts the originals back.
 */
export function gateGlobalSetImmediate(): () => void {
  const g = globalThis as unknown as { setImmediate: unknown; clearImmediate: unknown };
  const { setImmediate, clearImmediate } = g;
  g.setImmediate = gatedSetImmediate;
  g.clearImmediate = (handle: unknown) => {
    if (handle instanceof Gate) gatedClearImmediate(handle);
    else (clearImmediate as (handle: unknown) => void)(handle);
  };
  return () => {
    g.setImmediate = setImmediate;
    g.clearImmediate = clearImmediate;
  };
}
