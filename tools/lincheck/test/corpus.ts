import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is tools/lincheck/test/corpus.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The corpus in the repository (see its README); LINCHECK_CORPUS may name another one. */
export const defaultCorpus = join(repoRoot, "tools/lincheck/test/corpus");

/** Missing is an error, never a reason to skip. */
export function corpusDir(): string {
  const dir = process.env.LINCHECK_CORPUS || defaultCorpus;
  if (!existsSync(join(dir, "expected.tsv"))) {
    const from = process.env.LINCHECK_CORPUS ? " (from LINCHECK_CORPUS)" : "";
    throw new Error(`lincheck corpus not found at ${dir}${from}: expected.tsv is missing`);
  }
  return dir;
}

export interface CorpusEntry {
  file: string;
  path: string;
  linearizable: boolean;
}

/** The corpus files and verdicts, as listed in expected.tsv (header line first). */
export function corpusEntries(): CorpusEntry[] {
  const dir = corpusDir();
  const lines = readFileSync(join(dir, "expected.tsv"), "utf8").split("\n").slice(1);
  return lines
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [file, verdict] = l.split("\t");
      if (file === undefined || (verdict !== "true" && verdict !== "false")) {
        throw new Error(`expected.tsv: cannot read line ${JSON.stringify(l)}`);
      }
      return { file, path: join(dir, file), linearizable: verdict === "true" };
    });
}
