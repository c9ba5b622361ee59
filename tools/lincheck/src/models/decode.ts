/** Small validators shared by the models' JSON decoders; each throws an Error saying what is wrong. */

export type Json = Record<string, unknown>;

export function object(json: unknown, what: string): Json {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${what} must be a JSON object, got ${JSON.stringify(json)}`);
  }
  return json as Json;
}

/** The field's value; a field that is not there is named as missing, not as being of a wrong type. */
function present(obj: Json, field: string): unknown {
  if (!Object.hasOwn(obj, field)) throw new Error(`"${field}" is missing`);
  return obj[field];
}

export function string(obj: Json, field: string): string {
  const v = present(obj, field);
  if (typeof v !== "string")
    throw new Error(`"${field}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function boolean(obj: Json, field: string): boolean {
  const v = present(obj, field);
  if (typeof v !== "boolean") {
    throw new Error(`"${field}" must be true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

export type Scalar = string | number | null;

export function scalar(obj: Json, field: string): Scalar {
  const v = present(obj, field);
  if (v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v)))
    return v;
  throw new Error(`"${field}" must be a string, a number or null, got ${JSON.stringify(v)}`);
}

export function nullableString(obj: Json, field: string): string | null {
  return present(obj, field) === null ? null : string(obj, field);
}

/** The "op" field, checked against the operations a model knows. */
export function opName<T extends string>(obj: Json, known: readonly T[]): T {
  const op = present(obj, "op");
  if (typeof op === "string" && (known as readonly string[]).includes(op)) return op as T;
  throw new Error(`"op" must be one of ${known.join(", ")}, got ${JSON.stringify(op)}`);
}

/** Display a value the way a human reads it in a message: strings quoted, null as "nil". */
export function show(v: Scalar): string {
  return v === null ? "nil" : JSON.stringify(v);
}

/**
 * The output of an operation of the shipped models, which returns a value (a read), whether it
 * swapped (a cas), or nothing: what `returns` says it returns.
 */
export function result<V>(
  json: unknown,
  returns: "value" | "ok" | "nothing",
  value: (obj: Json, field: string) => V,
): { value?: V; ok?: boolean } {
  const obj = object(json, "output");
  if (returns === "value") return { value: value(obj, "value") };
  if (returns === "ok") return { ok: boolean(obj, "ok") };
  return {};
}
