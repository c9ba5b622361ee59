// DiskStorage: the Storage of a real process, kept in one data folder. Every save is one record
// appended to one file and made durable (fdatasync) before `save` returns; nothing already
// written is ever rewritten. A restart reads the whole file back, record by record (a full
// replay: fine for a teaching repository, which has no snapshots yet; a real one would start
// from a snapshot and replay only the records after it).
//
// The data folder holds:
//
//   raft.log    the log of saves, below
//   raft.lock   the id (pid) of the process that has the folder open; removed by `close`
//
// raft.log, byte by byte (integers are unsigned, 32 bits, big-endian):
//
//   offset 0    "RAFT-LOG"          8 ASCII bytes: this is a raft-ts log
//   offset 8    version             the format version: 1
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
// saved with them, so a save is durable whole or not at all.
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

import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import { type Fd, type FileLayer, nodeFiles } from "./files.ts";
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
export const FORMAT_VERSION = 1;
const FILE_HEADER_SIZE = 12;
const RECORD_HEADER_SIZE = 12;

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
}

const recoveryAdvice =
  "To recover, keep a copy of the data folder, then restore it from a backup of this server. " +
  "Without one, the server can only come back empty (an empty data folder), which is safe only " +
  "while the other servers form a majority without it: an emptied server has forgotten its " +
  "entries and the votes it gave.";

export class DiskStorage implements Storage {
  /** The log file's path. */
  readonly file: string;
  /** The torn tail this start cut off, if any. */
  readonly recovered: TornTail | undefined;
  /** What this start repaired (a torn tail, a stale lock), one sentence each, to log or trace. */
  readonly warnings: readonly string[];
  private readonly files: FileLayer;
  private readonly lockFile: string;
  private readonly fd: Fd;
  /** Where the next record goes: the end of the last durable record. */
  private end: number;
  /** The log's length after the last durable record, to refuse a change that leaves a gap. */
  private logLength: number;
  /** The state read at start, until it is handed out or out of date. */
  private loaded: PersistentState | undefined;
  /** Why an earlier save failed; no save is written on top of it. */
  private failure: string | undefined;
  private closed = false;

  /** Opens (or creates) the data folder `folder` and reads its log back; throws StorageError. */
  constructor(folder: string, options: DiskStorageOptions = {}) {
    this.files = options.files ?? nodeFiles;
    this.file = join(folder, LOG_FILE);
    const lock = prepareFolder(folder, this.files);
    this.lockFile = lock.file;
    let opened: OpenedLog;
    try {
      opened = openLog(this.file, this.files);
    } catch (error) {
      releaseLock(lock.file);
      throw error;
    }
    this.fd = opened.fd;
    this.end = opened.end;
    this.loaded = opened.state;
    this.logLength = opened.state.log.length;
    this.recovered = opened.torn;
    this.warnings = [lock.warning, opened.torn?.message].filter((w) => w !== undefined);
  }

  load(): PersistentState {
    if (this.closed) throw new StorageError(`${this.file} is closed`);
    const state = this.loaded ?? replay(readAll(this.files, this.fd, this.end), this.file).state;
    // The caller owns what it gets: a second load reads the file again.
    this.loaded = undefined;
    return state;
  }

  save(changes: Changes): void {
    this.checkUsable();
    const logLength = this.logLengthAfter(changes);
    if (changes.hardState === undefined && changes.log === undefined) return;
    const record = encodeRecord(changes);
    this.loaded = undefined;
    try {
      writeAll(this.files, this.fd, record, this.end);
      this.files.fdatasync(this.fd);
    } catch (error) {
      this.fail(error, record.length);
    }
    this.end += record.length;
    this.logLength = logLength;
  }

  /** Closes the file and releases the data folder; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.files.close(this.fd);
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
    if (changes.log === undefined) return this.logLength;
    const { from, entries } = changes.log;
    if (!Number.isInteger(from) || from < 1 || from > this.logLength + 1) {
      throw new StorageError(
        `log change at [${from}] would leave a gap after [${this.logLength}]; nothing was written`,
      );
    }
    return from - 1 + entries.length;
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
  state: PersistentState;
  torn: TornTail | undefined;
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
    const { state, end, torn } = replay(bytes, file);
    if (end < bytes.length) files.truncate(fd, end);
    if (end === 0) writeAll(files, fd, fileHeader(), 0);
    if (end === 0 || torn !== undefined) files.fdatasync(fd);
    // The file's entry in its folder must be durable too, or a crash could lose the whole file
    // after saves into it were reported durable. Done on every start: the start that created
    // the file may have crashed before it got here.
    files.syncFolder(dirname(file));
    return { fd, end: Math.max(end, FILE_HEADER_SIZE), state, torn };
  } catch (error) {
    files.close(fd);
    throw asStorageError(`cannot open ${file}`, error);
  }
}

function fileHeader(): Buffer {
  const header = Buffer.alloc(FILE_HEADER_SIZE);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(FORMAT_VERSION, MAGIC.length);
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
  state: PersistentState;
  /** The end of the last complete record; 0 when even the file header is incomplete. */
  end: number;
  torn: TornTail | undefined;
}

/** Applies every record of `bytes` in order; stops at a torn tail, throws on damage before it. */
function replay(bytes: Buffer, file: string): Replay {
  const state = emptyState();
  if (!hasFileHeader(bytes, file)) {
    const reason = "an incomplete file header: the program stopped just after creating the file";
    const torn = bytes.length > 0 ? tornTail(file, 0, bytes.length, reason) : undefined;
    return { state, end: 0, torn };
  }
  let offset = FILE_HEADER_SIZE;
  while (offset < bytes.length) {
    const record = readRecord(bytes, offset, file);
    if ("torn" in record) {
      return {
        state,
        end: offset,
        torn: tornTail(file, offset, bytes.length - offset, record.torn),
      };
    }
    try {
      applyChanges(state, record.changes);
    } catch (error) {
      throw damaged(file, offset, `${(error as Error).message}`, bytes.length - record.next);
    }
    offset = record.next;
  }
  return { state, end: offset, torn: undefined };
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
  if (version === FORMAT_VERSION) return true;
  const which =
    version > FORMAT_VERSION
      ? `format version ${version}, newer than this program's (${FORMAT_VERSION}): run the newer raft-ts that wrote it`
      : `format version ${version}, older than this program's (${FORMAT_VERSION}), and there is no converter: run the raft-ts that wrote it`;
  throw new StorageError(
    `${file} (offset ${MAGIC.length}) has ${which}. Refusing to start, and leaving the file as it is.`,
  );
}

// ---- Records ----

/** One save as the bytes of its record (exported for the tests, to forge records). */
export function encodeRecord(changes: Changes): Buffer {
  const { hardState, log } = changes;
  const payload = Buffer.from(JSON.stringify({ hardState, log }), "utf8");
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
): { changes: Changes; next: number } | { torn: string } {
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
function decodeChanges(payload: Buffer, file: string, offset: number, after: number): Changes {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw damaged(file, offset, "its checksum matches but it is not JSON", after);
  }
  const problem = changesProblem(value);
  if (problem !== undefined)
    throw damaged(file, offset, `its checksum matches but ${problem}`, after);
  return value as Changes;
}

/** Why `value` is not a save's Changes, or undefined if it is one. */
function changesProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "it is not an object";
  const { hardState, log } = value as Record<string, unknown>;
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
