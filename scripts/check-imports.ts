// The shape of the parts, checked (`pnpm check` runs this):
//   1. no import circle in any part's src/, except one that only type-only imports close (they
//      vanish when compiled) and that passes through the part's raft.ts: trace.ts and storage.ts
//      describe the node's types, and the node names theirs;
//   2. no file under a src/ folder imports from a test/ or scripts/ folder, its own or another
//      package's: what a part ships does not stand on its tests;
//   3. a part that builds on another by importing it (part4-kv on part3-persistence) holds no
//      file byte-identical to one of that part's: what it needs it imports, never copies.
// Imports are read with TypeScript's parser; a package's name is resolved through its exports.

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const root = path.resolve(import.meta.dirname, "..");

interface Package {
  name: string;
  dir: string;
  exports: Record<string, string>;
  dependencies: string[];
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

const packages: Package[] = readdirSync(root)
  .filter((dir) => /^part\d+-/.test(dir) && existsSync(path.join(root, dir, "package.json")))
  .map((dir) => {
    const manifest = JSON.parse(readFileSync(path.join(root, dir, "package.json"), "utf8"));
    const exports = typeof manifest.exports === "object" ? manifest.exports : {};
    const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    return { name: manifest.name, dir: path.join(root, dir), exports, dependencies };
  });

/** Every file under `dir` whose name passes `keep`, skipping node_modules and generated output. */
function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return ["node_modules", "out", ".traces"].includes(entry.name) ? [] : filesUnder(full, keep);
    }
    return keep(full) ? [full] : [];
  });
}

/** The file a package's export path maps `subpath` ("./sim/chaos") to, by its longest pattern. */
function resolveExport(pkg: Package, subpath: string): string | undefined {
  let best: { prefix: string; target: string } | undefined;
  for (const [pattern, target] of Object.entries(pkg.exports)) {
    if (pattern === subpath) return path.join(pkg.dir, target);
    const star = pattern.indexOf("*");
    if (star < 0) continue;
    const [prefix, suffix] = [pattern.slice(0, star), pattern.slice(star + 1)];
    if (!subpath.startsWith(prefix) || !subpath.endsWith(suffix)) continue;
    if (best !== undefined && best.prefix.length >= prefix.length) continue;
    const middle = subpath.slice(prefix.length, subpath.length - suffix.length);
    best = { prefix, target: target.replace("*", middle) };
  }
  return best && path.join(pkg.dir, best.target);
}

/** Where an import specifier in `file` leads, if to a file of this repository's parts. */
function resolve(file: string, specifier: string): string | undefined {
  if (specifier.startsWith(".")) return path.resolve(path.dirname(file), specifier);
  const pkg = packages.find((p) => specifier === p.name || specifier.startsWith(`${p.name}/`));
  return pkg && resolveExport(pkg, `.${specifier.slice(pkg.name.length)}`);
}

/** The imports and re-exports of one file, each marked type-only or not. */
function importsOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const edges: Edge[] = [];
  for (const statement of source.statements) {
    let typeOnly: boolean;
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const named = clause?.namedBindings;
      typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined) {
      typeOnly = statement.isTypeOnly;
    } else continue;
    const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
    const to = resolve(file, specifier);
    if (to !== undefined) edges.push({ from: file, to, typeOnly });
  }
  return edges;
}

const rel = (file: string) => path.relative(root, file);
const problems: string[] = [];

// Rules 1 and 2, over every .ts file under a src/ folder of a part.
const sources = packages.flatMap((pkg) =>
  filesUnder(pkg.dir, (f) => f.endsWith(".ts") && rel(f).split(path.sep).includes("src")),
);
const edges = sources.flatMap(importsOf);
for (const { from, to } of edges) {
  const folders = path.relative(root, to).split(path.sep);
  if (folders.includes("test") || folders.includes("scripts")) {
    problems.push(`${rel(from)} imports ${rel(to)}: src/ may not import from test/ or scripts/`);
  }
}
const runtime = edges.filter((e) => !e.typeOnly);
for (const circle of circles(sources, runtime)) {
  problems.push(`import circle: ${circle.map(rel).join(" → ")}`);
}
for (const circle of circles(sources, edges)) {
  const raft = path.join(path.dirname(circle[0]!), "raft.ts");
  const throughRaft =
    circle.includes(raft) && circle.every((f) => path.dirname(f) === path.dirname(raft));
  const runs = circles(circle, runtime).length > 0; // reported above
  if (!throughRaft && !runs) {
    problems.push(`type-only import circle not through raft.ts: ${circle.map(rel).join(" → ")}`);
  }
}

// Rule 3: a part that depends on another holds none of its files byte for byte.
for (const pkg of packages) {
  for (const base of packages.filter((p) => pkg.dependencies.includes(p.name))) {
    const hashes = new Map<string, string>();
    for (const file of filesUnder(base.dir, () => true)) hashes.set(digest(file), file);
    for (const file of filesUnder(pkg.dir, () => true)) {
      const same = hashes.get(digest(file));
      if (same !== undefined) problems.push(`${rel(file)} is a copy of ${rel(same)}: import it`);
    }
  }
}

function digest(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/**
 * The circles of the import graph `all` among `files` (Tarjan's strongly connected components of
 * two or more files), each as one cycle through its files in import order, back to the first.
 */
function circles(files: string[], all: Edge[]): string[][] {
  const next = new Map(
    files.map((f) => [f, all.filter((e) => e.from === f && files.includes(e.to)).map((e) => e.to)]),
  );
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (!next.has(to)) continue;
      if (!index.has(to)) visit(to);
      if (stack.includes(to)) low.set(file, Math.min(low.get(file)!, low.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      component.push(top);
      if (top === file) break;
    }
    if (component.length > 1) found.push(cycleThrough(component, next));
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

/** A cycle through the first (by name) file of a strongly connected component: a path back to it. */
function cycleThrough(component: string[], next: Map<string, string[]>): string[] {
  const start = [...component].sort()[0]!;
  const path: string[] = [start];
  const seen = new Set<string>();
  const walk = (file: string): boolean => {
    for (const to of next.get(file) ?? []) {
      if (to === start) return true;
      if (!component.includes(to) || seen.has(to)) continue;
      seen.add(to);
      path.push(to);
      if (walk(to)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return [...path, start];
}

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-imports: ${sources.length} source files of ${packages.length} parts: no circle, no src/ importing test/ or scripts/, no copy of a part imported`,
);
