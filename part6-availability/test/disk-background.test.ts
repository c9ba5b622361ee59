// Goal: DiskStorage's background saves (thesis §10.2.1, a leader's new entries written while its
// AppendEntries travel) keep every promise of `save`: a background save resolves only once an
// fdatasync started after its record was written has ended; records stay in the order they were
// handed over, mixed with synchronous saves; saves written while a sync runs share the next one
// (group commit); a failed sync fails the save and every later one; a descriptor is never closed
// under a sync still running on it (a snapshot's rewrite, a close).
// Method: real files in a temporary folder; a file layer whose background syncs the test ends by
// hand, one at a time, so that each step is seen in order. Nothing here depends on time.

import { describe, expect, test } from "vitest";
import { type Fd, type FileLayer, nodeFiles } from "../src/files.ts";
import { MemoryStorage, StorageError } from "../src/storage.ts";
import { entry, open, reopen, tempFolder } from "./disk-fixtures.ts";

/** nodeFiles, with background syncs that wait for the test to end them. */
class HeldSyncs implements FileLayer {
  /** The background syncs started and not yet ended, oldest first. */
  readonly running: { fd: Fd; end: (error?: Error) => void }[] = [];
  readonly closed: Fd[] = [];
  started = 0;
  open = nodeFiles.open;
  size = nodeFiles.size;
  read = nodeFiles.read;
  write = nodeFiles.write;
  fdatasync = nodeFiles.fdatasync;
  truncate = nodeFiles.truncate;
  syncFolder = nodeFiles.syncFolder;
  rename = nodeFiles.rename;
  remove = nodeFiles.remove;
  list = nodeFiles.list;

  close(fd: Fd): void {
    expect(this.running.map((sync) => sync.fd)).not.toContain(fd);
    this.closed.push(fd);
    nodeFiles.close(fd);
  }

  fdatasyncInBackground(fd: Fd): Promise<void> {
    this.started++;
    return new Promise((resolve, reject) => {
      this.running.push({ fd, end: (error) => (error === undefined ? resolve() : reject(error)) });
    });
  }

  /** Ends the oldest running sync, and lets the storage react to it. */
  async endOne(error?: Error): Promise<void> {
    const sync = this.running.shift();
    if (sync === undefined) throw new Error("no background sync is running");
    sync.end(error);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Whether `promise` has settled, and how, without waiting for it. */
function watch(promise: Promise<void>): { state: "pending" | "resolved" | "rejected" } {
  const seen = { state: "pending" as "pending" | "resolved" | "rejected" };
  promise.then(
    () => (seen.state = "resolved"),
    () => (seen.state = "rejected"),
  );
  return seen;
}

/** The error `promise` rejects with (handled at once), or undefined if it resolves. */
function failureOf(promise: Promise<void>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

const append = (from: number, term: number, command: string) => ({
  log: { from, entries: [entry(term, command)] },
});

describe("§10.2.1: a leader's entries saved in the background", () => {
  test("resolves only after a sync that began after its write; saves during a sync share the next", async () => {
    const files = new HeldSyncs();
    const storage = open(tempFolder(), { files });
    storage.save({ hardState: { currentTerm: 1, votedFor: 0 } });
    const first = watch(storage.saveInBackground!(append(1, 1, "a")));
    expect(files.running).toHaveLength(1);
    const second = watch(storage.saveInBackground!(append(2, 1, "b")));
    const third = watch(storage.saveInBackground!(append(3, 1, "c")));
    expect(files.running).toHaveLength(1); // b and c wait for the next sync: theirs began too early
    await files.endOne();
    expect([first.state, second.state, third.state]).toEqual(["resolved", "pending", "pending"]);
    expect(files.running).toHaveLength(1); // one sync for both
    await files.endOne();
    expect([second.state, third.state]).toEqual(["resolved", "resolved"]);
    expect(files.started).toBe(2);
    expect(storage.load().log.map((e) => e.command)).toEqual(["a", "b", "c"]);
  });

  test("mixed with synchronous saves, the records keep their order and read back as MemoryStorage's", async () => {
    const files = new HeldSyncs();
    const folder = tempFolder();
    const storage = open(folder, { files });
    const memory = new MemoryStorage();
    const saves = [
      { hardState: { currentTerm: 2, votedFor: 1 } },
      append(1, 2, "a"),
      append(2, 2, "b"),
      { hardState: { currentTerm: 3, votedFor: null } },
      { log: { from: 2, entries: [entry(3, "b'")] } }, // a truncation, by a synchronous save
      append(3, 3, "c"),
    ];
    const background = new Set([1, 2, 5]);
    const pending: Promise<void>[] = [];
    for (const [k, changes] of saves.entries()) {
      memory.save(changes);
      if (background.has(k)) pending.push(storage.saveInBackground!(changes));
      else storage.save(changes);
    }
    while (files.running.length > 0) await files.endOne();
    await Promise.all(pending);
    storage.close();
    expect(reopen(folder).state).toEqual(memory.load());
  });

  test("a failed background sync fails its saves, those waiting for the next, and every later save", async () => {
    const files = new HeldSyncs();
    const storage = open(tempFolder(), { files });
    storage.save({ hardState: { currentTerm: 1, votedFor: 0 } });
    const first = failureOf(storage.saveInBackground!(append(1, 1, "a")));
    const waiting = failureOf(storage.saveInBackground!(append(2, 1, "b")));
    await files.endOne(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    expect(await first).toBeInstanceOf(StorageError);
    expect(await waiting).toBeInstanceOf(StorageError);
    expect(String(await waiting)).toMatch(/I\/O error/);
    expect(files.running).toHaveLength(0); // no sync on top of a failed one
    expect(() => storage.save(append(3, 1, "c"))).toThrow(/an earlier save failed/);
    await expect(storage.saveInBackground!(append(3, 1, "c"))).rejects.toThrow(StorageError);
  });

  test("a snapshot's rewrite during a sync closes the old file only after it; later saves sync the new one", async () => {
    const files = new HeldSyncs();
    const folder = tempFolder();
    const storage = open(folder, { files });
    storage.save({ hardState: { currentTerm: 1, votedFor: 0 } });
    const first = watch(storage.saveInBackground!(append(1, 1, "a")));
    const snapshot = { lastIncludedIndex: 1, lastIncludedTerm: 1, data: '{"a":1}' };
    storage.save({ snapshot }); // a rewrite: raft.log is replaced (HeldSyncs.close checks the fd)
    const after = watch(storage.saveInBackground!(append(2, 1, "b")));
    const [old] = files.running;
    expect(files.closed).not.toContain(old!.fd);
    await files.endOne();
    expect(files.closed).toContain(old!.fd);
    expect(first.state).toBe("resolved");
    expect(after.state).toBe("pending");
    expect(files.running.map((sync) => sync.fd)).not.toContain(old!.fd);
    await files.endOne();
    expect(after.state).toBe("resolved");
    storage.close();
    const { state } = reopen(folder);
    expect(state.snapshot?.lastIncludedIndex).toBe(1);
    expect(state.log).toEqual([entry(1, "b")]);
  });

  test("a close during a sync waits for it to close the file; saves still waiting are refused", async () => {
    const files = new HeldSyncs();
    const storage = open(tempFolder(), { files });
    storage.save({ hardState: { currentTerm: 1, votedFor: 0 } });
    const first = watch(storage.saveInBackground!(append(1, 1, "a")));
    const waiting = failureOf(storage.saveInBackground!(append(2, 1, "b")));
    storage.close();
    expect(files.closed).toHaveLength(0);
    await files.endOne();
    expect(files.closed).toHaveLength(1);
    expect(first.state).toBe("resolved");
    expect(String(await waiting)).toMatch(/closed/);
  });

  test("without a background sync in the file layer (nodeFiles: a virtual clock's tests), no background saves", () => {
    const storage = open(tempFolder());
    expect(storage.saveInBackground).toBeUndefined();
    expect(open(tempFolder(), { files: new HeldSyncs() }).saveInBackground).toBeTypeOf("function");
  });
});
