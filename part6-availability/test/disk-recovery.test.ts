// Goal: whatever a crash or a disk does to the last save, DiskStorage comes back with what the
// node saved before it: it cuts off only a torn last record, with a warning, and refuses to start
// on anything else it cannot read (damage before the tail, another format) without touching the
// file.
// Method: real files in a temporary folder (removed after each test, failed or not); a scripted
// sequence of saves of every kind (disk-fixtures.ts); crashes at every write from a file layer
// that simulates them (faulty-files.ts); damage made by hand in the file's bytes. Nothing here
// depends on time or on RAFT_SEED.

import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, test } from "vitest";
import { DiskStorage, encodeRecord, LOCK_FILE, LOG_FILE } from "../src/disk-storage.ts";
import { type Changes, emptyState, StorageError } from "../src/storage.ts";
import {
  finalState,
  flipByte,
  open,
  reopen,
  runWithFaults,
  script,
  scriptOnDisk,
  states,
  tempFolder,
  zeroed,
} from "./disk-fixtures.ts";
import type { FaultPlan } from "./faulty-files.ts";

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
