// A file layer for DiskStorage's tests that fails the way disks and processes fail: a crash
// between a write and its fdatasync (keeping only part of the unsynced write: a torn tail), a
// crash right after a sync, a disk that fills up in the middle of a write, a sync that reports
// an I/O error, a crash before any one step (losing what was not synced, renames included). It
// works on real files through `nodeFiles` and counts every write and sync.
//
// A crash is simulated on the real file: what was synced stays, and of the write the crash
// interrupted only the first `keep` bytes, as if the rest had still been in the page cache.
// From then on the "process" is dead: nothing it does reaches the file, and every call but
// `close` (which frees the real descriptor) throws.
//
// Real fdatasync calls are skipped: durability is what this layer simulates, and hundreds of
// real syncs would only slow the tests down.

import { existsSync, linkSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { type Fd, type FileLayer, nodeFiles } from "../src/files.ts";

/** The simulated death of the process, thrown from inside the file layer. */
export class Crash extends Error {}

export interface FaultPlan {
  /** Crash at this write, counted from 1 over every write of the layer. */
  crashAtWrite?: number;
  /**
   * How: `keep` bytes of that write (a function of its length) survive a crash before its sync;
   * "after sync": the write is made durable and the process dies just after.
   */
  crash?: ((length: number) => number) | "after sync";
  /** Bytes the disk can still take: a write is cut short there, the next one fails ENOSPC. */
  space?: number;
  /** This fdatasync, counted from 1, fails with EIO and syncs nothing. */
  failSync?: number;
  /**
   * Crash just before this step, counted from 1 over every step that changes the disk (a write, a
   * sync, a truncation, a rename, a deletion, a folder sync): what was synced stays, the rest of
   * every open file is lost.
   */
  crashBeforeStep?: number;
  /** At that crash, renames whose folder was not synced since are undone too. */
  loseUnsyncedRenames?: boolean;
}

export class FaultyFiles implements FileLayer {
  writes = 0;
  syncs = 0;
  /** Steps that change the disk, so far (see FaultPlan.crashBeforeStep). */
  steps = 0;
  crashed = false;
  /** The length of the last write, so a test knows whether a crash kept all of it. */
  lastWriteLength = 0;
  /** The folders whose entries were made durable, in order. */
  readonly syncedFolders: string[] = [];
  private space: number;
  private crashAtNextSync = false;
  /** Per descriptor, how many bytes of the file are durable. */
  private readonly synced = new Map<Fd, number>();
  /** Renames not yet made durable by a sync of their folder; `replaced` keeps the old target. */
  private readonly pendingRenames: { from: string; to: string; replaced: string | undefined }[] =
    [];

  private readonly plan: FaultPlan;

  constructor(plan: FaultPlan = {}) {
    this.plan = plan;
    this.space = plan.space ?? Number.POSITIVE_INFINITY;
  }

  open(path: string): Fd {
    this.alive();
    const fd = nodeFiles.open(path);
    this.synced.set(fd, nodeFiles.size(fd)); // what was on the disk before this process started
    return fd;
  }

  size(fd: Fd): number {
    this.alive();
    return nodeFiles.size(fd);
  }

  read(fd: Fd, into: Uint8Array, position: number): number {
    this.alive();
    return nodeFiles.read(fd, into, position);
  }

  write(fd: Fd, data: Uint8Array, position: number): number {
    this.step();
    this.writes++;
    if (this.space <= 0) throw errno("ENOSPC", "no space left on device", "write");
    const written = nodeFiles.write(
      fd,
      data.subarray(0, Math.min(data.length, this.space)),
      position,
    );
    this.space -= written;
    this.lastWriteLength = written;
    if (this.writes === this.plan.crashAtWrite) this.crashAfterWrite(fd, position, written);
    return written;
  }

  fdatasync(fd: Fd): void {
    this.step();
    this.syncs++;
    if (this.syncs === this.plan.failSync) throw errno("EIO", "i/o error", "fdatasync");
    this.synced.set(fd, nodeFiles.size(fd));
    if (this.crashAtNextSync) this.die();
  }

  truncate(fd: Fd, length: number): void {
    this.step();
    nodeFiles.truncate(fd, length);
    this.synced.set(fd, Math.min(this.synced.get(fd) ?? length, length));
  }

  close(fd: Fd): void {
    this.synced.delete(fd);
    nodeFiles.close(fd);
  }

  syncFolder(path: string): void {
    this.step();
    this.syncedFolders.push(path);
    // The folder's renames are durable now. (Created files are not simulated: no fault here
    // loses a folder entry other than a rename's.)
    for (const pending of this.pendingRenames.filter((r) => dirname(r.to) === path)) {
      if (pending.replaced !== undefined) rmSync(pending.replaced, { force: true });
      this.pendingRenames.splice(this.pendingRenames.indexOf(pending), 1);
    }
  }

  rename(from: string, to: string): void {
    this.step();
    // The old target is kept aside, so that a crash before the folder's sync can bring it back.
    const replaced = existsSync(to) ? `${to}.replaced-${this.pendingRenames.length}` : undefined;
    if (replaced !== undefined) linkSync(to, replaced);
    nodeFiles.rename(from, to);
    this.pendingRenames.push({ from, to, replaced });
  }

  remove(path: string): void {
    this.step();
    nodeFiles.remove(path);
  }

  list(folder: string): string[] {
    this.alive();
    return nodeFiles.list(folder).filter((name) => !/\.replaced-\d+$/.test(name));
  }

  /** A step that changes the disk: the process may die just before it. */
  private step(): void {
    this.alive();
    if (++this.steps !== this.plan.crashBeforeStep) return;
    for (const [fd, length] of this.synced) nodeFiles.truncate(fd, length);
    for (const { from, to, replaced } of this.pendingRenames.reverse()) {
      if (!this.plan.loseUnsyncedRenames) {
        if (replaced !== undefined) rmSync(replaced, { force: true });
        continue;
      }
      renameSync(to, from);
      if (replaced !== undefined) renameSync(replaced, to);
    }
    this.pendingRenames.length = 0;
    this.die();
  }

  private crashAfterWrite(fd: Fd, position: number, written: number): void {
    const crash = this.plan.crash;
    if (crash === "after sync") {
      this.crashAtNextSync = true;
      return;
    }
    // The model: one unsynced write at a time, at the end of what is durable (DiskStorage's way).
    if (position !== this.synced.get(fd)) throw new Error("two unsynced writes: not simulated");
    nodeFiles.truncate(fd, position + Math.min(crash?.(written) ?? 0, written));
    this.die();
  }

  private die(): never {
    this.crashed = true;
    throw new Crash("the process crashed (simulated)");
  }

  private alive(): void {
    if (this.crashed) throw new Crash("the process has crashed; nothing it does reaches the disk");
  }
}

/** An error like the ones node:fs throws for a failed system call. */
function errno(code: string, description: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${description}, ${syscall}`), { code, syscall });
}
