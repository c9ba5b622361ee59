// The page's script: src/page/main.ts and what it imports, bundled by esbuild into one piece of
// JavaScript that the page inlines. Bundled when the first page of a run is rendered (a few tens
// of milliseconds), so there is no build step and nothing generated to keep in git.

import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

let bundled: string | undefined;

export function pageScript(): string {
  bundled ??= bundle();
  return bundled;
}

function bundle(): string {
  const result = buildSync({
    entryPoints: [fileURLToPath(new URL("./page/main.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "silent",
  });
  const text = result.outputFiles[0]?.text ?? "";
  // inlined in a <script> element: no "</script" may appear in it
  return text.replace(/<\/script/gi, "<\\/script");
}
