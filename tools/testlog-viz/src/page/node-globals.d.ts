// The parts' sources that the page imports for the trace's kinds and sentences (part4-kv's
// trace.ts and kv/commands.ts, part3's trace.ts and the files whose types it names) mention two
// Node globals in code the page never runs: Buffer.byteLength (checking a client's request) and
// setImmediate (the simulated clock). Declared here, as narrowly as those files use them, so the
// page's typecheck reads them without Node's types (which would let page code use Node's APIs).
declare const Buffer: { byteLength(text: string): number };
declare function setImmediate(callback: () => void): unknown;
