// The few file operations DiskStorage needs, behind a small interface so that tests can put
// faults between them: a crash between a write and its fdatasync, a disk that fills up in the
// middle of a write, a sync that fails, a crash between a rename and the sync of its folder.
// `nodeFiles` is the real thing: node:fs, synchronous, like the Storage interface it serves.

import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";

/** A file descriptor, as node:fs hands them out. */
export type Fd = number;

export interface FileLayer {
  /** Opens a file for reading and writing, creating it (empty) if it does not exist. */
  open(path: string): Fd;
  /** The file's size in bytes. */
  size(fd: Fd): number;
  /** Reads into `into` from byte `position` on; returns how many bytes it read (0 at the end). */
  read(fd: Fd, into: Uint8Array, position: number): number;
  /** Writes `data` at byte `position`; returns how many bytes it wrote, which may be fewer. */
  write(fd: Fd, data: Uint8Array, position: number): number;
  /** Makes what was written durable, and the file's size with it (fdatasync). */
  fdatasync(fd: Fd): void;
  /**
   * Optional: the same fdatasync, run off the calling thread (thesis §10.2.1: a leader's write
   * goes on while it sends): resolves once durable. With it, DiskStorage offers saveInBackground.
   * `nodeFiles` has none (a DiskStorage under a virtual clock must not wait on real I/O);
   * `fdatasyncInBackground` below is the real one, which a real process adds.
   */
  fdatasyncInBackground?(fd: Fd): Promise<void>;
  /** Cuts the file to `length` bytes. */
  truncate(fd: Fd, length: number): void;
  close(fd: Fd): void;
  /** Makes a folder's entries durable: a file just created in it survives a crash only then. */
  syncFolder(path: string): void;
  /** Renames a file, replacing `to` if it exists, in one step; durable once its folder is synced. */
  rename(from: string, to: string): void;
  /** Deletes a file, if it exists. */
  remove(path: string): void;
  /** The names of the entries of a folder. */
  list(folder: string): string[];
}

export const nodeFiles: FileLayer = {
  // Positional writes, not O_APPEND: the storage says where each record goes, so that after a
  // failed write it can cut the file back to the last good record and know where it stands.
  open: (path) => openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644),
  size: (fd) => fstatSync(fd).size,
  read: (fd, into, position) => readSync(fd, into, 0, into.length, position),
  write: (fd, data, position) => writeSync(fd, data, 0, data.length, position),
  fdatasync: (fd) => fdatasyncSync(fd),
  truncate: (fd, length) => ftruncateSync(fd, length),
  close: (fd) => closeSync(fd),
  syncFolder(path) {
    // Windows cannot open a folder to sync it (and NTFS journals its folder entries itself).
    if (process.platform === "win32") return;
    const fd = openSync(path, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  rename: (from, to) => renameSync(from, to),
  remove: (path) => rmSync(path, { force: true }),
  list: (folder) => readdirSync(folder),
};

/** fdatasync in libuv's thread pool: the event loop goes on (receives, sends) while the disk syncs. */
export function fdatasyncInBackground(fd: Fd): Promise<void> {
  return new Promise((resolve, reject) =>
    fdatasync(fd, (error) => (error ? reject(error) : resolve())),
  );
}
