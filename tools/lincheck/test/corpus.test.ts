import { describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import { readHistory } from "../src/parse/index.ts";
import { corpusEntries } from "./corpus.ts";

const entries = corpusEntries();

describe("the shared corpus", () => {
  it("has the files expected.tsv lists, of both verdicts", () => {
    expect(entries.length).toBeGreaterThan(70);
    expect(entries.some((e) => e.linearizable)).toBe(true);
    expect(entries.some((e) => !e.linearizable)).toBe(true);
  });

  it.each(entries)("$file gets the verdict expected.tsv lists", ({ path, linearizable }) => {
    const history = readHistory(path);
    const result = check(history.model, history.operations, { budgetMs: 20_000 });
    expect(result.verdict).toBe(linearizable ? "linearizable" : "not-linearizable");
  });
});
