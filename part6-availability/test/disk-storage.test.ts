// Goal: DiskStorage keeps what a node saved across a restart, exactly; a failed save is an
// error, never a half-applied state, and nothing is saved after it; one process at a time has a
// data folder. (What a crash or a damaged disk leaves is disk-recovery.test.ts.)
// Method: real files in a temporary folder (removed after each test, failed or not); a scripted
// sequence of saves of every kind (disk-fixtures.ts); faults from a file layer that simulates a
// full disk and a failing sync (faulty-files.ts). Nothing here depends on time or on RAFT_SEED.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DiskStorage, LOCK_FILE, LOG_FILE } from "../src/disk-storage.ts";
import { emptyState, MemoryStorage, StorageError } from "../src/storage.ts";
import {
  entry,
  finalState,
  open,
  reopen,
  runWithFaults,
  saveScript,
  script,
  states,
  tempFolder,
} from "./disk-fixtures.ts";
import { FaultyFiles } from "./faulty-files.ts";

describe("saves read back", () => {
  test("every kind of change, read back in the same run and after a reopen, and saving goes on", () => {
    const folder = tempFolder();
    const storage = open(folder);
    expect(storage.load()).toEqual(emptyState());
    for (const [k, changes] of script.entries()) {
      storage.save(changes);
      expect(storage.load()).toEqual(states[k + 1]); // load reads the file back
    }
    const size = statSync(storage.file).size;
    storage.save({}); // nothing changed: nothing is written
    expect(statSync(storage.file).size).toBe(size);
    storage.close();

    const again = open(folder);
    expect(again.warnings).toEqual([]);
    expect(again.load()).toEqual(finalState);
    again.save({ log: { from: 103, entries: [entry(4, "after the reopen")] } });
    again.close();
    expect(reopen(folder).state.log.at(-1)).toEqual(entry(4, "after the reopen"));
  });

  test("agrees with MemoryStorage on the same saves, reopened after each one", () => {
    const folder = tempFolder();
    const memory = new MemoryStorage();
    for (const changes of script) {
      memory.save(changes);
      const disk = new DiskStorage(folder);
      try {
        disk.save(changes);
      } finally {
        disk.close();
      }
      expect(reopen(folder).state).toEqual(memory.load());
    }
  });

  test("a change that would leave a gap in the log is refused, nothing is written, saving goes on", () => {
    const storage = open(tempFolder());
    storage.save({ log: { from: 1, entries: [entry(1, "a")] } });
    const size = statSync(storage.file).size;
    expect(() => storage.save({ log: { from: 3, entries: [entry(1, "b")] } })).toThrow(
      /gap after \[1\]; nothing was written/,
    );
    expect(statSync(storage.file).size).toBe(size);
    storage.save({ log: { from: 2, entries: [entry(1, "b")] } });
    expect(storage.load().log).toEqual([entry(1, "a"), entry(1, "b")]);
  });

  test("a missing data folder is created, with its missing parents", () => {
    const folder = join(tempFolder(), "a", "b");
    const storage = open(folder);
    storage.save({ hardState: { currentTerm: 1, votedFor: null } });
    storage.close();
    expect(reopen(folder).state.currentTerm).toBe(1);
  });

  test("the entries of new folders and of the log file are made durable before a save returns", () => {
    const top = tempFolder();
    const folder = join(top, "a", "b");
    const files = new FaultyFiles();
    open(folder, { files });
    // "b" in "a", "a" in top (both new), then raft.log in "b", after its header was synced.
    expect(files.syncedFolders).toEqual([join(top, "a"), top, folder]);
    expect(files.syncs).toBe(1);
  });

  test("a closed storage neither loads nor saves", () => {
    const storage = open(tempFolder());
    storage.close();
    expect(() => storage.load()).toThrow(/closed/);
    expect(() => storage.save({ hardState: { currentTerm: 1, votedFor: 1 } })).toThrow(/closed/);
  });
});

describe("a save that fails is an error, and nothing after it is saved", () => {
  test("a full disk (ENOSPC, injected) at any point of any write: StorageError, then the state before it", () => {
    // Write 0 is the file header, write j the j-th save; each ends where the next one starts.
    const ends = [0, ...saveScript(tempFolder())];
    let cases = 0;
    for (let j = 0; j + 1 < ends.length; j++) {
      const length = ends[j + 1]! - ends[j]!;
      for (const room of new Set([0, 1, 12, length >> 1, length - 1].filter((r) => r < length))) {
        const folder = tempFolder();
        const label = `write ${j}, room for ${room} of its ${length} bytes`;
        const { saved, error } = runWithFaults(folder, { space: ends[j]! + room });
        expect(saved, label).toBe(Math.max(0, j - 1));
        expect(error, label).toBeInstanceOf(StorageError);
        expect((error as Error).message).toMatch(/the disk is full \(ENOSPC\): free some space/);
        const { state, storage } = reopen(folder);
        expect(state, label).toEqual(states[saved]);
        // A failed save cuts its partial record at once; a failed header is cut at the next start.
        const cutAtStart = j === 0 && room > 0 ? room : undefined;
        expect(storage.recovered?.droppedBytes, label).toBe(cutAtStart);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(30);
  });

  test("after a failed save, the next one is refused rather than written on top of it", () => {
    const folder = tempFolder();
    const files = new FaultyFiles({ space: 12 + 30 });
    const storage = open(folder, { files });
    expect(() => storage.save(script[0]!)).toThrow(/ENOSPC/);
    expect(() => storage.save({ hardState: { currentTerm: 9, votedFor: 9 } })).toThrow(
      /refusing to save .*an earlier save failed \(the disk is full/,
    );
    expect(files.writes).toBe(3); // the header, part of the record, the write that found no room
  });

  test("a sync that fails (EIO, injected): StorageError, later saves refused, the state before it", () => {
    const folder = tempFolder();
    // Sync 1 is the header's at creation; sync 4 is the third save's.
    const storage = open(folder, { files: new FaultyFiles({ failSync: 4 }) });
    storage.save(script[0]!);
    storage.save(script[1]!);
    expect(() => storage.save(script[2]!)).toThrow(
      /cannot save to .*: the disk reported an I\/O error \(EIO\).*did not become durable, so the node must stop/,
    );
    expect(() => storage.save(script[3]!)).toThrow(/an earlier save failed/);
    storage.close();
    expect(reopen(folder).state).toEqual(states[2]);
  });

  // On Linux, every write to /dev/full fails with ENOSPC, as on a full disk: a data folder whose
  // log file is a link to it is a full disk without any fault injection. The storage finds an
  // empty file there (a device has no size), so its first write is the file header, at open.
  test.skipIf(process.platform !== "linux" || !existsSync("/dev/full"))(
    "a real full disk (/dev/full): StorageError saying so, and the folder left unlocked",
    () => {
      const folder = tempFolder();
      symlinkSync("/dev/full", join(folder, LOG_FILE));
      expect(() => new DiskStorage(folder)).toThrow(
        `cannot open ${join(folder, LOG_FILE)}: the disk is full (ENOSPC)`,
      );
      expect(existsSync(join(folder, LOCK_FILE))).toBe(false);
    },
  );
});

describe("one process at a time per data folder", () => {
  test("a second open of an open folder is refused, naming the process; close lets it go", () => {
    const folder = tempFolder();
    const first = open(folder);
    expect(readFileSync(join(folder, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
    expect(() => new DiskStorage(folder)).toThrow(
      `${folder} is already open in this process (pid ${process.pid})`,
    );
    first.close();
    expect(existsSync(join(folder, LOCK_FILE))).toBe(false);
    open(folder).close();
  });

  test("another process cannot open a folder this one has open", () => {
    const folder = tempFolder();
    open(folder);
    const child = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `new (await import("./src/disk-storage.ts")).DiskStorage(${JSON.stringify(folder)})`,
      ],
      { cwd: join(import.meta.dirname, ".."), encoding: "utf8" },
    );
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain(`${folder} is in use by process ${process.pid}`);
  });

  test("a folder locked by another running process is refused, naming it", () => {
    const folder = tempFolder();
    const other = process.ppid; // the process that started this one: surely running
    writeFileSync(join(folder, LOCK_FILE), `${other}\n`);
    expect(() => new DiskStorage(folder)).toThrow(
      `${folder} is in use by process ${other} (lock file ${join(folder, LOCK_FILE)}): stop that process first`,
    );
    expect(readFileSync(join(folder, LOCK_FILE), "utf8")).toBe(`${other}\n`);
  });

  test("a lock left by a process that no longer runs (a crash) is taken over, with a warning", () => {
    const folder = tempFolder();
    const gone = spawnSync(process.execPath, ["-e", ""]).pid; // it has exited when this returns
    writeFileSync(join(folder, LOCK_FILE), `${gone}\n`);
    const storage = open(folder);
    expect(storage.warnings).toEqual([
      expect.stringContaining(`took over the lock of process ${gone}, which is no longer running`),
    ]);
    expect(readFileSync(join(folder, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
  });
});
