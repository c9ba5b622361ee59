import { describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import { renderHtml } from "../src/view/html.ts";
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

  it("marks the breaking operation and numbers the prefix", () => {
    expect(html).toMatch(/class="op breaker" data-op="1"/);
    expect(html).toMatch(/class="op linearized" data-op="0"[^>]*data-position="1"/);
  });
});
