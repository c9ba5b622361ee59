// Goal: what a message or a save becomes on the simulated wire (src/sim/wire.ts) is exactly what
// decoding its JSON text gives back, and its size is exactly the text's, for plain data copied
// directly and for everything JSON changes on the way. Method: compare with JSON.parse and
// JSON.stringify on values of every kind.

import { describe, expect, test } from "vitest";
import { copyDecoded, encodeDecode } from "../src/sim/wire.ts";

/** What the text's way gives, as a value and a size. */
function viaText(value: unknown): { copy: unknown; bytes: number } {
  const text = JSON.stringify(value);
  return { copy: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

/** The same as JSON, key order included, and the same size. */
function expectAsJson(value: unknown): void {
  const got = encodeDecode(value);
  const want = viaText(value);
  expect(got.bytes).toBe(want.bytes);
  expect(JSON.stringify(got.copy)).toBe(JSON.stringify(want.copy));
  expect(got.copy).toStrictEqual(want.copy);
}

class Point {
  x = 1;
  y = 2;
}

describe("a value on the wire", () => {
  test("plain data: the same value, a copy, and the size of its text", () => {
    const entries = [
      { term: 1, command: "x" },
      { term: 2, command: { op: "put", key: "k", value: "v", id: [3, 4] } },
    ];
    const args = {
      term: 2,
      leaderId: 0,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries,
      leaderCommit: 0,
    };
    expectAsJson(args);
    const { copy } = encodeDecode(args) as { copy: typeof args };
    expect(copy).not.toBe(args);
    expect(copy.entries).not.toBe(entries);
    expect(copy.entries[1]!.command).not.toBe(entries[1]!.command);
  });

  test("numbers, strings and keys of every kind are counted as the text writes them", () => {
    for (const n of [
      0,
      -0,
      7,
      -7,
      10,
      99,
      100,
      123456789,
      1 - 2 ** 53,
      2 ** 60,
      0.1,
      -1.5e-7,
      1e21,
    ]) {
      expectAsJson({ n });
    }
    for (const s of [
      "",
      "plain",
      'quote"',
      "back\\slash",
      "tab\t",
      "\u0001",
      "é",
      "日本",
      "😀",
      "\ud800",
      "\u007f",
    ]) {
      expectAsJson([s, { [s]: s }]);
    }
    expectAsJson({ 2: "b", 1: "a", z: [], y: {}, x: [null, true, false] });
    expect(encodeDecode(-0).copy).toBe(0);
  });

  test("what JSON changes on the way is changed the same way", () => {
    const values: unknown[] = [
      { a: undefined, b: () => 1, c: Symbol("s"), d: 1 },
      [undefined, () => 1, Symbol("s")],
      // biome-ignore lint/suspicious/noSparseArray: a hole is the point
      [1, , 3],
      { n: Number.NaN, i: Number.POSITIVE_INFINITY },
      { when: new Date(0) },
      { point: new Point() },
      { map: new Map([[1, 2]]), set: new Set([1]) },
      { custom: { toJSON: () => "custom" } },
      { hidden: Object.defineProperty({ a: 1 }, "toJSON", { value: () => "hidden" }) },
      { boxed: [new String("s"), new Number(1), new Boolean(false)] },
      Object.create(null, { k: { value: 1, enumerable: true } }),
      JSON.parse('{"__proto__": {"x": 1}}'),
    ];
    for (const value of values) expectAsJson(value);
    let deep: unknown = "bottom";
    for (let i = 0; i < 100; i++) deep = { deeper: [deep] };
    expectAsJson(deep);
  });

  test("a property added to Object.prototype is not carried, as JSON does not write it", () => {
    // The direct copy walks keys with for-in, which would list it.
    Object.defineProperty(Object.prototype, "inherited", {
      value: 1,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    try {
      expectAsJson({ term: 1, entries: [{ term: 1, command: "x" }] });
    } finally {
      delete (Object.prototype as Record<string, unknown>).inherited;
    }
  });

  test("what JSON cannot carry throws as JSON does", () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => encodeDecode(loop)).toThrow(TypeError);
    expect(() => encodeDecode({ big: 1n })).toThrow(TypeError);
    expect(() => encodeDecode(undefined)).toThrow(SyntaxError);
  });

  test("a decoded value copies to an equal value that shares nothing with it", () => {
    const decoded = JSON.parse('{"a": [1, {"b": "c"}], "__proto__": {"d": null}}') as {
      a: [number, { b: string }];
    };
    const copy = copyDecoded(decoded);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(decoded));
    expect(copy.a).not.toBe(decoded.a);
    expect(copy.a[1]).not.toBe(decoded.a[1]);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});
