import { describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import { renderHtml } from "../src/view/html.ts";
import type { PartitionData } from "../src/view/layout.ts";
import { hostileHistory } from "./hostile.ts";

describe("the HTML page", () => {
  const history = hostileHistory();
  const html = renderHtml(history, check(history.model, history.operations));

  it("escapes every text taken from the history", () => {
    expect(html).not.toContain("<script>window");
    expect(html).toContain("&lt;script&gt;window.__pwned = 1&lt;/script&gt;");
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it("is self-contained: nothing to fetch", () => {
    expect(html).not.toMatch(/<(link|img|iframe)\b|\bsrc=|@import|https?:\/\//);
  });

  it("embeds what the page shows: the breaking operation and the partial linearization", () => {
    const data = [
      ...html.matchAll(/<script type="application\/json" class="data">(.*?)<\/script>/gs),
    ];
    expect(data).toHaveLength(1);
    const partition = JSON.parse(data[0]![1]!) as PartitionData;
    expect(partition.breaker).toBe(1);
    expect(partition.partials).toHaveLength(1);
    expect(partition.partials[0]!.steps.map((s) => s[0])).toEqual([0]);
    expect(partition.partials[0]!.breaker).toBe(1);
    expect(partition.states[partition.partials[0]!.steps[0]![1]]).toContain("script");
    expect(html).toMatch(/<button id="jump" data-partition="0" data-op="1">/);
  });

  it("links the test's timeline only when given one, its href escaped as any text", () => {
    expect(html).not.toContain('id="timeline"');
    const linked = renderHtml(history, check(history.model, history.operations), {
      timeline: 'kv--t "small".html',
    });
    expect(linked).toContain('<a id="timeline" href="kv--t &#34;small&#34;.html">');
  });

  it("names every operation by its number in the history", () => {
    for (const op of history.operations)
      expect(html).toContain(`<span class="id">#${op.id}</span>`);
  });
});
