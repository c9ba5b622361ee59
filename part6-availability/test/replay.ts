// The commands that replay one test under one seed, as a failure prints them. Kept apart from
// harness.ts, which needs the test runner, so the seed sweep can print them too. A later part
// that imports these helpers is named in its own commands: the package is the one that holds
// the test file, found from the file's path.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** The repository's root: the folder above the packages. */
export const repoRoot = path.resolve(import.meta.dirname, "../..");

/** A test: its full name as vitest prints it (" > " between names), its file from the repo root. */
export interface TestId {
  name: string;
  file: string;
}

/** A package of the repository: its folder and its name (what `pnpm --filter` takes). */
export interface PackageId {
  dir: string;
  name: string;
}

const packages = new Map<string, PackageId>();

/** The package that holds `file` (absolute, or from the repository root): the nearest package.json up. */
export function packageOf(file: string): PackageId {
  const start = path.dirname(path.resolve(repoRoot, file));
  const known = packages.get(start);
  if (known !== undefined) return known;
  for (let dir = start; dir.startsWith(repoRoot); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name: string };
    packages.set(start, { dir, name });
    return { dir, name };
  }
  throw new Error(`no package.json above ${file} inside ${repoRoot}`);
}

/** The seed and the two commands that replay a test: as is, and traced with its timeline. */
export function replayHelp(test: TestId, seed: number): string {
  return `\n  seed ${seed}\n  replay:   ${replayCommand(test, seed)}\n  timeline: ${renderCommand(test, seed)}\n`;
}

export function replayCommand(test: TestId, seed: number): string {
  const pkg = packageOf(test.file);
  const file = path.relative(pkg.dir, path.resolve(repoRoot, test.file));
  return `RAFT_SEED=${seed} pnpm --filter ${pkg.name} exec vitest run ${file} -t ${shellQuote(exactName(test.name))}`;
}

export function renderCommand(test: TestId, seed: number): string {
  return `./dotest.sh ${packageOf(test.file).name} ${shellQuote(exactName(test.name))} ${seed}`;
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
