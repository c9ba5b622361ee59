import { describe, expect, it } from "vitest";
import { check, type PartitionResult } from "../src/check.ts";
import type { Model } from "../src/model.ts";
import { readHistory } from "../src/parse/index.ts";
import { replay, stateAfter } from "../src/replay.ts";
import { corpusEntries } from "./corpus.ts";

const entries = corpusEntries();

/** The evidence of a failure holds up: a legal prefix, then nothing the model accepts. */
function expectEvidence(model: Model, p: PartitionResult): void {
  for (const step of replay(model, p.operations, p.order)) {
    expect(model.step(step.before, step.op.input, step.op.output).ok).toBe(true);
  }
  const state = stateAfter(model, p.operations, p.order);
  expect(p.stuck.length).toBeGreaterThan(0);
  for (const id of p.stuck) {
    const op = p.operations.find((o) => o.id === id)!;
    expect(p.order).not.toContain(id);
    expect(model.step(state, op.input, op.output).ok).toBe(false);
  }
  expect(p.stuck).toContain(p.breaker);
}

describe("the corpus", () => {
  it("has the files expected.tsv lists, of both verdicts", () => {
    expect(entries.length).toBeGreaterThan(100);
    expect(entries.some((e) => e.linearizable)).toBe(true);
    expect(entries.some((e) => !e.linearizable)).toBe(true);
  });

  it.each(entries)("$file gets the verdict expected.tsv lists", ({ path, linearizable }) => {
    const history = readHistory(path);
    const result = check(history.model, history.operations);
    expect(result.verdict).toBe(linearizable ? "linearizable" : "not-linearizable");
    for (const p of result.partitions.filter((q) => q.verdict === "not-linearizable")) {
      expectEvidence(history.model, p);
    }
  });
});
