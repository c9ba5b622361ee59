import { describe, expect, test } from "vitest";
import { batchText, pageData, renderIndex, renderPage, scriptJson } from "../src/html.ts";
import { R } from "../src/page-data.ts";
import { end, harness, network, onNode, start, timelineOf } from "./build.ts";
import { handmade, realTimeline } from "./real.ts";

const EVIL = '<script>alert("x")</script>';

/** The JSON the page's script reads, parsed back the way the browser does. */
function embeddedData(html: string) {
  const match = html.match(/<script type="application\/json" id="trace-data">([\s\S]*?)<\/script>/);
  return JSON.parse(match![1]!);
}

describe("renderPage", () => {
  test("escapes every text that comes from the trace, in markup and in the embedded data", () => {
    const timeline = timelineOf(
      start([0], { test: `name ${EVIL}`, replay: `RAFT_SEED=1 echo '${EVIL}'`, part: EVIL }),
      harness(1, "note", { text: `</script><script>alert(2)</script> & <b>` }),
      onNode(2, 0, 1, `<img src=x onerror=alert(3)>`, `kind<i>`, { "<k>": EVIL }),
      end(3),
    );
    const html = renderPage(timeline);
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>");
    // the table's data, the cluster view's events and the page's own script
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).toContain("name &lt;script&gt;alert\\(&#34;x&#34;\\)&lt;/script&gt;");
    expect(html).toContain("RAFT_SEED=1 echo &#39;&lt;script&gt;");
    // the data survives the escaping unchanged
    const data = embeddedData(html);
    expect(data.rows[1][R.TEXT]).toBe("</script><script>alert(2)</script> & <b>");
    expect(data.kinds).toContain("kind<i>");
    const events = JSON.parse(
      html.match(/<script type="application\/json" id="trace-events">([\s\S]*?)<\/script>/)![1]!,
    );
    expect(events[1].details.text).toBe("</script><script>alert(2)</script> & <b>");
    expect(events[2].details["<k>"]).toBe(EVIL);
  });

  test("is self-contained: nothing is fetched, the script is inlined", () => {
    const html = renderPage(handmade(), { indexHref: "index.html" });
    // the cluster view names SVG's namespace: an identifier, never fetched
    const page = html.replaceAll("http://www.w3.org/2000/svg", "");
    expect(page).not.toMatch(/<link|<img|\ssrc=|url\(|https?:\/\//);
    expect(html).toContain("<style>");
    expect(html).toContain('<a href="index.html">');
    // the bundled page script: its entry point's code, not an import of it
    expect(html).toContain("IntersectionObserver");
    expect(html).not.toMatch(/<script type="module">\s*import /);
  });

  test("shows the header facts, the summary, one column per node and a filter per kind", () => {
    const html = renderPage(handmade());
    expect(html).toContain('<span class="badge pass">PASS</span> election basic election');
    expect(html).toContain(
      "RAFT_SEED=42 pnpm --filter part1-election exec vitest run -t &#34;basic election&#34;",
    );
    expect(html).toContain("term 1: n1");
    expect(html).toContain(
      "16 sent (10 heartbeats) · 12 delivered · 4 dropped · 0 RPCs without reply",
    );
    expect(html.match(/<th class="node">/g)).toHaveLength(3);
    expect(html.match(/data-kind="/g)).toHaveLength(14);
    expect(html).not.toContain('<section class="warnings"');
    expect(html).toContain(
      '<a href="#" data-row="1">3 nodes, all connected; expect one leader</a>',
    );
  });
});

describe("renderPage: expected violations and broken traces", () => {
  test("a test that expected its violation says so instead of counting a failure", () => {
    const timeline = timelineOf(
      start([0]),
      harness(1, "violation", { invariant: "Election Safety", message: "two leaders" }),
      end(2, "pass", { expectedViolation: true }),
    );
    const html = renderPage(timeline);
    expect(html).toContain("This test provokes a safety violation on purpose");
    expect(html).toContain("1 violation, expected by this test");
    expect(html).not.toContain("failed checks");
  });

  test("a broken trace still renders, with the warnings in a banner", () => {
    const timeline = timelineOf(start([0]), "{not json", onNode(1, 0, 1, "follower", "x"));
    const html = renderPage(timeline);
    expect(html).toContain('<section class="warnings" role="alert">');
    expect(html).toContain("line 2: not valid JSON (truncated?), skipped: {not json");
    expect(html).toContain("FAIL (trace cut short)");
  });
});

describe("pageData", () => {
  test("rows point at shared lane states and at their column (0 for TEST)", () => {
    const timeline = timelineOf(
      start([2, 5]),
      onNode(1, 5, 1, "candidate", "role", { from: "follower", to: "candidate", reason: "r" }),
      harness(2, "isolate", { node: 2, ...network([[5], [2]], [2]) }),
      end(3),
    );
    const data = pageData(timeline);
    expect(data.nodes).toEqual([2, 5]);
    expect(data.columns).toEqual(["TEST", "n2", "n5"]);
    expect(data.lanes).toEqual([
      [
        ["follower", 0, 0, 0, -1],
        ["follower", 0, 0, 0, -1],
      ],
      [
        ["follower", 0, 0, 0, -1],
        ["candidate", 1, 0, 0, -1],
      ],
      [
        ["follower", 0, 1, 0, 1],
        ["candidate", 1, 0, 0, 0],
      ],
    ]);
    expect(data.rows.map((r) => [r[R.COLUMN], r[R.LANES]])).toEqual([
      [0, 0],
      [2, 1],
      [0, 2],
      [0, 2],
    ]);
  });

  test("a batch is summarized by count, index range and terms", () => {
    expect(batchText({ count: 50, first: 2, last: 51, terms: [1, 3] })).toBe(
      "50 entries [2]–[51], terms 1–3",
    );
    expect(batchText({ count: 8, first: 1, last: 8, terms: [1, 1] })).toBe(
      "8 entries [1]–[8], term 1",
    );
  });

  test("scriptJson leaves nothing that could end a script element", () => {
    const json = scriptJson({ a: "</script><!-- \u2028 &" });
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(json)).toEqual({ a: "</script><!-- \u2028 &" });
  });
});

describe("renderIndex", () => {
  test("lists every test with its result and a link, failures counted", () => {
    const failed = timelineOf(
      start([0], { test: `bad ${EVIL}` }),
      onNode(1, 0, 1, "follower", "x"),
    );
    const html = renderIndex("tests in run", [
      { href: "a.html", timeline: handmade() },
      { href: "b%20c.html", timeline: failed },
    ]);
    expect(html).toContain("1 passed, 1 failed");
    expect(html).toContain('<a href="a.html">election basic election</a>');
    expect(html).toContain('<a href="b%20c.html">bad &lt;script&gt;');
    expect(html).toContain("FAIL (trace cut short)");
    expect(html).not.toContain("<script");
  });

  test("tells two clusters of one test apart and lists tests that started no cluster", () => {
    const html = renderIndex(
      "tests in run",
      [
        { href: "a.html", timeline: handmade(), cluster: "cluster 1 of 2" },
        { href: "a-2.html", timeline: handmade(), cluster: "cluster 2 of 2" },
      ],
      [
        {
          name: "rules a pure function",
          file: "part2-replication/test/rules.test.ts",
          result: "fail",
        },
      ],
    );
    expect(html).toContain('<small class="cluster">(cluster 2 of 2)</small>');
    expect(html).toContain(
      'rules a pure function <small class="muted">(started no cluster: no timeline)</small>',
    );
    expect(html).toContain("2 passed, 1 failed · 1 started no cluster");
  });
});

describe("pageData and renderPage: clients and storage", () => {
  test("client lanes are shared states too, and an attempt names its node's column", () => {
    const client = (t: number, kind: string, details: Record<string, unknown>) =>
      harness(t, kind, { client: "c1", seq: 1, ...details });
    const data = pageData(
      timelineOf(
        start([0, 1]),
        client(1, "client.invoke", { command: { op: "put", key: "k", value: "v" } }),
        client(2, "client.send", { to: 1, attempt: 1 }),
        client(3, "client.complete", { error: "gave up", definite: true }),
        end(4),
      ),
    );
    expect([data.clients, data.storage]).toEqual([["c1"], false]);
    expect(data.columns).toEqual(["TEST", "n0", "n1", "c1"]);
    // the lane after a completion is idle again: a state of its own, drawn like the first
    expect(data.clientLanes).toEqual([
      [0],
      [[1, "put k", "pending"]],
      [[1, "put k", "failed"]],
      [0],
    ]);
    expect(data.rows.map((r) => [r[R.COLUMN], r[R.CLIENTS], r[R.PEER]])).toEqual([
      [0, 0, 0],
      [3, 1, 0],
      [3, 1, [2, "← c1 #1"]],
      [3, 2, 0],
      [0, 3, 0],
    ]);
  });

  test("the summary counts saves, crashes and restarts, and the clients' operations", () => {
    const html = renderPage(realTimeline("part4-two-clients.jsonl"));
    expect(html).toContain(
      "<h2>Clients</h2><p>2 clients · 4 operations: 4 done · 10 attempts at nodes</p>",
    );
    expect(html).toContain("<h2>Storage</h2><p>18 saves</p>");
    expect(html).toContain('<th class="client" title="client a">a</th>');
    const restarted = renderPage(realTimeline("part3-fast-backtracking.jsonl"));
    expect(restarted).toMatch(/<h2>Storage<\/h2><p>\d+ saves · 3 crashes · 3 restarts<\/p>/);
    expect(restarted).not.toContain("<h2>Clients</h2>");
  });
});
