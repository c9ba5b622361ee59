/**
 * lincheck's library API, for programs that check their own histories (part4-kv does): build a
 * history with historyFrom (or read a file with readHistory), check it, and explain or draw the
 * result. What is exported here stays as it is; the README describes it.
 */
export {
  type CheckOptions,
  type CheckResult,
  check,
  DEFAULT_MAX_STATES,
  type PartitionResult,
  type PartitionVerdict,
  partialLinearizations,
  type Verdict,
} from "./check.ts";
export { explain } from "./explain.ts";
export {
  type History,
  HistoryError,
  historyFrom,
  type Operation,
  type Recorded,
} from "./history.ts";
export type { Model, StepResult } from "./model.ts";
export { type KvInput, type KvOutput, type KvState, kvModel } from "./models/kv.ts";
export {
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
  registerModel,
} from "./models/register.ts";
export { type Format, formats, parseHistory, readHistory } from "./parse/index.ts";
export { type PageOptions, renderHtml } from "./view/html.ts";
