// What the DiskStorage tests (disk-storage.test.ts, disk-recovery.test.ts, disk-snapshots.test.ts)
// start from: a script of saves of every kind a node makes and the state after each, temporary
// folders removed when their test ends, storages closed then, and a script run on a faulty file
// layer.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { DiskStorage, type DiskStorageOptions, LOG_FILE } from "../src/disk-storage.ts";
import type { FileLayer } from "../src/files.ts";
import type { LogEntry } from "../src/raft.ts";
import { applyChanges, type Changes, emptyState, type PersistentState } from "../src/storage.ts";
import { type FaultPlan, FaultyFiles } from "./faulty-files.ts";

export const entry = (term: number, command: unknown): LogEntry => ({ term, command });

/** Saves of every kind a node makes, in an order a node could make them. */
export const script: Changes[] = [
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

/** states[k]: the state after the first k saves of `saves` (as MemoryStorage keeps it). */
export function statesAfter(saves: readonly Changes[]): PersistentState[] {
  const states: PersistentState[] = [emptyState()];
  for (const changes of saves) {
    const next = structuredClone(states.at(-1)!);
    applyChanges(next, structuredClone(changes));
    states.push(next);
  }
  return states;
}

/** states[k]: the state after the first k saves of the script. */
export const states = statesAfter(script);
export const finalState = states.at(-1)!;

/** A new temporary folder, removed when the test ends, passed or failed. */
export function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "raft-disk-"));
  onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** Opens a storage that is closed when the test ends (closing twice is harmless). */
export function open(folder: string, options?: DiskStorageOptions): DiskStorage {
  const storage = new DiskStorage(folder, options);
  onTestFinished(() => storage.close());
  return storage;
}

/** What a fresh start on `folder` finds: its state and its warnings. */
export function reopen(folder: string): { state: PersistentState; storage: DiskStorage } {
  const storage = new DiskStorage(folder);
  try {
    return { state: storage.load(), storage };
  } finally {
    storage.close();
  }
}

/** The whole script saved, and the file's size after each save (sizes[k]: after k saves). */
export function saveScript(folder: string): number[] {
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
export function scriptOnDisk() {
  const folder = tempFolder();
  const sizes = saveScript(folder);
  const file = join(folder, LOG_FILE);
  return { folder, sizes, file, whole: readFileSync(file) };
}

/** Runs the script on a faulty layer until a save (or the open) fails; how far it got. */
export function runWithFaults(folder: string, plan: FaultPlan) {
  const files = new FaultyFiles(plan);
  return { files, ...runScript(folder, script, files) };
}

/** Runs `saves` on `files` until a save (or the open) fails; how far it got, and the error. */
export function runScript(folder: string, saves: readonly Changes[], files: FileLayer) {
  let storage: DiskStorage | undefined;
  let saved = 0;
  let error: unknown;
  try {
    storage = new DiskStorage(folder, { files });
    for (const changes of saves) {
      storage.save(changes);
      saved++;
    }
  } catch (thrown) {
    error = thrown;
  } finally {
    storage?.close();
  }
  return { storage, saved, error };
}

export function flipByte(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x20;
  return copy;
}

export function zeroed(bytes: Buffer, from: number, to: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.fill(0, from, to);
  return copy;
}
