// The commands that replay one test under one seed, as a failure prints them. Kept apart from
// harness.ts, which needs the test runner, so the seed sweep can print them too.

import path from "node:path";

const partDir = path.resolve(import.meta.dirname, "..");
const partName = path.basename(partDir);
const repoRoot = path.resolve(partDir, "..");

/** A test: its full name as vitest prints it (" > " between names), its file from the repo root. */
export interface TestId {
  name: string;
  file: string;
}

/** The seed and the two commands that replay a test: as is, and traced with its timeline. */
export function replayHelp(test: TestId, seed: number): string {
  return `\n  seed ${seed}\n  replay:   ${replayCommand(test, seed)}\n  timeline: ${renderCommand(test, seed)}\n`;
}

export function replayCommand(test: TestId, seed: number): string {
  const file = path.relative(partDir, path.resolve(repoRoot, test.file));
  return `RAFT_SEED=${seed} pnpm --filter ${partName} exec vitest run ${file} -t ${shellQuote(exactName(test.name))}`;
}

export function renderCommand(test: { name: string }, seed: number): string {
  return `./dotest.sh ${partName} ${shellQuote(exactName(test.name))} ${seed}`;
}

/**
 * A vitest -t pattern (a regular expression) that matches exactly this test. vitest matches it
 * against the describe and test names joined by spaces, where currentTestName joins them by " > ".
 */
function exactName(testName: string): string {
  const spaced = testName.split(" > ").join(" ");
  return `^${spaced.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
