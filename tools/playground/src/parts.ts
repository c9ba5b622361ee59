// What the reader can do with each part: one entry per part, read by the page (which buttons to
// show) and by the engine (which actions a session accepts). A part adds a capability by adding a
// flag here and, where it needs the part's own API, a handler in its entry (src/parts/<part>.ts):
// part 5 has `snapshot: true` and a `snapshot(cluster, node)` handler, part 6 will have
// `transfer: true` and a `transfer(cluster, to)` handler. The build bundles every part listed here
// that exists.

export interface PartInfo {
  /** The package and folder name. */
  name: string;
  /** How the page lists it. */
  title: string;
  /** What a crash does: stop the node for good (parts 1-2), or let it restart from its storage. */
  crash: "stop" | "restart";
  /** What a client can do: nothing (part 1), submit a command to a node, or run key/value operations. */
  commands: "none" | "submit" | "kv";
  /** Snapshots (part 5 on): the reader can have a node take one. */
  snapshot?: boolean;
  /** Leadership transfer (part 6 on): the reader can ask the leader to hand over. */
  transfer?: boolean;
  /**
   * What a free session's nodes run with in place of the part's defaults (its RaftConfig), and
   * the sentence the page shows about it. The parts' tests keep their own configurations.
   */
  session?: { raft: Record<string, number>; note: string };
}

export const PARTS: readonly PartInfo[] = [
  { name: "part1-election", title: "1 · election", crash: "stop", commands: "none" },
  { name: "part2-replication", title: "2 · replication", crash: "stop", commands: "submit" },
  { name: "part3-persistence", title: "3 · persistence", crash: "restart", commands: "submit" },
  { name: "part4-kv", title: "4 · key/value store", crash: "restart", commands: "kv" },
  {
    name: "part5-snapshots",
    title: "5 · snapshots",
    crash: "restart",
    commands: "submit",
    snapshot: true,
    // Small, so that a short session compacts its logs and needs InstallSnapshot, in chunks.
    session: {
      raft: { snapshotAfterEntries: 5, snapshotChunkSize: 128 },
      note:
        "Snapshots come early here: each node takes one after every 5 entries it applies (the " +
        "part's default is 10,000) and sends one in chunks of 128 characters (default 64 KiB). " +
        "Crash a follower, submit 5 commands, restart it: the leader's log no longer holds " +
        "what it lacks, and InstallSnapshot brings it back.",
    },
  },
];

export function partInfo(name: string): PartInfo {
  const found = PARTS.find((p) => p.name === name);
  if (found === undefined) {
    throw new Error(`no part "${name}": the parts are ${PARTS.map((p) => p.name).join(", ")}`);
  }
  return found;
}

/** Cluster sizes the page offers: even sizes too, as the parts' tests use them. */
export const SIZES = [1, 2, 3, 4, 5, 6, 7] as const;

/** The key/value clients of part 4 on, as the page names them. */
export const CLIENTS = ["c1", "c2", "c3"] as const;
