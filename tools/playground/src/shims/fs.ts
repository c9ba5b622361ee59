// node:fs for the bundles: a folder in memory. The build embeds the files the tests read (the
// part's package.json and test/golden/); what the harness writes (its trace, under
// RAFT_TRACE_DIR) stays here, where the session can read it.

const files = new Map<string, string>();

/** Files the build put in the bundle, by their path under /repo. */
export function embed(embedded: Record<string, string>): void {
  for (const [path, text] of Object.entries(embedded)) files.set(path, text);
}

export function readEmbedded(path: string): string | undefined {
  return files.get(path);
}

/** Everything written under `dir` so far. */
export function writtenUnder(dir: string): Map<string, string> {
  return new Map([...files].filter(([path]) => path.startsWith(`${dir}/`)));
}

export function mkdirSync(_path: string, _options?: unknown): void {}

export function writeFileSync(path: string, data: string | Uint8Array): void {
  files.set(path, typeof data === "string" ? data : new TextDecoder().decode(data));
}

export function existsSync(path: string): boolean {
  return files.has(path);
}

export function readFileSync(path: string, _encoding?: unknown): string {
  const text = files.get(path);
  if (text === undefined) {
    const error = new Error(`ENOENT: the playground has no file ${path}`) as Error & {
      code: string;
    };
    error.code = "ENOENT";
    throw error;
  }
  return text;
}

export default { mkdirSync, writeFileSync, existsSync, readFileSync };
