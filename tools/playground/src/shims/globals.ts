// The Node globals the parts' code uses, for the bundles (esbuild's `inject` puts these in place
// of the free identifiers): setImmediate and clearImmediate are the playground's gate
// (engine/gate.ts), process has an environment of its own (the runner sets RAFT_SEED and
// RAFT_TRACE_DIR in it), and Buffer (browser bundle only) has the one function the parts call,
// byteLength, over UTF-8 as Node's.

export {
  gatedClearImmediate as clearImmediate,
  gatedSetImmediate as setImmediate,
} from "../engine/gate.ts";

export const process = {
  env: {} as Record<string, string | undefined>,
  stderr: { isTTY: false, write: (_text: string) => true },
  stdout: { isTTY: false, write: (_text: string) => true },
};
