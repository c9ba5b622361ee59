// The mutants a part defines in scripts/mutants.ts (`const MUTANTS`: find/replace edits of
// src/raft.ts, or of the file of src/ a mutant names; each a classic Raft bug), read without
// running that script: importing it would run its main(), the whole mutation test. TypeScript's
// parser finds the array and its literal values are read off the syntax tree (a name there may
// stand for a constant of the file's top level that holds a literal: part 6 names one reason
// LIVENESS); anything else is an error that names the file.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export interface Mutant {
  name: string;
  /** The rule it breaks, as the part names it. */
  rule: string;
  find: string;
  replace: string;
  /** The file the edit is made in, from the part's folder; src/raft.ts when not given. */
  file?: string;
  chaosCannotReach?: string;
}

/** The mutants of the part in `partDir`, in the order the part lists them ([] without a script). */
export function readMutants(partDir: string): Mutant[] {
  const file = path.join(partDir, "scripts", "mutants.ts");
  if (!existsSync(file)) return [];
  const source = ts.createSourceFile(
    file,
    readFileSync(file, "utf8"),
    ts.ScriptTarget.ES2022,
    true, // parents set: an error can say where it is
  );
  const initializer = findMutants(source);
  if (initializer === undefined) throw new Error(`${file}: no "const MUTANTS = [...]" found`);
  const value = literal(initializer, { file, constants: constantsOf(source) });
  if (!Array.isArray(value)) throw new Error(`${file}: MUTANTS is not an array`);
  return value.map((m, i) => checked(m, `${file}: MUTANTS[${i}]`));
}

function findMutants(source: ts.SourceFile): ts.Expression | undefined {
  return constantsOf(source).get("MUTANTS");
}

/** The file's top-level constants and what they are initialized with, by name. */
function constantsOf(source: ts.SourceFile): Map<string, ts.Expression> {
  const constants = new Map<string, ts.Expression>();
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    if (!(statement.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (ts.isIdentifier(declaration.name) && declaration.initializer !== undefined) {
        constants.set(declaration.name.text, declaration.initializer);
      }
    }
  }
  return constants;
}

interface Where {
  file: string;
  /** top-level constants a name in MUTANTS may stand for */
  constants: Map<string, ts.Expression>;
}

/**
 * The value of a literal expression: strings (joined with +), numbers, booleans, arrays, objects,
 * and names of the file's top-level constants that hold one of these.
 */
function literal(node: ts.Expression, where: Where): unknown {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (ts.isParenthesizedExpression(node)) return literal(node.expression, where);
  if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
    return literal(node.expression, where);
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = literal(node.left, where);
    const right = literal(node.right, where);
    if (typeof left === "string" && typeof right === "string") return left + right;
  }
  if (ts.isArrayLiteralExpression(node)) return node.elements.map((e) => literal(e, where));
  if (ts.isObjectLiteralExpression(node)) {
    const object: Record<string, unknown> = {};
    for (const property of node.properties) {
      if (!ts.isPropertyAssignment(property)) break;
      const key = property.name;
      if (!(ts.isIdentifier(key) || ts.isStringLiteral(key))) break;
      object[key.text] = literal(property.initializer, where);
    }
    if (Object.keys(object).length === node.properties.length) return object;
  }
  if (ts.isIdentifier(node) && where.constants.has(node.text) && node.text !== "MUTANTS") {
    const { constants } = where;
    const rest = new Map(constants);
    rest.delete(node.text); // a constant defined through itself is not a literal
    return literal(constants.get(node.text)!, { ...where, constants: rest });
  }
  const { line } = ts.getLineAndCharacterOfPosition(node.getSourceFile(), node.getStart());
  throw new Error(
    `${where.file}:${line + 1}: MUTANTS must hold plain literals (or top-level constants that do) to be read at build time`,
  );
}

function checked(value: unknown, where: string): Mutant {
  const m = value as Partial<Mutant> | null;
  const strings = ["name", "rule", "find", "replace"] as const;
  if (m === null || typeof m !== "object" || strings.some((k) => typeof m[k] !== "string")) {
    throw new Error(`${where}: a mutant needs the strings ${strings.join(", ")}`);
  }
  if (m.file !== undefined && (typeof m.file !== "string" || !/^src\/[\w./-]+\.ts$/.test(m.file))) {
    throw new Error(
      `${where}: its file must be a .ts file of the part's src/, got ${JSON.stringify(m.file)}`,
    );
  }
  return m as Mutant;
}

/** The source with the mutant's edit made; its text must occur exactly once, as the parts require. */
export function applyMutant(source: string, mutant: Mutant, file: string): string {
  const at = source.indexOf(mutant.find);
  if (at < 0 || source.indexOf(mutant.find, at + 1) >= 0) {
    throw new Error(
      `mutant ${mutant.name}: its text must occur exactly once in ${file} (it occurs ${at < 0 ? "nowhere" : "more than once"})`,
    );
  }
  return source.slice(0, at) + mutant.replace + source.slice(at + mutant.find.length);
}
