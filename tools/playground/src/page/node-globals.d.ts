// The page's typecheck runs without Node's types (so that page code cannot use Node's APIs), yet
// it reads the parts' sources and the engine's, which mention a few Node globals in code that
// runs in the part's bundle, where shims/globals.ts provides them: testlog-viz's declarations
// (Buffer.byteLength, setImmediate, clearImmediate) and the environment the engine sets for a
// test's harness.
/// <reference path="../../../testlog-viz/src/page/node-globals.d.ts" />
declare const process: { env: Record<string, string | undefined> };
