// Part 6's state of a node in a few words, for the cluster view's badges under each node and the
// state panel's fields: its clock's rate (the drift fault), the leadership it hands over (§3.10),
// its reads under way (§6.4), a step-down by CheckQuorum (§6.2), its lease (§4.2.3) and a
// leader's own write still in flight while its entries travel (§10.2.1). Both views read the same state (state.ts), so they agree.

import type { NodeState, PendingRead } from "../state.ts";
import { lastIndexOf } from "../state.ts";

/** A badge: its short text, and its words for a tooltip. */
export interface Badge {
  text: string;
  words: string;
}

const round = (ms: number) => (Number.isInteger(ms) ? ms : Number(ms.toFixed(1)));

/**
 * Part 6's state of a live node as badges under it: its clock's rate (drift), the leadership
 * it hands over, its reads under way, its lease (§4.2.3: it ignores later terms' votes while
 * it heard from its leader within the minimum election timeout), and a leader's write of its
 * own entries still running while they travel (§10.2.1).
 */
export function availabilityBadges(
  node: NodeState,
  role: string,
  t: number,
  leaseMs: number | null | undefined,
): Badge[] {
  const badges: Badge[] = [];
  const rate = node.clockRate;
  if (rate !== undefined) {
    const how = rate > 1 ? "fast" : "slow";
    badges.push({
      text: `clock ×${rate}`,
      words: `its clock runs ${how}: ${rate} ms for every ms of the trace (drift); its timers and lease follow it`,
    });
  }
  if (node.transfer !== undefined) {
    badges.push({
      text: `→n${node.transfer}`,
      words: `hands its leadership to n${node.transfer} (§3.10): it takes no new commands meanwhile`,
    });
  }
  if (node.reads !== undefined) {
    const list = [...node.reads].map(([id, r]) => `#${id} ${readWords(r)}`);
    badges.push({
      text: `${node.reads.size} read${node.reads.size === 1 ? "" : "s"}`,
      words: `reads under way (§6.4): ${list.join("; ")}`,
    });
  }
  if (node.quorumLost && role === "follower") {
    badges.push({
      text: "no quorum",
      words:
        "it stepped down as leader by CheckQuorum (§6.2): no majority answered it within an election timeout, so its clients should look for the leader the others may have elected",
    });
  }
  const lease = leaseLeft(node, role, t, leaseMs);
  if (lease !== null) badges.push({ text: "lease", words: lease });
  if (role === "leader" && node.disk !== null && node.saved < lastIndexOf(node)) {
    badges.push({
      text: "writing",
      words: `its own entries after [${node.saved}] are still being written while they travel (§10.2.1): it counts itself toward a majority once they are durable`,
    });
  }
  return badges;
}

/** A read's step in words. */
export function readWords(read: PendingRead): string {
  const asked = read.follower === null ? "" : ` (asked by n${read.follower})`;
  switch (read.step) {
    case "confirm":
      return `waits for a heartbeat round a majority answers${asked}`;
    case "forward":
      return "asked its leader for the read index";
    default:
      return `applies through its read index ${read.readIndex}`;
  }
}

/**
 * §4.2.3: whether the node ignores a later term's RequestVote and PreVote now, in words: it leads,
 * or it heard from its leader less than `leaseMs` (by its own clock) ago. Null when it does not.
 */
export function leaseLeft(
  node: NodeState,
  role: string,
  t: number,
  leaseMs: number | null | undefined,
): string | null {
  const leader = node.leader;
  if (leaseMs === null || leaseMs === undefined || leader === undefined) return null;
  if (role === "leader" && leader.id !== undefined && leader.heardAt === null) {
    return "it leads: it ignores RequestVote and PreVote for a later term (§4.2.3)";
  }
  if (leader.heardAt === null) return null;
  const ago = (t - leader.heardAt) * (node.clockRate ?? 1);
  if (ago >= leaseMs) return null;
  return `lease: it heard from leader n${leader.id} ${round(ago)} ms ago (its clock), less than ${leaseMs} ms: it ignores RequestVote and PreVote for a later term (§4.2.3)`;
}
