// The fixtures (test/fixtures, see its README): real traces of the parts' tests, the hand-made
// election, and the hand-made files of one run of real processes.
import { readdirSync, readFileSync } from "node:fs";
import { mergeTraces } from "../src/merge.ts";
import { buildTimeline } from "../src/model.ts";
import { parseTrace, readEvents } from "../src/trace.ts";

export const fixture = (name: string) =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");

/** The hand-made 3-node election: two leaders in turn, an isolate, lost and cut messages. */
export const handmade = () => realTimeline("handmade-election.jsonl");

/** The hand-made files of one run of real processes (test/fixtures/merged-run), in this order. */
export const MERGED_FILES = ["test.jsonl", "n0.jsonl", "n1.jsonl", "n2.jsonl"];

/** The merged-run files read as the command line reads them, in the order given. */
export const mergedRun = (names: readonly string[] = MERGED_FILES) =>
  mergeTraces(
    names.map((name) => ({ source: name, ...readEvents(fixture(`merged-run/${name}`)) })),
    "merged-run",
  );

/** The files of a recorded run of real processes (test/fixtures/kv-run), as the CLI reads them. */
export const KV_RUN_FILES = readdirSync(new URL("fixtures/kv-run/", import.meta.url))
  .filter((name) => name.endsWith(".jsonl"))
  .sort();

/** The recorded kv:cluster run whose leader is SIGKILLed and restarted, merged. */
export const kvRun = () =>
  mergeTraces(
    KV_RUN_FILES.map((name) => ({ source: name, ...readEvents(fixture(`kv-run/${name}`)) })),
    "kv-run",
  );

/** The timeline of a real trace in test/fixtures (see its README). */
export const realTimeline = (name: string) => buildTimeline(parseTrace(fixture(name), name));
