// Snapshots (Raft paper §7, Figure 13): what a snapshot is as this part keeps it, the follower's
// side of a transfer in chunks, and the digest that names a snapshot's contents in the trace.
//
// A snapshot is the state machine's state as of one applied entry, `lastIncludedIndex`, with
// that entry's term, `lastIncludedTerm`: it stands for every entry through that index, which the
// log can then discard. The state machine hands Raft its state as a JSON value; Raft keeps,
// stores and sends it as JSON text (`data`), and hands it back decoded. Offsets and chunk sizes
// count characters of that text, which a transport carries as JSON like everything else.

/** A snapshot as Raft keeps it, stores it and sends it. */
export interface Snapshot {
  /** The index of the last entry the snapshot replaces (Figure 13). */
  lastIncludedIndex: number;
  /** The term of that entry. */
  lastIncludedTerm: number;
  /** The state machine's state as of that entry, as JSON text. */
  data: string;
}

/** A snapshot as the state machine receives it: at start, and when a leader installs one. */
export interface RestoredSnapshot {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  /** The state, decoded from JSON: what the state machine handed over. */
  data: unknown;
}

/**
 * A name for a snapshot's contents, for the trace and the safety checks: FNV-1a (32 bits) over
 * the UTF-16 code units of its text. Two snapshots with the same digest at the same index are,
 * for every purpose of a test, the same state; it is no protection against a damaged file (the
 * files have CRC-32 checksums for that).
 */
export function digestOf(text: string, from: number = FNV_OFFSET): number {
  let hash = from;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The snapshot a follower is receiving, chunk by chunk, from one leader. */
export interface IncomingSnapshot {
  /** The leader's term and the snapshot's last entry: which snapshot these chunks are of. */
  term: number;
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  /** What has arrived, from offset 0 on. */
  data: string;
}

/** One chunk of an InstallSnapshot, as far as assembling the snapshot goes. */
export interface Chunk {
  term: number;
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  offset: number;
  data: string;
}

/**
 * Figure 13, InstallSnapshot receiver rules 2 and 3, for the snapshot `held` so far (or none):
 * what the receiver holds after `chunk`, or why the chunk cannot be taken. Rule 2, a new
 * snapshot if first chunk (offset 0): a first chunk of another snapshot (another leader's term,
 * another last entry) starts a new one, dropping what was held. Rule 3, write the data at the
 * given offset: a chunk that arrives twice, or late, writes the same characters again and
 * changes nothing. A chunk that starts past what is held (one was lost, or this server restarted
 * and lost the partial snapshot, which lives in memory only) is refused: the leader then sends
 * the snapshot again from offset 0.
 */
export function receiveChunk(
  held: IncomingSnapshot | null,
  chunk: Chunk,
): { snapshot: IncomingSnapshot } | { refused: string } {
  const same =
    held !== null &&
    held.term === chunk.term &&
    held.lastIncludedIndex === chunk.lastIncludedIndex &&
    held.lastIncludedTerm === chunk.lastIncludedTerm;
  const into: IncomingSnapshot =
    same && held !== null
      ? held
      : {
          term: chunk.term,
          lastIncludedIndex: chunk.lastIncludedIndex,
          lastIncludedTerm: chunk.lastIncludedTerm,
          data: "",
        };
  if (chunk.offset > into.data.length) {
    const holds = same ? `only ${into.data.length} characters of it` : "no part of it";
    return {
      refused: `a chunk at offset ${chunk.offset} of the snapshot through [${chunk.lastIncludedIndex}], of which it holds ${holds}`,
    };
  }
  const end = chunk.offset + chunk.data.length;
  into.data = into.data.slice(0, chunk.offset) + chunk.data + into.data.slice(end);
  return { snapshot: into };
}
