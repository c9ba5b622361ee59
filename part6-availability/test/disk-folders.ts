// Data folders for DiskStorage's tests: real temporary folders, removed when the test ends,
// passed or failed, and storages closed with them; and a script of saves run into one.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { DiskStorage, type DiskStorageOptions } from "../src/disk-storage.ts";
import type { FileLayer } from "../src/files.ts";
import type { Changes, PersistentState } from "../src/storage.ts";

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

/** Runs `script` on `files` until a save (or the open) fails; how far it got, and the error. */
export function runScript(folder: string, script: readonly Changes[], files: FileLayer) {
  let storage: DiskStorage | undefined;
  let saved = 0;
  let error: unknown;
  try {
    storage = new DiskStorage(folder, { files });
    for (const changes of script) {
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
