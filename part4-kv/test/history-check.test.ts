// Goal: the check every test ends with has teeth. A history no single copy of the store could
// have produced (a get that returns a value no put wrote) is not linearizable, and a test whose
// history is such fails, though its own body passes: the harness checks the history with lincheck
// when the test ends (harness.ts). Method: histories written by hand, first straight to the
// checker, then into the history of a running cluster, whose end this test calls itself.

import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import type { KvCommand, KvResult } from "../src/kv/commands.ts";
import { History } from "../src/kv/history.ts";
import { Cluster } from "./harness.ts";

/** A put of "written" by one client, then a get by another that saw `seen`. */
function putThenGet(seen: string | null): History {
  const history = new History();
  const record = (client: string, command: KvCommand, from: number, result: KvResult) =>
    history.end(history.begin(client, command, from), from + 10, result);
  record("a", { op: "put", key: "k", value: "written" }, 0, { value: null, existed: false });
  record("b", { op: "get", key: "k" }, 20, { value: seen, existed: seen !== null });
  return history;
}

describe("the history check", () => {
  test("a get after a put that sees the put is linearizable", () => {
    expect(putThenGet("written").check("honest").result?.verdict).toBe("linearizable");
  });

  test("a get that returns a value no put wrote is not", () => {
    expect(putThenGet("never written").check("forged").result?.verdict).toBe("not-linearizable");
  });

  test("nor is a get that, after the put ended, still sees the key absent", () => {
    expect(putThenGet(null).check("stale").result?.verdict).toBe("not-linearizable");
  });

  test("the history page links to the test's timeline when given its href, and only then", () => {
    const { html } = putThenGet("never written").check("forged");
    expect(html("forged%20run.html")).toContain('<a id="timeline" href="forged%20run.html">');
    expect(html()).not.toContain('id="timeline"');
  });

  // The harness's end of a test, called here before vitest calls it, so that this test sees it
  // fail: with the verdict, the number of operations, and the history page for a reader to open.
  test("a test whose history holds a forged read fails at its end", async () => {
    const cluster = Cluster.start(3);
    cluster.expectViolation();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("k", "written"));
    expect((await cluster.settle(c1.get("k"))).value).toBe("written");
    const at = cluster.clock.now();
    const forged = cluster.history.begin("forger", { op: "get", key: "k" }, at);
    cluster.history.end(forged, at + 1, { value: "never written", existed: true });
    const error = await cluster.run.end({ state: "pass" }).then(
      () => "the end of the test passed",
      (e: Error) => e.message,
    );
    const failure =
      /^the history of 3 client operations is not linearizable: (\S+\.history\.html)\n/;
    expect(error).toMatch(failure);
    // Its page and timeline were written for a reader; unless RAFT_TRACE_DIR asked for them,
    // they are removed, as this test passed. The page links to the timeline: the trace beside it,
    // as dotest.sh and pnpm viz render it (X.jsonl as X.html).
    const page = failure.exec(error)![1]!;
    const trace = page.replace(/\.history\.html$/, ".jsonl");
    expect(path.basename(trace)).toBe(cluster.run.traceName);
    const timeline = cluster.run.traceName.replace(/\.jsonl$/, ".html");
    expect(readFileSync(page, "utf8")).toContain(
      `<a id="timeline" href="${encodeURIComponent(timeline)}">`,
    );
    for (const file of [page, trace]) {
      expect(existsSync(file), file).toBe(true);
      if (!process.env.RAFT_TRACE_DIR) rmSync(file);
    }
  });
});
