// The history of a run's client operations, as lincheck reads it (tools/lincheck): each with its
// invocation and completion time and what the client saw. An operation that failed definitely
// never happened and is left out; one that failed indefinitely has no completion, which lincheck
// reads as "took effect at any point after its invocation, or never". The check then says whether
// some order of the operations, each at a moment between its invocation and its completion, is
// one a single copy of the store could have produced. Both the simulated cluster (src/sim) and the
// real clients of the real-process tests (src/real/client.ts) record into one.

import {
  type CheckResult,
  check,
  historyFrom,
  type KvInput,
  type KvOutput,
  kvModel,
  type Recorded,
  renderHtml,
} from "lincheck";
import type { KvCommand, KvResult } from "./commands.ts";

interface Op {
  record: Recorded<KvInput, KvOutput>;
  /** Left out of the history: it failed definitely, so it never took effect. */
  omitted: boolean;
}

export class History {
  private readonly ops: Op[] = [];

  /** An operation starts; returns its number in this history. */
  begin(client: string, command: KvCommand, at: number): number {
    this.ops.push({ record: { client, call: at, input: command }, omitted: false });
    return this.ops.length - 1;
  }

  end(op: number, at: number, result: KvResult): void {
    const { record } = this.ops[op]!;
    record.return = at;
    record.output = outputOf(record.input, result);
  }

  fail(op: number, definite: boolean): void {
    if (definite) this.ops[op]!.omitted = true;
  }

  records(): Recorded<KvInput, KvOutput>[] {
    return this.ops.filter((op) => !op.omitted).map((op) => op.record);
  }

  get size(): number {
    return this.records().length;
  }

  /**
   * Checks the history; an empty one is trivially linearizable. `html` is lincheck's page of it,
   * which links to the test's timeline page when given that page's href (relative to where the
   * history page is written, URL-encoded).
   */
  check(name: string): {
    result: CheckResult | undefined;
    html: (timeline?: string) => string;
  } {
    const records = this.records();
    if (records.length === 0) return { result: undefined, html: () => "" };
    const history = historyFrom(kvModel, records, name);
    const result = check(kvModel, history.operations);
    return { result, html: (timeline) => renderHtml(history, result, { timeline }) };
  }
}

/**
 * What lincheck's kv model says a client saw: a get's value ("" when absent), a cas's outcome, and
 * for every write the value it replaced (null when absent), which the check holds it to.
 */
function outputOf(input: KvInput, result: KvResult): KvOutput {
  if (input.op === "get") return { value: result.value ?? "" };
  const previous = result.existed ? result.value : null;
  if (input.op === "cas") return { ok: result.ok === true, previous };
  return { previous };
}
