// Where the history page puts each operation's bar (src/view/lanes.ts): one client's operations
// never run into each other, whether the next is invoked at the instant the previous returned, an
// instant later, or while an earlier one is still pending. The browser test looks at the result.

import { describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import type { Operation } from "../src/history.ts";
import { kvModel } from "../src/models/kv.ts";
import { type BarView, lanes } from "../src/view/lanes.ts";
import { layout } from "../src/view/layout.ts";
import { ops, type Row } from "./build.ts";

const get = { op: "get", key: "x" };
const put = (value: string) => ({ op: "put", key: "x", value });

function draw(rows: Row[]) {
  const operations = ops(rows);
  const drawn = lanes(operations, (op: Operation) => ({
    name: `#${op.id}`,
    label: "",
    origin: op.client,
  }));
  const bar = (id: number) =>
    drawn.lanes.flatMap((l) => l.bars).find((b) => b.id === id) as BarView;
  return { ...drawn, bar, right: (id: number) => bar(id).left + bar(id).width };
}

const close = (x: number) => expect.closeTo(x, 9);

describe("the bars of one client's operations", () => {
  it("share the slot where one returns and the next is invoked, apart, on one row", () => {
    const d = draw([
      ["c1", 0, 10, put("a"), {}],
      ["c1", 10, 20, get, { value: "a" }],
      ["c1", 20, 30, get, { value: "a" }],
    ]);
    expect(d.lanes).toHaveLength(1);
    expect(d.lanes[0]!.rows).toBe(1);
    const at10 = d.axis.slot(10);
    expect(d.bar(0).left).toEqual(close(0.15));
    expect(d.right(0)).toEqual(close(at10 + 0.45));
    expect(d.bar(1).left).toEqual(close(at10 + 0.55));
    expect(d.right(1)).toEqual(close(d.axis.slot(20) + 0.45));
    expect(d.lanes[0]!.bars.map((b) => [b.row, b.alt])).toEqual([
      [0, false],
      [0, true],
      [0, false],
    ]);
  });

  it("leave operations at distinct instants their whole slots", () => {
    const d = draw([
      ["c1", 0, 10, put("a"), {}],
      ["c1", 11, 20, get, { value: "a" }],
    ]);
    expect(d.right(0)).toEqual(close(d.axis.slot(10) + 0.85));
    expect(d.bar(1).left).toEqual(close(d.axis.slot(11) + 0.15));
    expect(d.lanes[0]!.rows).toBe(1);
  });
});

describe("the bars of one client's operations that overlap", () => {
  it("put an operation that overlaps an earlier one of its client on a row below", () => {
    const d = draw([
      ["c1", 0, undefined, put("a")],
      ["c1", 5, 10, get, { value: "a" }],
      ["c1", 10, 12, get, { value: "a" }],
      ["c2", 1, 3, get, { value: "" }],
    ]);
    const c1 = d.lanes.find((l) => l.client === "c1")!;
    expect(c1.rows).toBe(2);
    expect(c1.bars.map((b) => [b.id, b.row])).toEqual([
      [0, 0],
      [1, 1],
      [2, 1],
    ]);
    expect(d.right(0)).toBe(d.slots);
    expect(d.lanes.find((l) => l.client === "c2")!.rows).toBe(1);
  });

  it("never cut a bar narrower than a third of a slot: the later one takes a row of its own", () => {
    const d = draw([
      ["c1", 0, 10, put("a"), {}],
      ["c1", 10, 10, get, { value: "a" }],
      ["c1", 10, 20, get, { value: "a" }],
    ]);
    for (const id of [0, 1, 2]) expect(d.bar(id).width).toBeGreaterThanOrEqual(0.3 - 1e-9);
    expect(d.lanes[0]!.bars.map((b) => b.row)).toEqual([0, 0, 1]);
  });

  it("are laid out per client in natural order", () => {
    const d = draw([
      ["10", 0, 1, get, { value: "" }],
      ["2", 0, 1, get, { value: "" }],
      ["b", 0, 1, get, { value: "" }],
    ]);
    expect(d.lanes.map((l) => l.client)).toEqual(["2", "10", "b"]);
  });
});

describe("the page's linearization points", () => {
  it("lie on their own operation's bar, also where a bar takes over its client's slot", () => {
    const operations = ops([
      ["c1", 0, 10, put("a"), {}],
      ["c1", 10, 20, put("b"), {}],
      ["c2", 5, 10, get, { value: "a" }],
      ["c2", 10, 20, get, { value: "b" }],
    ]);
    const history = { file: "h", model: kvModel, operations };
    const page = layout(history, check(kvModel, operations));
    const p = page.partitions[0]!;
    const bars = new Map(p.lanes.flatMap((l) => l.bars.map((b) => [b.id, b])));
    const steps = p.data.partials[0]!.steps;
    expect(steps).toHaveLength(4);
    for (const [id, , x] of steps) {
      const bar = bars.get(id)!;
      expect(x, `#${id}`).toBeGreaterThan(bar.left);
      expect(x, `#${id}`).toBeLessThan(bar.left + bar.width);
    }
  });
});
