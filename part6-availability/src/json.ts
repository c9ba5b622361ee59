// Commands travel to the other servers inside AppendEntries, encoded as JSON, as a real
// transport sends them. JSON.stringify does not refuse everything it cannot carry: it drops
// `undefined` and functions from objects, turns NaN into null and a Date into a string, and a
// Map into {}. A follower would then apply something other than what the client submitted, so
// `submit` refuses such a command up front, with the reason.

/** Why `value` would not come back unchanged from JSON, or undefined if it would. */
export function jsonProblem(value: unknown, path = "the command"): string | undefined {
  return problemAt(value, path, new Set());
}

function problemAt(value: unknown, path: string, open: Set<object>): string | undefined {
  if (typeof value !== "object" || value === null) return scalarProblem(value, path);
  if (open.has(value)) return `${path} contains itself, which JSON cannot carry`;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    const name = value.constructor?.name ?? "non-plain";
    return `${path} is a ${name} object, which JSON would not bring back as it is`;
  }
  if (Object.getOwnPropertySymbols(value).length > 0) {
    return `${path} has symbol keys, which JSON drops`;
  }
  open.add(value);
  const found = Array.isArray(value)
    ? arrayProblem(value, path, open)
    : firstProblem(
        Object.entries(value).map(([k, v]) => [`${path}.${k}`, v]),
        open,
      );
  open.delete(value);
  return found;
}

function scalarProblem(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot carry`;
  }
  const what = value === undefined ? "undefined" : `a ${typeof value}`;
  return `${path} is ${what}, which JSON cannot carry`;
}

function arrayProblem(array: unknown[], path: string, open: Set<object>): string | undefined {
  for (let i = 0; i < array.length; i++) {
    if (!(i in array)) return `${path}[${i}] is a hole, which JSON turns into null`;
  }
  return firstProblem(
    array.map((v, i) => [`${path}[${i}]`, v]),
    open,
  );
}

function firstProblem(fields: [string, unknown][], open: Set<object>): string | undefined {
  for (const [path, value] of fields) {
    const found = problemAt(value, path, open);
    if (found !== undefined) return found;
  }
  return undefined;
}
