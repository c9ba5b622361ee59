// The terminal view: the same rows as the page, one line each. Each node's lane is a short
// token (F3 = follower in term 3) tinted like its cell on the page; without colour the
// letters still tell the roles apart.

import { Chalk, type ChalkInstance } from "chalk";
import type { Lane, Timeline } from "./model.ts";
import { testName } from "./trace.ts";

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
  const name = testName(trace);
  const result =
    trace.result === "pass" ? c.green.bold("PASS") : c.red.bold(`FAIL (${trace.result})`);
  const shutdown = summary.atShutdown > 0 ? ` (and ${summary.atShutdown} at shutdown)` : "";
  const header = [
    `${result} ${c.bold(name)}  seed ${String(trace.start?.seed ?? "?")}`,
    ...(trace.start?.replay === undefined ? [] : [`replay: ${String(trace.start.replay)}`]),
    ...trace.warnings.map((w) => c.yellow(`warning: ${w}`)),
    `leaders: ${summary.leaders.map(([term, ids]) => `term ${term} n${ids.join(",n")}`).join("; ") || "none"}` +
      `  elections: ${summary.elections}  messages: ${summary.sent} sent, ${summary.delivered} delivered, ${summary.dropped} dropped${shutdown}`,
    c.dim(
      `${"ms".padStart(7)}  ${trace.nodes.map((id) => `n${id}`.padEnd(width)).join(" ")}  event`,
    ),
  ];
  const lines = rows
    .filter((row) => !(options.hideHeartbeats && row.heartbeat))
    .map((row) => {
      const lanes = row.lanes.map((lane) => laneToken(lane, width, c)).join(" ");
      const who = row.node === null ? c.bold("TEST") : `n${row.node}`;
      const text =
        row.tone === "bad"
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
