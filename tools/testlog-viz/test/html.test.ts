import { describe, expect, test } from "vitest";
import { pageData, renderIndex, renderPage, scriptJson } from "../src/html.ts";
import { end, handmade, harness, onNode, start, timelineOf } from "./build.ts";

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
    expect(html.match(/<script/g)).toHaveLength(2); // the data and the page's own script
    expect(html).toContain("name &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;");
    expect(html).toContain("RAFT_SEED=1 echo &#39;&lt;script&gt;");
    // the data survives the escaping unchanged
    const data = embeddedData(html);
    expect(data.rows[1][3]).toBe("</script><script>alert(2)</script> & <b>");
    expect(data.kinds).toContain("kind<i>");
  });

  test("is self-contained: nothing is fetched", () => {
    const html = renderPage(handmade(), "index.html");
    expect(html).not.toMatch(/<link|<img|\ssrc=|url\(|https?:\/\//);
    expect(html).toContain("<style>");
    expect(html).toContain('<a href="index.html">');
  });

  test("shows the header facts, the summary, one column per node and a filter per kind", () => {
    const html = renderPage(handmade());
    expect(html).toContain('<span class="badge pass">PASS</span> election &gt; basic election');
    expect(html).toContain(
      "RAFT_SEED=42 pnpm --filter part1-election exec vitest run -t &#34;basic election&#34;",
    );
    expect(html).toContain("term 1: n1");
    expect(html).toContain("16 sent (10 heartbeats) · 12 delivered · 4 dropped");
    expect(html.match(/<th class="node">/g)).toHaveLength(3);
    expect(html.match(/data-kind="/g)).toHaveLength(14);
    expect(html).not.toContain('<section class="warnings"');
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
  test("rows point at shared lane states and at their column (-1 for TEST)", () => {
    const timeline = timelineOf(
      start([2, 5]),
      onNode(1, 5, 1, "candidate", "role"),
      onNode(2, 5, 1, "candidate", "send", { msg: 1, to: 2 }),
      end(3),
    );
    const data = pageData(timeline);
    expect(data.nodes).toEqual([2, 5]);
    expect(data.lanes).toEqual([
      [
        ["follower", 0, 0, 0],
        ["follower", 0, 0, 0],
      ],
      [
        ["follower", 0, 0, 0],
        ["candidate", 1, 0, 0],
      ],
    ]);
    expect(data.rows.map((r) => [r[1], r[8]])).toEqual([
      [-1, 0],
      [1, 1],
      [1, 1],
      [-1, 1],
    ]);
    expect(data.rows[2]!.slice(5, 8)).toEqual([1, 1, 0]);
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
    expect(html).toContain('<a href="a.html">election &gt; basic election</a>');
    expect(html).toContain('<a href="b%20c.html">bad &lt;script&gt;');
    expect(html).toContain("FAIL (cut short)");
    expect(html).not.toContain("<script");
  });
});
