// What a part's bundle exports beside its runtime: the engine itself, so that the page (and Node,
// with the Node bundle) drives the very Session whose gate the part's code calls.

export {
  type Action,
  ActionError,
  describeAction,
  LinkError,
  type TimedAction,
} from "./actions.ts";
export { downloadText, jsonLines, sha256, traceHash } from "./hash.ts";
export { type Phase, type Runtime, Session } from "./session.ts";
export { DEFAULT_SPEC, fromFragment, type SessionSpec, toFragment } from "./spec.ts";
export type { TraceEventLike } from "./types.ts";

/** A part's bundle, as the page and Node load it. */
export type Engine = typeof import("./api.ts") & {
  runtime: Promise<import("./session.ts").Runtime>;
};
