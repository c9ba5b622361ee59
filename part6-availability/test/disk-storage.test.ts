// Goal: DiskStorage keeps what a node saved across a restart, exactly, whatever a crash or a disk
// does to the last save; it cuts off only a torn last record, with a warning, and refuses to
// start on anything else it cannot read (damage before the tail, another format) without
// touching the file; a failed save is an error, never a half-applied state; one process at a
// time has a data folder.
// Method: real files in a temporary folder (removed after each test, failed or not); a scripted
// sequence of saves of every kind; faults from a file layer that simulates crashes, a full disk
// and a failing sync (faulty-files.ts); damage made by hand in the file's bytes. Nothing here
// depends on time or on RAFT_SEED.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, test } from "vitest";
import { DiskStorage, encodeRecord, LOCK_FILE, LOG_FILE } from "../src/disk-storage.ts";
import type { LogEntry } from "../src/raft.ts";
import {
  applyChanges,
  type Changes,
  emptyState,
  MemoryStorage,
  type PersistentState,
  StorageError,
} from "../src/storage.ts";
import { open, reopen, runScript, tempFolder } from "./disk-folders.ts";
import { type FaultPlan, FaultyFiles } from "./faulty-files.ts";

const entry = (term: number, command: unknown): LogEntry => ({ term, command });

/** Saves of every kind a node makes, in an order a node could make them. */
const script: Changes[] = [
  { hardState: { currentTerm: 1, votedFor: 1 } }, // a vote
  { log: { from: 1, entries: [entry(1, "x=1")] } }, // one entry appended
  {
    // a new term and entries in one save
    hardState: { currentTerm: 2, votedFor: null },
    log: { from: 2, entries: [entry(1, { set: "y", to: [1, 2.5] }), entry(2, null)] },
  },
  { hardState: { currentTerm: 2, votedFor: 3 } }, // a vote later in the same term
  { log: { from: 2, entries: [entry(2, 'z ✓ \u2028 "quoted"')] } }, // truncation, then an entry
  { log: { from: 2, entries: [] } }, // a truncation alone
  {
    // a batch of 100 (a follower catching up)
    log: {
      from: 2,
      entries: Array.from({ length: 100 }, (_, i) => entry(3, { i, pad: "p".repeat(i) })),
    },
  },
  {
    hardState: { currentTerm: 4, votedFor: 2 },
    log: { from: 101, entries: [entry(4, true), entry(4, -7)] },
  },
];

/** states[k]: the state after the first k saves of the script. */
const states: PersistentState[] = [emptyState()];
for (const changes of script) {
  const next = structuredClone(states.at(-1)!);
  applyChanges(next, structuredClone(changes));
  states.push(next);
}
const finalState = states.at(-1)!;

/** The whole script saved, and the file's size after each save (sizes[k]: after k saves). */
function saveScript(folder: string): number[] {
  const storage = open(folder);
  const sizes = [statSync(storage.file).size];
  for (const changes of script) {
    storage.save(changes);
    sizes.push(statSync(storage.file).size);
  }
  storage.close();
  return sizes;
}

/** A folder holding the saved script: its log file, the file's bytes, and sizes as above. */
function scriptOnDisk() {
  const folder = tempFolder();
  const sizes = saveScript(folder);
  const file = join(folder, LOG_FILE);
  return { folder, sizes, file, whole: readFileSync(file) };
}

/** Runs the script on a faulty layer until a save (or the open) fails; how far it got. */
function runWithFaults(folder: string, plan: FaultPlan) {
  const files = new FaultyFiles(plan);
  return { files, ...runScript(folder, script, files) };
}

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

describe("a crash at any write", () => {
  // Write 1 is the file header (at the first open), write k + 1 the k-th save. Each crash is
  // simulated at one write: the bytes kept are those synced before, plus `keep` of that write.
  const crashes: [string, FaultPlan["crash"]][] = [
    ["before its sync, nothing of it kept", () => 0],
    ["before its sync, 1 byte kept", () => 1],
    ["before its sync, all but the payload checksum kept", () => 8],
    ["before its sync, the record header kept", () => 12],
    ["before its sync, half of it kept", (n) => n >> 1],
    ["before its sync, all but 1 byte kept", (n) => n - 1],
    ["before its sync, all of it kept", (n) => n],
    ["right after its sync", "after sync"],
  ];

  for (const [name, crash] of crashes) {
    test(`${name}: the restart finds the state before that save or after it, nothing else`, () => {
      let write = 1;
      for (; ; write++) {
        const folder = tempFolder();
        const { files, saved, error } = runWithFaults(folder, { crashAtWrite: write, crash });
        if (!files.crashed) break; // past the last write
        expect(error).toBeInstanceOf(StorageError);
        const length = files.lastWriteLength;
        const kept = crash === "after sync" ? length : Math.min(crash?.(length) ?? 0, length);
        const { state, storage } = reopen(folder);
        // Only a save whose whole record reached the disk counts; the header is no save.
        const expected = write > 1 && kept === length ? states[saved + 1] : states[saved];
        expect(state, `crash at write ${write}`).toEqual(expected);
        const torn = kept > 0 && kept < length;
        expect(storage.recovered?.droppedBytes, `crash at write ${write}`).toBe(
          torn ? kept : undefined,
        );
      }
      expect(write - 1, "writes covered").toBe(1 + script.length);
    });
  }
});

describe("a torn tail is cut off, with a warning", () => {
  test("the last record cut at every length: the state before it, the cut named, and saving goes on", () => {
    const { folder, sizes, file, whole } = scriptOnDisk();
    const start = sizes.at(-2)!;
    for (let keep = 0; keep < whole.length - start; keep++) {
      writeFileSync(file, whole.subarray(0, start + keep));
      const { state, storage } = reopen(folder);
      expect(state, `${keep} bytes of the last record`).toEqual(states.at(-2));
      expect(statSync(file).size).toBe(start);
      if (keep === 0) {
        expect(storage.recovered).toBeUndefined();
        continue;
      }
      expect(storage.recovered).toMatchObject({ file, offset: start, droppedBytes: keep });
      expect(storage.warnings).toEqual([
        expect.stringContaining(`${file}: cut off ${keep} bytes at offset ${start}`),
      ]);
    }
    // The cut is real: a save after it follows the last complete record.
    const storage = open(folder);
    storage.save(script.at(-1)!);
    storage.close();
    expect(reopen(folder).state).toEqual(finalState);
  });

  test("a last record that fails its checksum, or zeros where it should be, is a torn write", () => {
    const { folder, sizes, file, whole } = scriptOnDisk();
    const start = sizes.at(-2)!;
    const damaged = [
      ["a byte of its payload changed", flipByte(whole, whole.length - 3)],
      ["its payload checksum changed", flipByte(whole, start + 9)],
      [
        "zeros instead of it",
        Buffer.concat([whole.subarray(0, start), Buffer.alloc(whole.length - start)]),
      ],
      ["zeros after it", Buffer.concat([whole, Buffer.alloc(4096)])],
    ] as const;
    for (const [what, bytes] of damaged) {
      writeFileSync(file, bytes);
      const { state, storage } = reopen(folder);
      const cutAt = what === "zeros after it" ? whole.length : start;
      expect(storage.recovered, what).toMatchObject({
        offset: cutAt,
        droppedBytes: bytes.length - cutAt,
      });
      expect(state, what).toEqual(what === "zeros after it" ? finalState : states.at(-2));
    }
  });

  test("an empty file is a new log; part of a file header is a crash just after creating it", () => {
    const folder = tempFolder();
    const file = join(folder, LOG_FILE);
    writeFileSync(file, "");
    const fresh = reopen(folder);
    expect(fresh.state).toEqual(emptyState());
    expect(fresh.storage.warnings).toEqual([]);
    expect(statSync(file).size).toBe(12); // its header was written

    writeFileSync(file, "RAFT-L");
    const begun = reopen(folder);
    expect(begun.state).toEqual(emptyState());
    expect(begun.storage.recovered).toMatchObject({ offset: 0, droppedBytes: 6 });
    expect(begun.storage.recovered?.reason).toMatch(/incomplete file header/);
  });
});

describe("refused at start, the file left as it is", () => {
  /** Expects a start on `folder` to be refused with a message holding every part, the file untouched. */
  function expectRefused(folder: string, label: string, ...parts: (string | RegExp)[]): void {
    const file = join(folder, LOG_FILE);
    const before = readFileSync(file);
    let message = "(no error)";
    try {
      new DiskStorage(folder).close();
    } catch (error) {
      expect(error, label).toBeInstanceOf(StorageError);
      message = (error as Error).message;
    }
    for (const part of parts) {
      if (typeof part === "string") expect(message, label).toContain(part);
      else expect(message, label).toMatch(part);
    }
    expect(readFileSync(file).equals(before), `${label}: the file is unchanged`).toBe(true);
    expect(existsSync(join(folder, LOCK_FILE)), `${label}: the lock is released`).toBe(false);
  }

  test("a damaged record with more after it: the file, the offset and what to do", () => {
    const { folder, sizes, file, whole } = scriptOnDisk();
    const at = sizes[3]!; // the fourth record, with four more after it
    const cases = [
      [
        "a byte of its payload changed",
        flipByte(whole, at + 14),
        /its contents fail their checksum/,
      ],
      ["its length changed", flipByte(whole, at + 3), /its length fails its checksum/],
      ["zeros in place of it", zeroed(whole, at, sizes[4]!), /its length fails its checksum/],
    ] as const;
    for (const [what, bytes, why] of cases) {
      writeFileSync(file, bytes);
      const named = `${file}: the record at offset ${at} is damaged`;
      expectRefused(folder, what, named, why, "more bytes follow it", /restore it from a backup/);
    }
  });

  test("a record whose checksum matches but that is no save (a gap in the log, not JSON)", () => {
    const { folder, sizes, file, whole } = scriptOnDisk();
    const gap = encodeRecord({ log: { from: 200, entries: [] } });
    writeFileSync(file, gap, { flag: "a" });
    expectRefused(
      folder,
      "a gap",
      `offset ${sizes.at(-1)} is damaged: log change at [200] would leave a gap after [102]`,
    );

    const notJson = encodeRecord({ hardState: { currentTerm: 1, votedFor: 1 } });
    notJson.write("}", 12); // the first byte of the payload, checksum corrected below
    notJson.writeUInt32BE(crc32(notJson.subarray(12)), 8);
    writeFileSync(file, Buffer.concat([whole, notJson]));
    expectRefused(
      folder,
      "not JSON",
      `offset ${sizes.at(-1)} is damaged: its checksum matches but it is not JSON`,
    );

    const noTerm = encodeRecord({ hardState: null } as unknown as Changes);
    writeFileSync(file, Buffer.concat([whole, noTerm]));
    expectRefused(
      folder,
      "no term",
      "its checksum matches but its currentTerm is not a whole number",
    );
  });

  test("another file, or another format version: what it is and what to do", () => {
    const folder = tempFolder();
    const file = join(folder, LOG_FILE);
    writeFileSync(file, "key=value\nother=thing\n");
    expectRefused(
      folder,
      "another file",
      `${file} is not a raft-ts log: at offset 0 it starts with "key=valu"`,
      "check that this is the data folder",
    );

    const header = (version: number) => {
      const bytes = Buffer.from("RAFT-LOG\0\0\0\0", "latin1");
      bytes.writeUInt32BE(version, 8);
      return bytes;
    };
    writeFileSync(file, header(3));
    expectRefused(
      folder,
      "newer",
      "format version 3, newer than this program's (2): run the newer raft-ts",
    );
    writeFileSync(file, header(0));
    expectRefused(
      folder,
      "older",
      "format version 0, older than the oldest this program reads (1), and there is no converter",
    );
    // (A header begun for version 3, 00 00 00 03, is a begun version 2 header up to its last byte.)
    writeFileSync(file, header(2 ** 25).subarray(0, 10));
    expectRefused(
      folder,
      "part of a newer header",
      "the start of a file header of a format version other than 2",
    );
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

function flipByte(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x20;
  return copy;
}

function zeroed(bytes: Buffer, from: number, to: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.fill(0, from, to);
  return copy;
}
