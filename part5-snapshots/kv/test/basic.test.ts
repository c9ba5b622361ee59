// Goal: the first things a user of the store would try: write, read, append, compare-and-swap and
// delete through the Raft log, each answering what it read or replaced; a retried request
// answered once; and a history lincheck accepts. Method: a 3-node simulated cluster and one or
// two clients, in virtual time.

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";

describe("the key/value store, first steps", () => {
  test("put, get, append, cas and delete answer what they read or replaced", async () => {
    const cluster = Cluster.start(3);
    const c = cluster.client("c1");
    expect(await cluster.settle(c.get("k"))).toEqual({ value: null, existed: false });
    expect(await cluster.settle(c.put("k", "a"))).toEqual({ value: null, existed: false });
    expect(await cluster.settle(c.append("k", "b"))).toEqual({ value: "a", existed: true });
    expect(await cluster.settle(c.cas("k", "x", "y"))).toEqual({
      value: "ab",
      existed: true,
      ok: false,
    });
    expect(await cluster.settle(c.cas("k", "ab", "c"))).toEqual({
      value: "ab",
      existed: true,
      ok: true,
    });
    expect(await cluster.settle(c.delete("k"))).toEqual({ value: "c", existed: true });
    expect(await cluster.settle(c.get("k"))).toEqual({ value: null, existed: false });
  });

  test("two clients see one another's writes", async () => {
    const cluster = Cluster.start(3);
    const [a, b] = [cluster.client("a"), cluster.client("b")];
    await cluster.settle(a.put("x", "1"));
    expect((await cluster.settle(b.get("x"))).value).toBe("1");
    await cluster.settle(b.append("x", "2"));
    expect((await cluster.settle(a.get("x"))).value).toBe("12");
  });
});
