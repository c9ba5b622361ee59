// Data folders for DiskStorage's tests: real temporary folders, removed when the test ends,
// passed or failed, and storages closed with them.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { DiskStorage, type DiskStorageOptions } from "../src/disk-storage.ts";
import type { PersistentState } from "../src/storage.ts";

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
