// DiskStorage: the Storage of a real process, kept in one data folder. Every save is one record
// appended to one file and made durable (fdatasync) before `save` returns. A save that brings a
// snapshot (§7) replaces the file instead: the snapshot goes into a file of its own, and the log
// is rewritten as one record of what is left after it. A restart reads the snapshot, then replays
// only the log after it.
//
// The data folder holds:
//
//   raft.log                   the log of saves, below
//   snapshot-<index>-<term>.raft   the snapshot the log builds on, if any, below
//   raft.lock                  the id (pid) of the process that has the folder open; removed by `close`
//
// raft.log, byte by byte (integers are unsigned, 32 bits, big-endian):
//
//   offset 0    "RAFT-LOG"          8 ASCII bytes: this is a raft-ts log
//   offset 8    version             the format version: 2 (part 3 wrote 1, which has no snapshots
//                                   and is read as it is)
//   offset 12   records, back to back, one per save:
//                 length            bytes of payload
//                 length checksum   CRC-32 of the 4 bytes of `length`
//                 payload checksum  CRC-32 of the payload
//                 payload           `length` bytes of UTF-8 JSON: the save's Changes (storage.ts),
//                                   {"hardState":{"currentTerm":2,"votedFor":1},
//                                    "log":{"from":7,"entries":[{"term":2,"command":"x"}]}},
//                                   either field left out when it did not change
//
// The state is what you get by applying every record's Changes in order to the empty state
// (`applyChanges`, as MemoryStorage does): a truncation is a record whose `log.from` is not past
// the end, never a rewrite of the file. Term and vote travel in the same record as the entries
// saved with them, so a save is durable whole or not at all. Only the first record may also
// name a snapshot, `"snapshot":{"lastIncludedIndex":40,"lastIncludedTerm":3,"file":
// "snapshot-40-3.raft","checksum":123,"size":4567}` (the CRC-32 and size of its data): the log
// then starts after entry 40, and the state starts from that snapshot.
//
// snapshot-<index>-<term>.raft: the header "RAFT-SNP" and version 1, then two records framed as
// the log's are: the JSON {"lastIncludedIndex":40,"lastIncludedTerm":3}, and the snapshot's data
// (the state machine's state as JSON text).
//
// A save with a snapshot, step by step (a crash at any step leaves the old log and snapshot, or
// the new ones: the rename of raft.log is the one step that switches, and until the folder is
// synced after it either may be what a restart finds):
//   1. the snapshot is written to snapshot-<index>-<term>.raft.tmp and synced;
//   2. renamed to snapshot-<index>-<term>.raft, and the folder synced;
//   3. the log after it (one record: term, vote, the snapshot's name and the entries after it) is
//      written to raft.log.tmp and synced;
//   4. renamed to raft.log, and the folder synced;
//   5. the old snapshot file is deleted.
// A start deletes what such a save left unfinished (*.tmp, snapshot files the log does not
// name), and says so in `warnings`. The same rewrite, without a new snapshot, also runs when
// records that changed nothing live (votes, truncations, a long run without snapshots) have made
// raft.log more than twice its size after the last rewrite plus 1 MiB: the folder holds the
// snapshot and at most about twice what the log holds after it, plus 1 MiB.
//
// Why the length has its own checksum: a damaged length could otherwise point past the end of
// the file and make a damaged record in the middle look like the last one, cut short by a crash;
// the rest of the file, which may hold committed entries, would then be dropped as a torn tail.
//
// What a start does with a damaged file:
// - The last record incomplete, failing its checksum, or zeros (the file grew but the data never
//   reached the disk): a write cut short by a crash. Its save never returned, so nothing anyone
//   was told depends on it: it is cut off, and `recovered` and `warnings` say where and how much.
// - Only part of the 12-byte header: a crash right after the file was created. An empty file is
//   a new, empty log.
// - A damaged record with more after it, a record that is not a save, another file's header, or
//   another format version: refused, with an error naming the file, the offset and what to do.
//   Nothing is cut: those bytes may hold committed entries.
// - The snapshot the log names missing, truncated, damaged, or not the one named (another index,
//   term or checksum); or snapshot files beside an empty log: refused, naming the file and what
//   is wrong. The entries the snapshot replaced are nowhere else, so nothing is deleted.

import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import { type Fd, type FileLayer, nodeFiles } from "./files.ts";
import type { Snapshot } from "./snapshot.ts";
import {
  applyChanges,
  type Changes,
  emptyState,
  type PersistentState,
  type Storage,
  StorageError,
} from "./storage.ts";

export const LOG_FILE = "raft.log";
export const LOCK_FILE = "raft.lock";
const MAGIC = Buffer.from("RAFT-LOG", "latin1");
export const FORMAT_VERSION = 2;
/** Versions this program reads: part 3's (no snapshots) and its own. */
const OLDEST_READABLE_VERSION = 1;
const FILE_HEADER_SIZE = 12;
const RECORD_HEADER_SIZE = 12;
const SNAPSHOT_MAGIC = Buffer.from("RAFT-SNP", "latin1");
const SNAPSHOT_VERSION = 1;
/** raft.log is rewritten once it passes twice its size after the last rewrite plus this. */
const REWRITE_SLACK = 1024 * 1024;

/** How the log's first record names the snapshot it builds on. */
export interface SnapshotRef {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  /** The snapshot file's name, in the data folder. */
  file: string;
  /** CRC-32 and size in bytes of its data. */
  checksum: number;
  size: number;
}

/** A record of raft.log: a save's Changes, with the snapshot named rather than held. */
export interface LogRecord {
  hardState?: Changes["hardState"];
  snapshot?: SnapshotRef;
  log?: Changes["log"];
}

/** A tail cut off at start: the last save, which a crash interrupted before it was durable. */
export interface TornTail {
  file: string;
  /** Where the cut was made: the end of the last complete record. */
  offset: number;
  droppedBytes: number;
  /** What was found there, in words. */
  reason: string;
  /** All of the above in one sentence, to log or trace. */
  message: string;
}

export interface DiskStorageOptions {
  /** The file operations to use; tests pass one that injects faults. */
  files?: FileLayer;
  /** raft.log is rewritten past twice its size after the last rewrite plus this (default 1 MiB). */
  rewriteSlack?: number;
}

const recoveryAdvice =
  "To recover, keep a copy of the data folder, then restore it from a backup of this server. " +
  "Without one, the server can only come back empty (an empty data folder), which is safe only " +
  "while the other servers form a majority without it: an emptied server has forgotten its " +
  "entries and the votes it gave.";

export class DiskStorage implements Storage {
  /** The log file's path. */
  readonly file: string;
  /** The data folder. */
  readonly folder: string;
  /** The torn tail this start cut off, if any. */
  readonly recovered: TornTail | undefined;
  /**
   * What this start repaired (a torn tail, a stale lock, what an interrupted snapshot save left),
   * one sentence each, to log or trace.
   */
  readonly warnings: readonly string[];
  /**
   * §10.2.1: present when the file layer can sync in the background (FileLayer's
   * fdatasyncInBackground), as a real process's does: see writeInBackground.
   */
  readonly saveInBackground?: (changes: Changes) => Promise<void>;
  private readonly files: FileLayer;
  private readonly lockFile: string;
  private fd: Fd;
  /** Where the next record goes: the end of the last durable record. */
  private end: number;
  /** The log's last index after the last durable record, to refuse a change that leaves a gap. */
  private logLength: number;
  /** The snapshot the log builds on (§7), as its first record names it. */
  private snapshot: SnapshotRef | undefined;
  /** raft.log is rewritten when it grows past this (see the header comment). */
  private rewriteAt: number;
  private readonly rewriteSlack: number;
  /** The state read at start, until it is handed out or out of date. */
  private loaded: PersistentState | undefined;
  /** Why an earlier save failed; no save is written on top of it. */
  private failure: string | undefined;
  private closed = false;
  /**
   * §10.2.1: the file a background sync runs on, the saves in the background waiting for the
   * next one, and a descriptor to close once the sync running on it ends.
   */
  private readonly background: {
    runningOn: Fd | undefined;
    waiting: { resolve: () => void; reject: (error: unknown) => void }[];
    closeAfterSync: Fd | undefined;
  } = { runningOn: undefined, waiting: [], closeAfterSync: undefined };

  /** Opens (or creates) the data folder `folder` and reads its log back; throws StorageError. */
  constructor(folder: string, options: DiskStorageOptions = {}) {
    this.files = options.files ?? nodeFiles;
    if (this.files.fdatasyncInBackground !== undefined) {
      this.saveInBackground = (changes) => this.writeInBackground(changes);
    }
    this.rewriteSlack = options.rewriteSlack ?? REWRITE_SLACK;
    this.folder = folder;
    this.file = join(folder, LOG_FILE);
    const lock = prepareFolder(folder, this.files);
    this.lockFile = lock.file;
    let opened: OpenedLog;
    let leftovers: string | undefined;
    try {
      opened = openLog(this.file, this.files);
      try {
        if (opened.snapshot !== undefined) {
          opened.state.snapshot = readSnapshotFile(this.files, folder, opened.snapshot, this.file);
        }
        leftovers = removeLeftovers(this.files, folder, opened);
      } catch (error) {
        this.files.close(opened.fd);
        throw error;
      }
    } catch (error) {
      releaseLock(lock.file);
      throw error;
    }
    this.fd = opened.fd;
    this.end = opened.end;
    this.rewriteAt = 2 * this.end + this.rewriteSlack;
    this.loaded = opened.state;
    this.snapshot = opened.snapshot;
    this.logLength = (opened.snapshot?.lastIncludedIndex ?? 0) + opened.state.log.length;
    this.recovered = opened.torn;
    this.warnings = [lock.warning, opened.torn?.message, leftovers].filter((w) => w !== undefined);
  }

  load(): PersistentState {
    if (this.closed) throw new StorageError(`${this.file} is closed`);
    const state = this.loaded ?? this.readState();
    // The caller owns what it gets: a second load reads the file again.
    this.loaded = undefined;
    return state;
  }

  save(changes: Changes): void {
    this.checkUsable();
    const logLength = this.logLengthAfter(changes);
    if (changes.hardState === undefined && changes.log === undefined && !changes.snapshot) return;
    this.loaded = undefined;
    if (changes.snapshot !== undefined) {
      this.rewrite(changes, changes.snapshot);
    } else {
      this.append(changes, "sync");
      if (this.end > this.rewriteAt) this.rewrite({}, undefined);
    }
    this.logLength = logLength;
  }

  /**
   * §10.2.1, a leader's new entries: their record is written (to the page cache) now, in order
   * after every earlier save, and made durable by an fdatasync that runs off the event loop; the
   * promise resolves once it has. Records written while a sync runs wait for the next one, which
   * covers them all (group commit). A `save` meanwhile makes them durable first: its own sync
   * covers every record before its own. A snapshot is saved by `save`, synchronously.
   */
  private writeInBackground(changes: Changes): Promise<void> {
    if (changes.snapshot !== undefined) {
      try {
        this.save(changes);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    try {
      this.checkUsable();
      const logLength = this.logLengthAfter(changes);
      this.loaded = undefined;
      this.append(changes, "no sync");
      this.logLength = logLength;
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.background.waiting.push({ resolve, reject });
      if (this.background.runningOn === undefined) this.syncInBackground();
    });
  }

  /** Appends `changes` as one record after the last one, synced before it returns or not. */
  private append(changes: Changes, sync: "sync" | "no sync"): void {
    const record = encodeRecord(changes);
    try {
      writeAll(this.files, this.fd, record, this.end);
      if (sync === "sync") this.files.fdatasync(this.fd);
    } catch (error) {
      this.fail(error, record.length);
    }
    this.end += record.length;
  }

  /**
   * One background fdatasync for every record written so far and not yet covered; when it ends,
   * the next one starts if more records were written meanwhile. A failed sync fails the storage:
   * after a failed fdatasync the page cache may have dropped the data (see `fail`).
   */
  private syncInBackground(): void {
    const covered = this.background.waiting.splice(0);
    const fd = this.fd;
    this.background.runningOn = fd;
    this.files.fdatasyncInBackground!(fd).then(
      () => {
        for (const write of covered) write.resolve();
        this.afterBackgroundSync(fd);
      },
      (error: unknown) => {
        this.failure ??= `${ioProblem(error)}; a background sync of ${this.file} failed`;
        const failed = new StorageError(`cannot save to ${this.file}: ${this.failure}`, {
          cause: error,
        });
        for (const write of covered) write.reject(failed);
        this.afterBackgroundSync(fd);
      },
    );
  }

  /**
   * After a background sync on `fd`: the close of `fd` that waited for it, then the next sync,
   * on the file as it is now (a rewrite meanwhile synced the records before it into the new
   * file, and later ones went there), or the refusal of what still waits if none can run.
   */
  private afterBackgroundSync(fd: Fd): void {
    this.background.runningOn = undefined;
    if (this.background.closeAfterSync === fd) {
      this.background.closeAfterSync = undefined;
      this.files.close(fd);
    }
    if (this.background.waiting.length === 0) return;
    if (this.closed || this.failure !== undefined) {
      const why = this.closed ? "it was closed" : this.failure;
      const refused = new StorageError(`cannot save to ${this.file}: ${why}`);
      for (const write of this.background.waiting.splice(0)) write.reject(refused);
      return;
    }
    this.syncInBackground();
  }

  /** Closes `fd` now, or after the background sync that runs on it (which must not sync another file). */
  private closeFd(fd: Fd): void {
    if (this.background.runningOn === fd) this.background.closeAfterSync = fd;
    else this.files.close(fd);
  }

  /** Closes the file and releases the data folder; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.closeFd(this.fd);
    } finally {
      releaseLock(this.lockFile);
    }
  }

  private checkUsable(): void {
    if (this.closed) throw new StorageError(`cannot save to ${this.file}: it is closed`);
    if (this.failure !== undefined) {
      throw new StorageError(
        `refusing to save to ${this.file}: an earlier save failed (${this.failure}). After a ` +
          "failed write or sync, what the disk holds is known only by reading it back: restart " +
          "the node.",
      );
    }
  }

  private logLengthAfter(changes: Changes): number {
    let base = this.snapshot?.lastIncludedIndex ?? 0;
    let last = this.logLength;
    if (changes.snapshot !== undefined) {
      const index = changes.snapshot.lastIncludedIndex;
      if (!Number.isSafeInteger(index) || index <= base) {
        throw new StorageError(
          `a snapshot through [${index}] is not newer than the one kept, through [${base}]; nothing was written`,
        );
      }
      base = index;
      last = Math.max(last, index);
    }
    if (changes.log === undefined) return last;
    const { from, entries } = changes.log;
    if (!Number.isInteger(from) || from <= base || from > last + 1) {
      throw new StorageError(
        from <= base && Number.isInteger(from)
          ? `log change at [${from}] is inside the snapshot, which ends at [${base}]; nothing was written`
          : `log change at [${from}] would leave a gap after [${last}]; nothing was written`,
      );
    }
    return from - 1 + entries.length;
  }

  /** The durable state: the log read back, on the snapshot it names. */
  private readState(): PersistentState {
    const { state, snapshot } = replay(readAll(this.files, this.fd, this.end), this.file);
    if (snapshot !== undefined) {
      state.snapshot = readSnapshotFile(this.files, this.folder, snapshot, this.file);
    }
    return state;
  }

  /**
   * Replaces raft.log by one record holding the state after `changes`, after writing `snapshot`
   * to a file of its own if there is a new one: the steps of the header comment, in that order.
   * The state before is read back from the file (without the snapshot's data, which is not
   * rewritten): what a start would find.
   */
  private rewrite(changes: Changes, snapshot: Snapshot | undefined): void {
    const { state, snapshot: kept } = replay(readAll(this.files, this.fd, this.end), this.file);
    if (kept !== undefined) state.snapshot = { ...kept, data: "" };
    applyChanges(state, changes);
    const replaced = kept?.file;
    try {
      const ref =
        snapshot === undefined ? kept : writeSnapshotFile(this.files, this.folder, snapshot);
      const record = encodeRecord(stateRecord(state, ref));
      const temporary = `${this.file}.tmp`;
      writeNewFile(this.files, temporary, Buffer.concat([fileHeader(), record]));
      this.files.rename(temporary, this.file);
      this.files.syncFolder(this.folder);
      const fd = this.files.open(this.file);
      this.closeFd(this.fd);
      this.fd = fd;
      this.end = FILE_HEADER_SIZE + record.length;
      this.rewriteAt = 2 * this.end + this.rewriteSlack;
      this.snapshot = ref;
      if (replaced !== undefined && replaced !== ref?.file) {
        this.files.remove(join(this.folder, replaced));
      }
    } catch (error) {
      this.failure = `${ioProblem(error)}; a rewrite of ${this.file} did not complete`;
      throw new StorageError(
        `cannot save to ${this.file}: ${this.failure}, so the node must stop`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * A write or sync failed: the record may be on the disk in part, in whole or not at all. It is
   * cut off (best effort: a start would cut it anyway, as a torn tail), and no later save is
   * written, since the node stops and a sync that failed once cannot be trusted to mean the
   * data is safe when it succeeds later.
   */
  private fail(error: unknown, bytes: number): never {
    this.failure = `${ioProblem(error)}; the save of ${bytes} bytes at offset ${this.end} did not become durable`;
    try {
      this.files.truncate(this.fd, this.end);
    } catch {
      // Left for the next start, which drops an incomplete last record.
    }
    throw new StorageError(`cannot save to ${this.file}: ${this.failure}, so the node must stop`, {
      cause: error,
    });
  }
}

// ---- The log file: open, read back, repair a torn tail ----

interface OpenedLog {
  fd: Fd;
  end: number;
  /** The state; its snapshot's data is still to be read from the file `snapshot` names. */
  state: PersistentState;
  snapshot: SnapshotRef | undefined;
  torn: TornTail | undefined;
  /** The file held no complete header: a new log. */
  isNew: boolean;
}

function openLog(file: string, files: FileLayer): OpenedLog {
  let fd: Fd;
  try {
    fd = files.open(file);
  } catch (error) {
    throw asStorageError(`cannot open ${file}`, error);
  }
  try {
    const bytes = readAll(files, fd, files.size(fd));
    const { state, snapshot, end, torn } = replay(bytes, file);
    if (end < bytes.length) files.truncate(fd, end);
    if (end === 0) writeAll(files, fd, fileHeader(), 0);
    if (end === 0 || torn !== undefined) files.fdatasync(fd);
    // The file's entry in its folder must be durable too, or a crash could lose the whole file
    // after saves into it were reported durable. Done on every start: the start that created
    // the file may have crashed before it got here.
    files.syncFolder(dirname(file));
    return { fd, end: Math.max(end, FILE_HEADER_SIZE), state, snapshot, torn, isNew: end === 0 };
  } catch (error) {
    files.close(fd);
    throw asStorageError(`cannot open ${file}`, error);
  }
}

/** The 12 bytes a file starts with: the log's, or with other ones a snapshot file's. */
function fileHeader(magic = MAGIC, version = FORMAT_VERSION): Buffer {
  const header = Buffer.alloc(FILE_HEADER_SIZE);
  magic.copy(header, 0);
  header.writeUInt32BE(version, magic.length);
  return header;
}

/** The first `length` bytes of the file. */
function readAll(files: FileLayer, fd: Fd, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = files.read(fd, bytes.subarray(done), done);
    if (n === 0) break; // the file is shorter than it said: read what there is
    done += n;
  }
  return bytes.subarray(0, done);
}

/** Writes all of `data` at `position`; a short write is continued, as write(2) allows. */
function writeAll(files: FileLayer, fd: Fd, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    const n = files.write(fd, data.subarray(done), position + done);
    if (n <= 0) throw new Error(`a write at offset ${position + done} wrote nothing`);
    done += n;
  }
}

interface Replay {
  /** The state the records make; a snapshot's data is not in the log, and left empty. */
  state: PersistentState;
  /** The snapshot the first record names, if it names one. */
  snapshot: SnapshotRef | undefined;
  /** The end of the last complete record; 0 when even the file header is incomplete. */
  end: number;
  torn: TornTail | undefined;
}

/** Applies every record of `bytes` in order; stops at a torn tail, throws on damage before it. */
function replay(bytes: Buffer, file: string): Replay {
  const state = emptyState();
  let snapshot: SnapshotRef | undefined;
  if (!hasFileHeader(bytes, file)) {
    const reason = "an incomplete file header: the program stopped just after creating the file";
    const torn = bytes.length > 0 ? tornTail(file, 0, bytes.length, reason) : undefined;
    return { state, snapshot, end: 0, torn };
  }
  let offset = FILE_HEADER_SIZE;
  while (offset < bytes.length) {
    const record = readRecord(bytes, offset, file);
    if ("torn" in record) {
      return {
        state,
        snapshot,
        end: offset,
        torn: tornTail(file, offset, bytes.length - offset, record.torn),
      };
    }
    const named = record.changes.snapshot;
    if (named !== undefined && offset !== FILE_HEADER_SIZE) {
      throw damaged(file, offset, "it names a snapshot but is not the first record", 0);
    }
    snapshot ??= named;
    try {
      applyChanges(state, {
        ...record.changes,
        snapshot: named === undefined ? undefined : { ...named, data: "" },
      });
    } catch (error) {
      throw damaged(file, offset, `${(error as Error).message}`, bytes.length - record.next);
    }
    offset = record.next;
  }
  return { state, snapshot, end: offset, torn: undefined };
}

function tornTail(file: string, offset: number, droppedBytes: number, reason: string): TornTail {
  const message =
    `${file}: cut off ${droppedBytes} bytes at offset ${offset}: ${reason}. A crash cut that ` +
    "write short before it returned, so nothing depended on it.";
  return { file, offset, droppedBytes, reason, message };
}

/** Whether the file header is there and right; false when it is only begun (or absent). */
function hasFileHeader(bytes: Buffer, file: string): boolean {
  const expected = fileHeader();
  if (bytes.length < FILE_HEADER_SIZE && bytes.equals(expected.subarray(0, bytes.length))) {
    return false;
  }
  const magic = bytes.subarray(0, MAGIC.length);
  if (!magic.equals(MAGIC)) {
    throw new StorageError(
      `${file} is not a raft-ts log: at offset 0 it starts with ${JSON.stringify(magic.toString("latin1"))}, ` +
        `not "${MAGIC.toString("latin1")}" and a format version. Refusing to start, and leaving ` +
        "the file as it is: check that this is the data folder of this server.",
    );
  }
  if (bytes.length < FILE_HEADER_SIZE) {
    throw new StorageError(
      `${file} holds only ${bytes.length} bytes, the start of a file header of a format version ` +
        `other than ${FORMAT_VERSION}. Refusing to start, and leaving the file as it is.`,
    );
  }
  const version = bytes.readUInt32BE(MAGIC.length);
  if (version >= OLDEST_READABLE_VERSION && version <= FORMAT_VERSION) return true;
  const which =
    version > FORMAT_VERSION
      ? `format version ${version}, newer than this program's (${FORMAT_VERSION}): run the newer raft-ts that wrote it`
      : `format version ${version}, older than the oldest this program reads (${OLDEST_READABLE_VERSION}), and there is no converter: run the raft-ts that wrote it`;
  throw new StorageError(
    `${file} (offset ${MAGIC.length}) has ${which}. Refusing to start, and leaving the file as it is.`,
  );
}

// ---- Records ----

/** One save as the bytes of its record (exported for the tests, to forge records). */
export function encodeRecord(changes: Changes | LogRecord): Buffer {
  const { hardState, snapshot, log } = changes;
  return frame(Buffer.from(JSON.stringify({ hardState, snapshot, log }), "utf8"));
}

/** `payload` framed as a record: its length, the length's checksum, its checksum, itself. */
function frame(payload: Buffer): Buffer {
  const record = Buffer.alloc(RECORD_HEADER_SIZE + payload.length);
  record.writeUInt32BE(payload.length, 0);
  record.writeUInt32BE(crc32(record.subarray(0, 4)), 4);
  record.writeUInt32BE(crc32(payload), 8);
  payload.copy(record, RECORD_HEADER_SIZE);
  return record;
}

/** The record at `offset`: its changes and where the next one starts, or why it is a torn tail. */
function readRecord(
  bytes: Buffer,
  offset: number,
  file: string,
): { changes: LogRecord; next: number } | { torn: string } {
  const rest = bytes.length - offset;
  if (rest < RECORD_HEADER_SIZE) {
    return { torn: `an incomplete record header (${rest} of ${RECORD_HEADER_SIZE} bytes)` };
  }
  const length = bytes.readUInt32BE(offset);
  if (crc32(bytes.subarray(offset, offset + 4)) !== bytes.readUInt32BE(offset + 4)) {
    if (bytes.subarray(offset).every((b) => b === 0)) {
      return { torn: "zeros to the end: the file grew but the last write never reached the disk" };
    }
    throw damaged(file, offset, "its length fails its checksum", rest - RECORD_HEADER_SIZE);
  }
  const next = offset + RECORD_HEADER_SIZE + length;
  if (next > bytes.length) {
    return { torn: `an incomplete record (${rest} of ${RECORD_HEADER_SIZE + length} bytes)` };
  }
  const payload = bytes.subarray(offset + RECORD_HEADER_SIZE, next);
  if (crc32(payload) !== bytes.readUInt32BE(offset + 8)) {
    // The last record: a torn write looks exactly like this. One with more after it cannot be.
    if (next === bytes.length) return { torn: "a last record that fails its checksum" };
    throw damaged(file, offset, "its contents fail their checksum", bytes.length - next);
  }
  return { changes: decodeChanges(payload, file, offset, bytes.length - next), next };
}

/** A record's payload back as Changes; throws if it is not a save (its checksum matched). */
function decodeChanges(payload: Buffer, file: string, offset: number, after: number): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw damaged(file, offset, "its checksum matches but it is not JSON", after);
  }
  const problem = changesProblem(value);
  if (problem !== undefined)
    throw damaged(file, offset, `its checksum matches but ${problem}`, after);
  return value as LogRecord;
}

/** Why `value` is not a save's Changes, or undefined if it is one. */
function changesProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "it is not an object";
  const { hardState, snapshot, log } = value as Record<string, unknown>;
  if (snapshot !== undefined) {
    const named = Object(snapshot) as Record<string, unknown>;
    const counts = ["lastIncludedIndex", "lastIncludedTerm", "checksum", "size"];
    if (!counts.every((field) => isCount(named[field])) || !isSnapshotFile(named.file)) {
      return "its snapshot is not named by index, term, file, checksum and size";
    }
  }
  if (hardState !== undefined) {
    const { currentTerm, votedFor } = Object(hardState) as Record<string, unknown>;
    if (!isCount(currentTerm)) return "its currentTerm is not a whole number";
    if (votedFor !== null && typeof votedFor !== "number") return "its votedFor is not a node id";
  }
  if (log !== undefined) {
    const { from, entries } = Object(log) as Record<string, unknown>;
    if (!isCount(from) || !Array.isArray(entries)) return "its log change has no from or entries";
    if (!entries.every((e: unknown) => isCount((e as Record<string, unknown> | null)?.term))) {
      return "one of its entries has no term";
    }
  }
  return undefined;
}

// ---- Snapshot files ----

/** The name of the file that holds the snapshot through [index] of term `term`. */
function snapshotFileName(index: number, term: number): string {
  return `snapshot-${index}-${term}.raft`;
}

function isSnapshotFile(name: unknown): boolean {
  return typeof name === "string" && /^snapshot-\d+-\d+\.raft$/.test(name);
}

/** Steps 1 and 2 of a save with a snapshot: the file, written aside, synced, renamed into place. */
function writeSnapshotFile(files: FileLayer, folder: string, snapshot: Snapshot): SnapshotRef {
  const { lastIncludedIndex, lastIncludedTerm } = snapshot;
  const file = snapshotFileName(lastIncludedIndex, lastIncludedTerm);
  const data = Buffer.from(snapshot.data, "utf8");
  const meta = Buffer.from(JSON.stringify({ lastIncludedIndex, lastIncludedTerm }), "utf8");
  const path = join(folder, file);
  writeNewFile(
    files,
    `${path}.tmp`,
    Buffer.concat([fileHeader(SNAPSHOT_MAGIC, SNAPSHOT_VERSION), frame(meta), frame(data)]),
  );
  files.rename(`${path}.tmp`, path);
  files.syncFolder(folder);
  return { lastIncludedIndex, lastIncludedTerm, file, checksum: crc32(data), size: data.length };
}

/** Writes `bytes` as the whole of the file `path` and makes them durable. */
function writeNewFile(files: FileLayer, path: string, bytes: Buffer): void {
  const fd = files.open(path);
  try {
    files.truncate(fd, 0);
    writeAll(files, fd, bytes, 0);
    files.fdatasync(fd);
  } finally {
    files.close(fd);
  }
}

/** The log after a rewrite, as one record: term and vote, the snapshot, the entries after it. */
function stateRecord(state: PersistentState, snapshot: SnapshotRef | undefined): LogRecord {
  const from = (snapshot?.lastIncludedIndex ?? 0) + 1;
  return {
    hardState: { currentTerm: state.currentTerm, votedFor: state.votedFor },
    ...(snapshot === undefined ? {} : { snapshot }),
    log: { from, entries: state.log },
  };
}

/**
 * The snapshot the log names, read back whole and checked against the name: its data. Anything
 * else is refused: the entries it replaced are in no other file.
 */
function readSnapshotFile(
  files: FileLayer,
  folder: string,
  ref: SnapshotRef,
  logFile: string,
): Snapshot {
  const path = join(folder, ref.file);
  const refuse = (what: string) =>
    new StorageError(
      `${path}: ${what}. ${logFile} builds on this snapshot: the entries through ` +
        `[${ref.lastIncludedIndex}] are in it and in no other file, so the server cannot start, ` +
        `and the files are left as they are. ${recoveryAdvice}`,
    );
  if (!files.list(folder).includes(ref.file)) throw refuse("the file is missing");
  const fd = files.open(path);
  let bytes: Buffer;
  try {
    bytes = readAll(files, fd, files.size(fd));
  } finally {
    files.close(fd);
  }
  const header = fileHeader(SNAPSHOT_MAGIC, SNAPSHOT_VERSION);
  if (!bytes.subarray(0, FILE_HEADER_SIZE).equals(header)) {
    const version = bytes.length >= FILE_HEADER_SIZE ? bytes.readUInt32BE(8) : undefined;
    throw refuse(
      bytes.subarray(0, 8).equals(SNAPSHOT_MAGIC) && version !== undefined
        ? `format version ${version}, not ${SNAPSHOT_VERSION}: run the raft-ts that wrote it`
        : `it is not a raft-ts snapshot (${bytes.length} bytes, without the "RAFT-SNP" header)`,
    );
  }
  const meta = readFrame(bytes, FILE_HEADER_SIZE);
  if (typeof meta === "string") throw refuse(meta);
  const data = readFrame(bytes, meta.next);
  if (typeof data === "string") throw refuse(data);
  const said = parseJson(meta.payload) as Partial<Snapshot> | undefined;
  const problem =
    said?.lastIncludedIndex !== ref.lastIncludedIndex ||
    said.lastIncludedTerm !== ref.lastIncludedTerm
      ? `it says it is the snapshot through [${said?.lastIncludedIndex}] T${said?.lastIncludedTerm}, but the log names [${ref.lastIncludedIndex}] T${ref.lastIncludedTerm}`
      : crc32(data.payload) !== ref.checksum || data.payload.length !== ref.size
        ? `its data (${data.payload.length} bytes) is not the data the log names (${ref.size} bytes, checksum ${ref.checksum})`
        : data.next !== bytes.length
          ? `${bytes.length - data.next} bytes follow its data`
          : undefined;
  if (problem !== undefined) throw refuse(problem);
  const { lastIncludedIndex, lastIncludedTerm } = ref;
  return { lastIncludedIndex, lastIncludedTerm, data: data.payload.toString("utf8") };
}

/** The framed record at `offset` of a snapshot file, or what is wrong with it. */
function readFrame(bytes: Buffer, offset: number): { payload: Buffer; next: number } | string {
  if (bytes.length - offset < RECORD_HEADER_SIZE) {
    return `truncated: it ends at byte ${bytes.length}, inside the record header at offset ${offset}`;
  }
  const length = bytes.readUInt32BE(offset);
  if (crc32(bytes.subarray(offset, offset + 4)) !== bytes.readUInt32BE(offset + 4)) {
    return `damaged: the record at offset ${offset} has a length that fails its checksum`;
  }
  const next = offset + RECORD_HEADER_SIZE + length;
  if (next > bytes.length) {
    return `truncated: it ends at byte ${bytes.length}, inside the record at offset ${offset} (which ends at ${next})`;
  }
  const payload = bytes.subarray(offset + RECORD_HEADER_SIZE, next);
  if (crc32(payload) !== bytes.readUInt32BE(offset + 8)) {
    return `damaged: the record at offset ${offset} fails its checksum`;
  }
  return { payload, next };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Deletes what a snapshot save that a crash interrupted left behind (*.tmp, snapshot files the
 * log does not name), and says what it deleted. Snapshot files beside a new, empty log are not
 * leftovers but a damaged folder: refused.
 */
function removeLeftovers(files: FileLayer, folder: string, opened: OpenedLog): string | undefined {
  const names = files.list(folder);
  const unnamed = names.filter((n) => isSnapshotFile(n) && n !== opened.snapshot?.file);
  if (opened.isNew && unnamed.length > 0) {
    throw new StorageError(
      `${folder} holds ${unnamed.join(", ")} but no log (${LOG_FILE} is missing or empty): the ` +
        "snapshot alone does not say this server's term and vote. Refusing to start, and leaving " +
        `the files as they are. ${recoveryAdvice}`,
    );
  }
  const temporary = names.filter(
    (n) => n === `${LOG_FILE}.tmp` || (n.startsWith("snapshot-") && n.endsWith(".tmp")),
  );
  const removed = [...temporary, ...unnamed];
  for (const name of removed) files.remove(join(folder, name));
  if (removed.length === 0) return undefined;
  return `${folder}: removed ${removed.join(", ")}, left by a save with a snapshot that a crash interrupted (the log does not use them)`;
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** The error for damage before the tail: the file is left alone, the start refused. */
function damaged(file: string, offset: number, what: string, after: number): StorageError {
  const followed = after > 0 ? `, and ${after} more bytes follow it` : "";
  return new StorageError(
    `${file}: the record at offset ${offset} is damaged: ${what}${followed}. This is not a save ` +
      "cut short by a crash, so nothing is cut off (it may hold committed entries) and the " +
      `server cannot start. ${recoveryAdvice}`,
  );
}

/** `error` as a StorageError (the one a node stops on), saying what failed. */
function asStorageError(what: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(`${what}: ${ioProblem(error)}`, { cause: error });
}

/** An I/O error in words, with what to do for the ones a disk is known for. */
function ioProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOSPC":
      return "the disk is full (ENOSPC): free some space, then restart the node";
    case "EDQUOT":
      return "the disk quota is used up (EDQUOT): raise it or free some space, then restart";
    case "EIO":
      return "the disk reported an I/O error (EIO): check the device and the system log";
    case "EROFS":
      return "the file system is read-only (EROFS)";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

// ---- The data folder and its lock ----

/** Creates the folder if need be and takes its lock. */
function prepareFolder(folder: string, files: FileLayer): ReturnType<typeof takeLock> {
  try {
    makeFolder(folder, files);
    return takeLock(folder);
  } catch (error) {
    throw asStorageError(`cannot open ${folder}`, error);
  }
}

/** Creates the folder if needed; each new folder's entry is made durable in its parent. */
function makeFolder(folder: string, files: FileLayer): void {
  const first = mkdirSync(folder, { recursive: true }); // the first folder it made, if any
  if (first === undefined) return;
  for (let made = resolve(folder); ; made = dirname(made)) {
    files.syncFolder(dirname(made));
    if (made === resolve(first)) return;
  }
}

/** Lock files this process holds: a second open in the same process is refused as well. */
const heldLocks = new Set<string>();

/**
 * Takes the folder's lock file, which names this process. A lock left by a process that is no
 * longer running (it crashed) is taken over, with a warning. Node has no OS file lock (flock),
 * so two processes that find the same stale lock at the same instant could both take it over.
 */
function takeLock(folder: string): { file: string; warning: string | undefined } {
  const file = resolve(folder, LOCK_FILE);
  let warning: string | undefined;
  for (let attempt = 1; ; attempt++) {
    if (createLock(file)) {
      heldLocks.add(file);
      return { file, warning };
    }
    if (heldLocks.has(file)) {
      throw new StorageError(
        `${folder} is already open in this process (pid ${process.pid}): close the other DiskStorage on it first`,
      );
    }
    const pid = lockOwner(file);
    if (pid !== undefined && pid !== process.pid && isRunning(pid)) {
      throw new StorageError(
        `${folder} is in use by process ${pid} (lock file ${file}): stop that process first. ` +
          `If process ${pid} is something else and no process uses this folder, delete the lock file.`,
      );
    }
    if (attempt > 1) throw new StorageError(`could not take ${file}: another process took it`);
    warning = `${file}: took over the lock of process ${pid ?? "(unreadable)"}, which is no longer running (it stopped without closing its storage)`;
    rmSync(file, { force: true });
  }
}

/** Creates the lock file with this process's id in it, in one step; false if it exists. */
function createLock(file: string): boolean {
  // Written aside and then linked into place, so a lock file never exists without its pid.
  const aside = `${file}.${process.pid}`;
  writeFileSync(aside, `${process.pid}\n`);
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

function lockOwner(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // gone already, or unreadable
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // it exists, run by someone else
  }
}

function releaseLock(file: string): void {
  heldLocks.delete(file);
  rmSync(file, { force: true });
}
