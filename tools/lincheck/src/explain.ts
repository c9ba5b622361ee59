// The verdict as text, as the command prints it: for a violation, the end of the longest
// linearizable prefix, the operations the model rejects after it, and the one whose response came
// first (where the history breaks). Operations are named #N, as on the page.

import type { CheckResult, PartitionResult } from "./check.ts";
import type { History, Operation } from "./history.ts";
import { replay, stateAfter } from "./replay.ts";

const VERDICT = {
  linearizable: "LINEARIZABLE",
  "not-linearizable": "NOT LINEARIZABLE",
  unknown: "UNKNOWN",
} as const;

/** How many failing partitions, and prefix operations per partition, the text shows. */
const SHOWN_PARTITIONS = 3;
const SHOWN_PREFIX = 3;

function partitionName(p: PartitionResult): string {
  return p.key === null ? "the history" : `key ${JSON.stringify(p.key)}`;
}

export function describeOp(history: History, op: Operation): string {
  const text = history.model.describeOperation(op.input, op.output);
  const line = op.line === undefined ? "" : ` (line ${op.line})`;
  return `#${op.id} client ${op.client}${line}: ${text}`;
}

function explainFailure(history: History, p: PartitionResult): string[] {
  const { model } = history;
  const byId = new Map(p.operations.map((o) => [o.id, o]));
  const steps = replay(model, p.operations, p.order);
  const state = model.describeState(stateAfter(model, p.operations, p.order));
  const lines = [
    `  ${partitionName(p)}: the longest linearizable prefix has ${p.order.length} of ${p.operations.length} operations`,
  ];
  if (steps.length > SHOWN_PREFIX) lines.push("    ...");
  for (const s of steps.slice(-SHOWN_PREFIX)) {
    lines.push(`    ${describeOp(history, s.op)}   => ${model.describeState(s.after)}`);
  }
  lines.push(`  then, in state ${state}, the model rejects every operation that could go next:`);
  for (const id of p.stuck) {
    const mark = id === p.breaker ? "   <- returned first: the history breaks here" : "";
    lines.push(`    ${describeOp(history, byId.get(id)!)}${mark}`);
  }
  return lines;
}

const GAVE_UP = {
  states: "the state budget (--max-states) ran out",
  time: "the time limit (--time-limit) ran out",
} as const;

/** The CLI's text answer: the verdict, the time taken, and why. */
export function explain(history: History, result: CheckResult): string {
  const ops = history.operations.length;
  const count = result.partitions.length;
  const lines = [
    `${history.file}: ${VERDICT[result.verdict]} (${history.model.name} model, ${ops} operations, ` +
      `${count} partition${count === 1 ? "" : "s"}) in ${result.elapsedMs.toFixed(1)} ms`,
  ];
  const failing = result.partitions.filter((p) => p.verdict === "not-linearizable");
  for (const p of failing.slice(0, SHOWN_PARTITIONS)) lines.push(...explainFailure(history, p));
  if (failing.length > SHOWN_PARTITIONS) {
    lines.push(`  (${failing.length - SHOWN_PARTITIONS} more partitions are not linearizable)`);
  }
  for (const p of result.partitions.filter((q) => q.verdict === "unknown")) {
    lines.push(
      `  ${partitionName(p)}: gave up after ${p.explored} states: ${GAVE_UP[p.gaveUp ?? "states"]}`,
    );
  }
  const unchecked = result.partitions.filter((p) => p.verdict === "unchecked").length;
  if (unchecked > 0) {
    lines.push(
      `  ${unchecked} other partition${unchecked === 1 ? " was" : "s were"} not checked: the check stops at the first that is not linearizable (--all checks them all)`,
    );
  }
  if (result.verdict === "linearizable") {
    lines.push("  every partition has a linearization; --html <file> draws it");
  }
  return lines.join("\n");
}
