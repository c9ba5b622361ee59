// The parts' test files as scenarios: the build lists the files of a part that can run here (and
// why the others cannot), each loaded when the catalog is built; loading declares its tests
// through vitest-shim.ts. A scenario is one test, found by its file and its full name.

import { embed } from "../shims/fs.ts";
import { collect, type DeclaredTest } from "./vitest-shim.ts";

/** What the build gives the bundle about a part's tests. */
export interface TestFiles {
  files: { file: string; load: () => Promise<unknown> }[];
  excluded: { file: string; reason: string }[];
  /** Files the tests read (package.json, test/golden/), by their path under /repo. */
  embedded: Record<string, string>;
}

export interface Catalog {
  files: { file: string; tests: DeclaredTest[] }[];
  excluded: TestFiles["excluded"];
  find(file: string, name: string): DeclaredTest | undefined;
}

/** Loads every test file (in order, one at a time: each declares its tests while it loads). */
export async function loadCatalog(tests: TestFiles): Promise<Catalog> {
  embed(tests.embedded);
  const files: Catalog["files"] = [];
  for (const { file, load } of tests.files) {
    files.push({ file, tests: await collect(file, load) });
  }
  return {
    files,
    excluded: tests.excluded,
    find: (file, name) => files.find((f) => f.file === file)?.tests.find((t) => t.name === name),
  };
}
