/** Small validators shared by the models' JSON decoders; each throws an Error saying what is wrong. */

export type Json = Record<string, unknown>;

export function object(json: unknown, what: string): Json {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${what} must be a JSON object, got ${JSON.stringify(json)}`);
  }
  return json as Json;
}

export function string(obj: Json, field: string): string {
  const v = obj[field];
  if (typeof v !== "string")
    throw new Error(`"${field}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function boolean(obj: Json, field: string): boolean {
  const v = obj[field];
  if (typeof v !== "boolean") {
    throw new Error(`"${field}" must be true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

export type Scalar = string | number | null;

export function scalar(obj: Json, field: string): Scalar {
  const v = obj[field];
  if (v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v)))
    return v;
  throw new Error(`"${field}" must be a string, a number or null, got ${JSON.stringify(v)}`);
}

export function nullableString(obj: Json, field: string): string | null {
  return obj[field] === null ? null : string(obj, field);
}

/** The "op" field, checked against the operations a model knows. */
export function opName<T extends string>(obj: Json, known: readonly T[]): T {
  const op = obj.op;
  if (typeof op === "string" && (known as readonly string[]).includes(op)) return op as T;
  throw new Error(`"op" must be one of ${known.join(", ")}, got ${JSON.stringify(op)}`);
}

/** Display a value the way a human reads it in a message: strings quoted, null as "nil". */
export function show(v: Scalar): string {
  return v === null ? "nil" : JSON.stringify(v);
}
