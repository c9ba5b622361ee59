// What the reader can do with each part: one entry per part, read by the page (which buttons to
// show) and by the engine (which actions a session accepts). A part adds a capability by adding a
// flag here and, where it needs the part's own API, a handler in its entry (src/parts/<part>.ts):
// part 5 has `snapshot: true` and a `snapshot(cluster, node)` handler, part 6 `transfer: true`
// and a `transfer(cluster, to)` handler, and its options as `switches` a free session's link can
// turn off. The build bundles every part listed here that exists.

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
  /** ReadIndex (part 6 on): the reader can read on a node, without a log entry. */
  reads?: boolean;
  /**
   * What a free session's nodes run with in place of the part's defaults (its RaftConfig), and
   * the sentence the page shows about it. The parts' tests keep their own configurations.
   */
  session?: { raft: Record<string, number>; note: string };
  /**
   * Options of the part's RaftConfig that are on by default and that the reader may turn off for
   * a free session (part 6's), each with its label and what turning it off shows.
   */
  switches?: readonly Switch[];
}

/** A boolean option of a part's RaftConfig, on by default. */
export interface Switch {
  name: string;
  label: string;
  /** what the option does, and what to try without it */
  title: string;
}

/** Part 5's free sessions: snapshots early, so a short session compacts and sends one. */
const EARLY_SNAPSHOTS = {
  raft: { snapshotAfterEntries: 5, snapshotChunkSize: 128 },
  note:
    "Snapshots come early here: each node takes one after every 5 entries it applies (the " +
    "part's default is 10,000) and sends one in chunks of 128 characters (default 64 KiB). " +
    "Crash a follower, submit 5 commands, restart it: the leader's log no longer holds " +
    "what it lacks, and InstallSnapshot brings it back.",
};

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
    session: EARLY_SNAPSHOTS,
  },
  {
    name: "part6-availability",
    title: "6 · availability",
    crash: "restart",
    commands: "submit",
    snapshot: true,
    transfer: true,
    reads: true,
    session: {
      raft: EARLY_SNAPSHOTS.raft,
      note:
        "As in part 5, snapshots come early (every 5 entries applied, chunks of 128 characters). " +
        "Part 6's options are on; turn one off above and start a new session to see what it " +
        "prevents: without PreVote, isolate a follower for a few seconds and reconnect it, and " +
        "its inflated term deposes the leader.",
    },
    switches: [
      {
        name: "preVote",
        label: "PreVote",
        title:
          "§9.6: a node asks whether it would win before it raises its term. Off: a node cut off for a while comes back with a higher term and deposes the leader.",
      },
      {
        name: "checkQuorum",
        label: "CheckQuorum",
        title:
          "§6.2 and §4.2.3: a leader that hears from no majority steps down, and a follower that heard from its leader lately ignores later terms' votes. Off: cut every link into the leader one way, and it leads on.",
      },
      {
        name: "leadershipTransfer",
        label: "leadership transfer",
        title: "§3.10: the leader hands over to a chosen node (TimeoutNow). Off: refused.",
      },
      {
        name: "parallelLeaderWrite",
        label: "parallel write",
        title:
          "§10.2.1: the leader sends its entries while it writes them. Off: its messages wait for its write, as in part 5.",
      },
      {
        name: "readIndex",
        label: "ReadIndex",
        title: "§6.4: linearizable reads without a log entry. Off: reads are refused.",
      },
    ],
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
