// A session as a link: the part, the cluster, the seed, the mutant, the test scenario and the
// reader's actions, all in the address's fragment (`index.html#part=…&n=…`), so that opening the
// link plays the same session again, in any browser or in Node (`pnpm playground --replay`).

import { partInfo } from "../parts.ts";
import { decodeActions, encodeActions, LinkError, type TimedAction } from "./actions.ts";

export interface SessionSpec {
  part: string;
  /** Cluster size of a free session (a test scenario starts its own clusters). */
  nodes: number;
  seed: number;
  /** The part's mutant in place of its src/raft.ts, by name; null for the real code. */
  mutant: string | null;
  /** A test of the part, run as its file declares it, until the reader takes over. */
  scenario: { file: string; test: string } | null;
  /** The gate at which the reader took the scenario's cluster over. */
  takeover: number | null;
  actions: TimedAction[];
  /** The gate the link was made at: opening it runs there at full speed and pauses. */
  at: number | null;
  /**
   * The part's options (its `switches`, part 6's) a free session runs without: each is false in
   * its nodes' RaftConfig. A test scenario keeps its own configuration.
   */
  off: string[];
}

export const DEFAULT_SPEC: SessionSpec = {
  part: "part2-replication",
  nodes: 3,
  seed: 1,
  mutant: null,
  scenario: null,
  takeover: null,
  actions: [],
  at: null,
  off: [],
};

/** The fragment (without "#") of a session's link. */
export function toFragment(spec: SessionSpec): string {
  const fields: [string, string][] = [
    ["part", spec.part],
    ["n", String(spec.nodes)],
    ["seed", String(spec.seed)],
  ];
  if (spec.mutant !== null) fields.push(["mutant", spec.mutant]);
  if (spec.off.length > 0) fields.push(["off", spec.off.join(".")]);
  if (spec.scenario !== null) {
    fields.push(["file", spec.scenario.file], ["test", spec.scenario.test]);
  }
  if (spec.takeover !== null) fields.push(["take", String(spec.takeover)]);
  const parts = fields.map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  // actions escape their own fields (actions.ts): the list is safe in a fragment as it is
  if (spec.actions.length > 0) parts.push(`a=${encodeActions(spec.actions)}`);
  if (spec.at !== null) parts.push(`at=${spec.at}`);
  return parts.join("&");
}

/** Reads a link, a fragment or a bare `part=…&…` string; what it does not say is the default. */
export function fromFragment(link: string): SessionSpec {
  const fragment = link.includes("#") ? link.slice(link.indexOf("#") + 1) : link;
  const raw = new Map<string, string>();
  for (const pair of fragment.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq < 0) throw new LinkError(`"${pair}" in the link is not name=value`);
    raw.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const text = (key: string) => {
    const value = raw.get(key);
    return value === undefined ? undefined : decodeURIComponent(value);
  };
  const whole = (key: string, min: number, fallback: number | null) => {
    const value = text(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new LinkError(`${key} in the link must be a whole number from ${min}, got "${value}"`);
    }
    return n;
  };
  const part = text("part") ?? DEFAULT_SPEC.part;
  const info = partInfo(part); // an unknown part is an error that lists the parts
  const off = (text("off") ?? "").split(".").filter((name) => name !== "");
  const switches = (info.switches ?? []).map((s) => s.name);
  for (const name of off) {
    if (!switches.includes(name)) {
      throw new LinkError(
        switches.length === 0
          ? `off=${name} in the link: ${part} has no options to turn off (part 6 has)`
          : `off=${name} in the link: ${part}'s options are ${switches.join(", ")}`,
      );
    }
  }
  const file = text("file");
  const test = text("test");
  if ((file === undefined) !== (test === undefined)) {
    throw new LinkError("a scenario needs both file= and test= in the link");
  }
  return {
    part,
    nodes: whole("n", 1, DEFAULT_SPEC.nodes)!,
    seed: whole("seed", 0, DEFAULT_SPEC.seed)!,
    mutant: text("mutant") ?? null,
    scenario: file !== undefined && test !== undefined ? { file, test } : null,
    takeover: whole("take", 1, null),
    actions: decodeActions(raw.get("a") ?? ""),
    at: whole("at", 0, null),
    // in the order the part lists them, once each: one session, one link
    off: switches.filter((name) => off.includes(name)),
  };
}
