// The parts' sources that the page imports for the trace's kinds and sentences (part6-availability's
// trace.ts, its store's trace.ts and kv/commands.ts and the files whose types
// they name) mention three Node globals in code the page never runs: Buffer.byteLength (checking
// a client's request) and setImmediate with clearImmediate (the simulated clock queues its steps
// with arguments and clears those a run does not use). Declared here, as narrowly as those files
// use them, so the page's typecheck reads them without Node's types (which would let page code
// use Node's APIs).
declare const Buffer: { byteLength(text: string): number };
declare function setImmediate<A extends unknown[]>(
  callback: (...args: A) => void,
  ...args: A
): unknown;
declare function clearImmediate(immediate: unknown): void;
