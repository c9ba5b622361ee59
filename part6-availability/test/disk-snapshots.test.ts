// Goal: DiskStorage keeps snapshots (§7) as durably as part 3 keeps the log. A save with a
// snapshot is durable whole or not at all, whatever step a crash interrupts, renames included; a
// start loads the snapshot and then only the log after it; a snapshot file that is damaged,
// truncated, missing or not the one the log names is refused with the file, what is wrong and
// what to do, and nothing is deleted; the folder stays bounded however long a node runs.
// Method: real files in temporary folders (disk-fixtures.ts), a scripted sequence of saves with
// snapshots of every kind, a file layer that crashes before any one step (faulty-files.ts),
// damage made by hand. Nothing here depends on time or on RAFT_SEED.

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { VirtualClock } from "../src/clock.ts";
import { DiskStorage, encodeRecord, LOG_FILE } from "../src/disk-storage.ts";
import { type RaftConfig, RaftNode } from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import type { Snapshot } from "../src/snapshot.ts";
import { type Changes, StorageError } from "../src/storage.ts";
import { type Kind, Tracer } from "../src/trace.ts";
import { entry, open, reopen, runScript, statesAfter, tempFolder } from "./disk-fixtures.ts";
import { FaultyFiles } from "./faulty-files.ts";

const snap = (index: number, term: number, state: unknown): Snapshot => ({
  lastIncludedIndex: index,
  lastIncludedTerm: term,
  data: JSON.stringify(state),
});

/** Saves with snapshots of every kind, in an order a node could make them. */
const script: Changes[] = [
  {
    hardState: { currentTerm: 1, votedFor: 0 },
    log: { from: 1, entries: [entry(1, "a"), entry(1, "b"), entry(1, "c")] },
  },
  { snapshot: snap(2, 1, ["a", "b"]) }, // taken: [3] stays after it
  { log: { from: 4, entries: [entry(1, "d"), entry(1, "e ✓ \u2028")] } },
  {
    // a new term, a newer snapshot and an entry, in one save
    hardState: { currentTerm: 2, votedFor: null },
    snapshot: snap(4, 1, ["a", "b", "c", "d"]),
    log: { from: 5, entries: [entry(2, "f")] },
  },
  // installed from a leader, past the end of the log, which goes (Figure 13, rule 7)
  {
    snapshot: snap(9, 2, { state: "as of [9]", big: "x".repeat(3000) }),
    log: { from: 10, entries: [] },
  },
  { log: { from: 10, entries: [entry(2, "g")] } },
  { hardState: { currentTerm: 2, votedFor: 1 } },
];

/** states[k]: the state after the first k saves (as MemoryStorage keeps it). */
const states = statesAfter(script);

/** The files of a data folder, lock aside. */
function filesIn(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => !name.startsWith("raft.lock"))
    .sort();
}

/** Runs the script on `files` until a save (or the open) fails; how far it got. */
function runWithFaults(folder: string, files: FaultyFiles) {
  return runScript(folder, script, files);
}

/** A folder holding the whole script (written without real syncs: only the bytes matter here). */
function scriptOnDisk(): string {
  const folder = tempFolder();
  const storage = open(folder, { files: new FaultyFiles() });
  for (const changes of script) storage.save(changes);
  storage.close();
  return folder;
}

describe("saves with snapshots read back", () => {
  test("each save, in the same run and after a reopen; the folder holds the log and the one snapshot it names", () => {
    const folder = tempFolder();
    const storage = open(folder);
    for (const [k, changes] of script.entries()) {
      storage.save(changes);
      expect(storage.load(), `after save ${k + 1}`).toEqual(states[k + 1]);
      const named = states[k + 1]!.snapshot;
      const snapshotFile =
        named && `snapshot-${named.lastIncludedIndex}-${named.lastIncludedTerm}.raft`;
      expect(filesIn(folder)).toEqual([LOG_FILE, ...(snapshotFile ? [snapshotFile] : [])].sort());
    }
    storage.close();
    const { state, storage: again } = reopen(folder);
    expect(state).toEqual(states.at(-1));
    expect(again.warnings).toEqual([]);
  });

  test("a snapshot no newer than the one kept, or a log change inside it, is refused and nothing is written", () => {
    const folder = scriptOnDisk();
    const storage = open(folder);
    const before = readFileSync(join(folder, LOG_FILE));
    expect(() => storage.save({ snapshot: snap(9, 2, "again") })).toThrow(
      /a snapshot through \[9\] is not newer than the one kept, through \[9\]; nothing was written/,
    );
    expect(() => storage.save({ log: { from: 9, entries: [] } })).toThrow(
      /log change at \[9\] is inside the snapshot, which ends at \[9\]; nothing was written/,
    );
    expect(readFileSync(join(folder, LOG_FILE))).toEqual(before);
    storage.save({ log: { from: 11, entries: [entry(2, "h")] } });
    expect(storage.load().log).toEqual([entry(2, "g"), entry(2, "h")]);
  });

  test("a part 3 log (format version 1) is read as it is; its first rewrite makes it version 2", () => {
    const folder = tempFolder();
    const record = encodeRecord({
      hardState: { currentTerm: 3, votedFor: 1 },
      log: { from: 1, entries: [entry(3, "x")] },
    });
    const header = Buffer.from("RAFT-LOG\0\0\0\x01", "latin1");
    writeFileSync(join(folder, LOG_FILE), Buffer.concat([header, record]));
    const storage = open(folder);
    expect(storage.load()).toEqual({ currentTerm: 3, votedFor: 1, log: [entry(3, "x")] });
    storage.save({ snapshot: snap(1, 3, "x") });
    expect(readFileSync(join(folder, LOG_FILE)).readUInt32BE(8)).toBe(2);
    storage.close();
    expect(reopen(folder).state).toEqual({
      currentTerm: 3,
      votedFor: 1,
      log: [],
      snapshot: snap(1, 3, "x"),
    });
  });
});

describe("a crash before any step of a save with a snapshot", () => {
  for (const loseUnsyncedRenames of [false, true]) {
    const renames = loseUnsyncedRenames ? "renames not yet synced lost" : "renames kept";
    test(`${renames}: the restart finds the state before that save or after it, and the leftovers go`, () => {
      const dry = new FaultyFiles();
      runWithFaults(tempFolder(), dry);
      const outcomes = { before: 0, after: 0 };
      for (let step = 1; step <= dry.steps; step++) {
        const folder = tempFolder();
        const files = new FaultyFiles({ crashBeforeStep: step, loseUnsyncedRenames });
        const { saved, error } = runWithFaults(folder, files);
        expect(files.crashed, `step ${step}`).toBe(true);
        expect(error, `step ${step}`).toBeInstanceOf(StorageError);
        const { state, storage } = reopen(folder);
        const after = JSON.stringify(state) === JSON.stringify(states[saved + 1]);
        if (!after) expect(state, `crash before step ${step}`).toEqual(states[saved]);
        outcomes[after ? "after" : "before"]++;
        // What the interrupted save left is gone, and the restart said so.
        const named = state.snapshot;
        const kept = named && `snapshot-${named.lastIncludedIndex}-${named.lastIncludedTerm}.raft`;
        expect(filesIn(folder), `step ${step}`).toEqual([LOG_FILE, ...(kept ? [kept] : [])].sort());
        for (const warning of storage.warnings)
          expect(warning).toMatch(/crash interrupted|cut off/);
      }
      // Both ends were reached: a crash before the log's rename keeps the old state, one after
      // it the new.
      expect(outcomes.before).toBeGreaterThan(0);
      expect(outcomes.after).toBeGreaterThan(0);
    });
  }
});

describe("a snapshot the log names but cannot be read: refused at start, the files left as they are", () => {
  /** Damages the snapshot file of a saved script, and expects a start to refuse with `what`. */
  function expectRefused(damage: (file: string, folder: string) => void, what: RegExp) {
    const folder = scriptOnDisk();
    const file = join(folder, "snapshot-9-2.raft");
    damage(file, folder);
    const before = filesIn(folder).map((name) => [name, readFileSync(join(folder, name))]);
    let error: unknown;
    try {
      new DiskStorage(folder).close();
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(StorageError);
    const message = (error as Error).message;
    expect(message).toContain(`${file}: `);
    expect(message).toMatch(what);
    expect(message).toContain("the entries through [9] are in it and in no other file");
    expect(message).toContain("restore it from a backup");
    expect(filesIn(folder).map((name) => [name, readFileSync(join(folder, name))])).toEqual(before);
  }

  test("missing", () => {
    expectRefused((file) => rmSync(file), /the file is missing/);
  });

  test("truncated, at lengths all through the file", () => {
    const size = statSync(join(scriptOnDisk(), "snapshot-9-2.raft")).size;
    for (let keep = 0; keep < size; keep += 151) {
      expectRefused(
        (file) => writeFileSync(file, readFileSync(file).subarray(0, keep)),
        keep < 12 ? /not a raft-ts snapshot/ : /truncated: it ends at byte \d+, inside the record/,
      );
    }
  });

  test("a byte of its data changed", () => {
    expectRefused((file) => {
      const bytes = readFileSync(file);
      bytes[bytes.length - 10]! ^= 0x01;
      writeFileSync(file, bytes);
    }, /damaged: the record at offset \d+ fails its checksum/);
  });

  test("another snapshot under its name", () => {
    expectRefused((file, folder) => {
      const other = tempFolder();
      const storage = open(other);
      storage.save({ hardState: { currentTerm: 2, votedFor: null } });
      storage.save({ snapshot: snap(9, 2, "another state") });
      storage.close();
      writeFileSync(file, readFileSync(join(other, "snapshot-9-2.raft")));
      expect(readdirSync(folder)).toContain("snapshot-9-2.raft");
    }, /its data \(\d+ bytes\) is not the data the log names \(\d+ bytes, checksum \d+\)/);
  });

  test("not a snapshot at all", () => {
    expectRefused(
      (file) => writeFileSync(file, "key=value\n".repeat(10)),
      /not a raft-ts snapshot/,
    );
  });

  test("snapshot files beside an empty log", () => {
    const folder = scriptOnDisk();
    rmSync(join(folder, LOG_FILE));
    expect(() => new DiskStorage(folder)).toThrow(
      /holds snapshot-9-2\.raft but no log \(raft\.log is missing or empty\): the snapshot alone does not say this server's term and vote/,
    );
    expect(filesIn(folder)).toEqual(["raft.log", "snapshot-9-2.raft"]);
  });
});

describe("the folder is bounded", () => {
  test("a long run with a snapshot every 100 entries: the log holds the entries after the last one", () => {
    const folder = tempFolder();
    const storage = open(folder, { files: new FaultyFiles() }); // no real syncs: only sizes count
    let largest = 0;
    for (let i = 1; i <= 5000; i++) {
      storage.save({
        log: { from: i, entries: [entry(1, { put: `k${i % 50}`, value: "v".repeat(100) })] },
      });
      if (i % 100 === 0) storage.save({ snapshot: snap(i, 1, { size: 50, upTo: i }) });
      largest = Math.max(largest, folderBytes(folder));
    }
    // At most 100 entries of about 150 bytes, a snapshot, and headers: never the 5000 entries.
    expect(largest).toBeLessThan(100 * 200);
    expect(filesIn(folder)).toEqual([LOG_FILE, "snapshot-5000-1.raft"]);
  });

  test("records that change nothing live (a node that only votes, for ever) are rewritten away", () => {
    const folder = tempFolder();
    const storage = open(folder, { files: new FaultyFiles(), rewriteSlack: 4096 });
    storage.save({ log: { from: 1, entries: [entry(1, "x")] } });
    for (let term = 2; term < 2000; term++) {
      storage.save({ hardState: { currentTerm: term, votedFor: term % 3 } });
      expect(statSync(storage.file).size).toBeLessThan(2 * 120 + 4096 + 100);
    }
    expect(storage.load()).toEqual({ currentTerm: 1999, votedFor: 1999 % 3, log: [entry(1, "x")] });
  });
});

describe("a node on DiskStorage", () => {
  /** A cluster of one on `folder`'s storage, with the list of commands it applied as its state. */
  function singleNode(folder: string, config: Partial<RaftConfig>) {
    const clock = new VirtualClock();
    const storage = open(folder);
    const trace: { kind: Kind; details: unknown }[] = [];
    const tracer = new Tracer(clock, () => ({ term: 0, role: "follower" }));
    tracer.subscribe((e) => trace.push(e));
    const transport = {
      ...{ requestVote: never, appendEntries: never, installSnapshot: never },
      ...{ preVote: never, timeoutNow: never, readIndex: never },
    };
    const env = { clock, random: new SeededRandom(1), transport, storage };
    const node = new RaftNode(0, [], { ...env, trace: (k, d) => tracer.emit(0, k, d) }, config);
    const state: string[] = [];
    node.snapshotSource(() => state);
    node.onApply((e) => state.push(e.command as string));
    node.onRestore((s) => state.splice(0, state.length, ...(s.data as string[])));
    node.start();
    return { node, clock, storage, trace, state };
  }

  test("restarts from its snapshot, and applies only the entries after it", async () => {
    const folder = tempFolder();
    const first = singleNode(folder, { snapshotAfterEntries: 10 });
    await first.clock.runFor(1000); // a cluster of one elects itself
    for (let i = 1; i <= 25; i++) first.node.submit(`c${i}`);
    await first.clock.runFor(100);
    expect(first.node.getState()).toMatchObject({ commitIndex: 25, lastIncludedIndex: 20 });
    first.node.stop();
    first.storage.close();

    const second = singleNode(folder, { snapshotAfterEntries: 10 });
    expect(second.trace.map((e) => e.kind)).toEqual(["snapshot.restore"]);
    expect(second.state).toHaveLength(20);
    await second.clock.runFor(1000);
    // Elected again, it commits [21..25] with an entry of its own term (§5.4.2).
    second.node.submit("c26");
    await second.clock.runFor(100);
    const applied = second.trace.filter((e) => e.kind === "apply");
    expect(applied.map((e) => (e.details as { index: number }).index)).toEqual([
      21, 22, 23, 24, 25, 26,
    ]);
    expect(second.state).toEqual(Array.from({ length: 26 }, (_, i) => `c${i + 1}`));
    second.node.stop();
  });
});

function never(): Promise<never> {
  throw new Error("a cluster of one calls no one");
}

function folderBytes(folder: string): number {
  return readdirSync(folder).reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
}
