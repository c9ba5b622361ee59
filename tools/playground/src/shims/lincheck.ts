// lincheck for the bundles (part 4 checks each test's history of client operations with it):
// its checker as it is, from its own source files; only the history page is left out, which
// reads its template from disk when the module loads. A failing history is still reported, by
// the checker's verdict; the page says to replay the test with `./dotest.sh` for the history view.

export { check } from "../../../lincheck/src/check.ts";
export { historyFrom } from "../../../lincheck/src/history.ts";
export { kvModel } from "../../../lincheck/src/models/kv.ts";

export function renderHtml(): string {
  return "<p>lincheck's history page is not part of the playground: replay the test with ./dotest.sh to see it.</p>";
}
