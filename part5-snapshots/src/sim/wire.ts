// What a value becomes when it crosses the simulated wire, or goes to the simulated disk: what
// decoding its JSON text gives back, and how many bytes that text takes. `JSON.parse` of
// `JSON.stringify` gives exactly that, but a chaos run sends many thousands of messages, and
// parsing their text again was the largest single cost of a run. Plain data (what Raft's
// messages and log entries are) is copied directly instead, the bytes counted as it goes; any
// value the direct copy does not take on as JSON would (an undefined field, a non-finite number,
// a Date, an instance of a class, a nesting deeper than messages go) takes the text's way.

/** `JSON.parse(JSON.stringify(value))` and the UTF-8 length of the text; throws as they would. */
export function encodeDecode(value: unknown): { copy: unknown; bytes: number } {
  const size = { bytes: 0 };
  const copy = objectsInheritNothing() ? plainCopy(value, 0, size) : notPlain;
  if (copy !== notPlain) return { copy, bytes: size.bytes };
  const text = JSON.stringify(value);
  return { copy: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

/**
 * A copy of a value decoded from JSON (plain objects, arrays, strings, numbers, booleans, null):
 * what decoding the same text again would give, made without parsing it again.
 */
export function copyDecoded<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyDecoded(value[i]);
    return out as T;
  }
  const copy: Record<string, unknown> = {};
  for (const key in value)
    setField(copy, key, copyDecoded((value as Record<string, unknown>)[key]));
  return copy as T;
}

/** What `plainCopy` returns for a value JSON would not carry as it is. */
const notPlain: unique symbol = Symbol("not plain data");

/** Deeper than any message goes: a value this deep (or one that contains itself) takes the text's way. */
const maxDepth = 64;

/**
 * The copy JSON would give of plain data, adding the length of its JSON text to `size.bytes`;
 * `notPlain` for anything else. Keys come in the order `JSON.stringify` writes them (and
 * `JSON.parse` creates them): `Object.keys` order.
 */
function plainCopy(value: unknown, depth: number, size: { bytes: number }): unknown {
  switch (typeof value) {
    case "string":
      size.bytes += stringBytes(value);
      return value;
    case "number":
      if (!Number.isFinite(value)) return notPlain;
      size.bytes += numberBytes(value);
      return value === 0 ? 0 : value; // -0 is written "0"
    case "boolean":
      size.bytes += value ? 4 : 5;
      return value;
    case "object":
      if (value === null) {
        size.bytes += 4;
        return null;
      }
      if (depth >= maxDepth) return notPlain;
      return Array.isArray(value)
        ? arrayCopy(value, depth, size)
        : objectCopy(value as Record<string, unknown>, depth, size);
    default:
      return notPlain; // undefined, a function, a symbol, a bigint
  }
}

function arrayCopy(array: unknown[], depth: number, size: { bytes: number }): unknown {
  if (Object.getPrototypeOf(array) !== Array.prototype) return notPlain;
  const out = new Array(array.length);
  size.bytes += array.length > 0 ? array.length + 1 : 2; // brackets and commas
  for (let i = 0; i < array.length; i++) {
    const item = plainCopy(array[i], depth + 1, size); // a hole reads as undefined: not plain
    if (item === notPlain) return notPlain;
    out[i] = item;
  }
  return out;
}

function objectCopy(
  object: Record<string, unknown>,
  depth: number,
  size: { bytes: number },
): unknown {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return notPlain;
  if (typeof object.toJSON === "function") return notPlain;
  const out: Record<string, unknown> = {};
  // for-in, not Object.keys: the same keys in the same order (objectsInheritNothing), without
  // making an array of them for every object, which cost as much as the copy itself.
  let keys = 0;
  for (const key in object) {
    const item = plainCopy(object[key], depth + 1, size);
    if (item === notPlain) return notPlain;
    size.bytes += stringBytes(key) + 1; // the key and its colon
    setField(out, key, item);
    keys++;
  }
  size.bytes += keys > 0 ? keys + 1 : 2; // braces and commas
  return out;
}

/**
 * Whether a plain object's for-in sees its own keys only: no one has added an enumerable
 * property to Object.prototype (which for-in would list, and JSON would not write).
 */
function objectsInheritNothing(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}

function setField(object: Record<string, unknown>, key: string, value: unknown): void {
  // JSON.parse makes "__proto__" an own key; an assignment would set the prototype instead.
  if (key === "__proto__")
    Object.defineProperty(object, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  else object[key] = value;
}

/** Bytes of a string in JSON: its quotes and its characters, escaped, in UTF-8. */
function stringBytes(text: string): number {
  for (let i = 0; i < text.length; i++) {
    // Printable ASCII but `"` and `\` is one byte, unescaped; anything else takes the text's way.
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      return Buffer.byteLength(JSON.stringify(text));
    }
  }
  return text.length + 2;
}

/** Bytes of a finite number in JSON (what String gives, without making the string for integers). */
function numberBytes(n: number): number {
  // Terms, indices and ids: small whole numbers, counted without a loop.
  if (n >= 0 && n < 1000 && Number.isInteger(n)) return n < 10 ? 1 : n < 100 ? 2 : 3;
  if (!Number.isSafeInteger(n)) return String(n).length;
  let digits = n < 0 ? 2 : 1;
  for (let rest = Math.abs(n); rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}
