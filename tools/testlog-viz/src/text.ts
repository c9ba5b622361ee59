// The terminal view: the same rows as the page, one line each. Each node's lane is a short
// token (F3 = follower in term 3) tinted like its cell on the page, each client's the number of
// the operation it runs (#3); without colour the letters still tell the roles apart.

import { Chalk, type ChalkInstance } from "chalk";
import type { ClientLane } from "./clients.ts";
import type { Lane, Timeline } from "./model.ts";
import { passed, resultLabel, testName } from "./trace.ts";

export interface TextOptions {
  /** chalk level 0 gives plain text (the CLI picks it from whether stdout is a terminal) */
  chalk?: ChalkInstance;
  hideHeartbeats?: boolean;
}

export function renderText(timeline: Timeline, options: TextOptions = {}): string {
  const c = options.chalk ?? new Chalk({ level: 0 });
  const { trace, rows, summary } = timeline;
  // room for a group letter ("/B") once the network has been split
  const split = rows.some((row) => row.lanes.some((lane) => lane.group !== null)) ? 2 : 0;
  const width = Math.max(4, ...trace.nodes.map((id) => `n${id}`.length)) + split;
  // room for a running operation's number ("#12")
  const clientWidths = timeline.clients.map((name) => Math.max(4, name.length));
  const name = testName(trace);
  const words = resultLabel(trace);
  const result = passed(trace.result) ? c.green.bold(words) : c.red.bold(words);
  const shutdown = summary.atShutdown > 0 ? ` (and ${summary.atShutdown} at shutdown)` : "";
  const header = [
    // a run that no test drove has no seed to give
    `${result} ${c.bold(name)}${trace.result === "no test" ? "" : `  seed ${String(trace.start?.seed ?? "?")}`}`,
    ...(trace.start?.replay === undefined ? [] : [`replay: ${String(trace.start.replay)}`]),
    ...(trace.merged === null
      ? []
      : [
          `merged from ${trace.merged.files.length} files; ms since ${new Date(trace.merged.origin).toISOString()}`,
        ]),
    ...trace.warnings.map((w) => c.yellow(`warning: ${w}`)),
    `leaders: ${summary.leaders.map(([term, ids]) => `term ${term} n${ids.join(",n")}`).join("; ") || "none"}` +
      `  elections: ${summary.elections}  messages: ${summary.sent} sent, ${summary.delivered} delivered, ${summary.dropped} dropped${shutdown}`,
    c.dim(
      `${"ms".padStart(7)}  ${[
        ...trace.nodes.map((id) => `n${id}`.padEnd(width)),
        ...timeline.clients.map((name, i) => name.padEnd(clientWidths[i]!)),
      ].join(" ")}  event`,
    ),
  ];
  const lines = rows
    .filter((row) => !(options.hideHeartbeats && row.heartbeat))
    .map((row) => {
      const lanes = [
        ...row.lanes.map((lane) => laneToken(lane, width, c)),
        ...row.clients.map((lane, i) => clientToken(lane, clientWidths[i]!, c)),
      ].join(" ");
      const who = row.column === 0 ? c.bold("TEST") : timeline.columns[row.column];
      const text =
        row.tone === "bad" || row.tone === "alarm"
          ? c.red.bold(row.text)
          : row.tone === "expected"
            ? c.yellow.bold(row.text)
            : row.tone === "muted" || row.heartbeat || row.afterShutdown
              ? c.dim(row.text)
              : row.text;
      return `${String(row.t).padStart(7)}  ${lanes}  ${who} ${c.cyan(row.kind)} ${text}`;
    });
  return `${[...header, ...lines].join("\n")}\n`;
}

function laneToken(lane: Lane, width: number, c: ChalkInstance): string {
  const letter = lane.dead ? "✝" : lane.role.slice(0, 1).toUpperCase();
  const group = lane.group === null ? "" : `/${String.fromCharCode(65 + (lane.group % 26))}`;
  const token = `${lane.cut ? "✂" : ""}${letter}${lane.term ?? ""}${group}`.padEnd(width);
  if (lane.dead) return c.bgGray.black(token);
  if (lane.role === "leader") return c.bgGreen.black(token);
  if (lane.role === "candidate") return c.bgYellow.black(token);
  return lane.cut ? c.bgRed.black(token) : token;
}

const OP_MARKS: Record<string, string> = { ok: "✓", failed: "✗", maybe: "?" };

/** A client's token: `#3` while operation 3 runs, `✓3` (or ✗, ?) on its completion's row. */
function clientToken(lane: ClientLane | null, width: number, c: ChalkInstance): string {
  if (lane === null) return "·".padEnd(width);
  const token = `${OP_MARKS[lane.state] ?? "#"}${lane.seq}`.padEnd(width);
  if (lane.state === "ok") return c.bgGreen.black(token);
  if (lane.state === "failed") return c.bgRed.black(token);
  if (lane.state === "maybe") return c.bgYellow.black(token);
  return c.bgMagenta.black(token);
}
