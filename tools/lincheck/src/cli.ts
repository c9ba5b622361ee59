import { main } from "./main.ts";

// `pnpm lincheck h.log | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
});

process.exitCode = main(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
});
