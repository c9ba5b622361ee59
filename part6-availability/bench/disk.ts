// DiskStorage's throughput: durable saves per second of wall time (each one a record written and
// made durable with fdatasync before the next begins), with term and vote alone and with 1, 10
// and 100 entries per save; then how long a start takes to read the file back (a full replay).
//
//   pnpm --filter part6-availability exec tsx bench/disk.ts [--seconds <s>] [--entry-bytes <n>] [--dir <folder>]
//
// The figures are the disk's more than the code's: a sync costs what the device and its cache
// make it cost, and on a RAM-backed file system (tmpfs) it costs nothing, so the file system in
// use is printed with them. Each configuration writes to a new folder under --dir (the system's
// temporary folder by default), removed afterwards.

import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { arch, cpus, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DiskStorage } from "../src/disk-storage.ts";
import type { LogEntry } from "../src/raft.ts";
import type { Changes } from "../src/storage.ts";

export interface DiskBenchOptions {
  /** Wall-clock seconds per configuration. */
  seconds?: number;
  /** Bytes of each entry's command (a JSON string of that length). */
  entryBytes?: number;
  /** Where the data folders go. */
  dir?: string;
}

interface Row {
  what: string;
  saves: number;
  entries: number;
  bytes: number;
  wallSeconds: number;
}

/** Runs every configuration and prints one line each, the configuration first. */
export async function benchDisk(options: DiskBenchOptions = {}): Promise<void> {
  const seconds = options.seconds ?? 2;
  const entryBytes = options.entryBytes ?? 100;
  const dir = options.dir ?? tmpdir();
  console.log(
    `DiskStorage: Node ${process.version}, ${platform()} ${arch()}, ${cpus()[0]?.model ?? "unknown CPU"}`,
  );
  console.log(
    `files in ${dir} (${fileSystemOf(dir)}); entries of ${entryBytes} bytes of command; fdatasync after every save; ${seconds} s per row\n`,
  );
  console.log(line(["each save holds", "saves/s", "entries/s", "MB/s", "µs/save"]));
  for (const perSave of [0, 1, 10, 100]) {
    const row = measure(dir, seconds, perSave, entryBytes);
    console.log(
      line([
        row.what,
        Math.round(row.saves / row.wallSeconds),
        Math.round(row.entries / row.wallSeconds),
        (row.bytes / row.wallSeconds / 1e6).toFixed(2),
        Math.round((row.wallSeconds / row.saves) * 1e6),
      ]),
    );
  }
  console.log(`\n${replayFigures(dir, entryBytes)}`);
}

/** Saves for `seconds` of wall time, each holding `perSave` entries (0: term and vote only). */
function measure(dir: string, seconds: number, perSave: number, entryBytes: number): Row {
  const folder = mkdtempSync(join(dir, "raft-bench-"));
  try {
    const storage = new DiskStorage(folder);
    const what = perSave === 0 ? "term and vote" : `${perSave} entr${perSave === 1 ? "y" : "ies"}`;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let saves = 0;
    let logLength = 0;
    while (performance.now() < deadline) {
      storage.save(nextSave(saves, logLength, perSave, entryBytes));
      logLength += perSave;
      saves++;
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const bytes = statSync(storage.file).size;
    storage.close();
    return { what, saves, entries: saves * perSave, bytes, wallSeconds };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function nextSave(n: number, logLength: number, perSave: number, entryBytes: number): Changes {
  if (perSave === 0) return { hardState: { currentTerm: n + 1, votedFor: n % 5 } };
  const entries: LogEntry[] = Array.from({ length: perSave }, () => ({
    term: 1,
    command: "x".repeat(entryBytes),
  }));
  return { log: { from: logLength + 1, entries } };
}

/** How long a start takes to read back a log of 100,000 entries saved 100 per save. */
function replayFigures(dir: string, entryBytes: number): string {
  const folder = mkdtempSync(join(dir, "raft-bench-"));
  try {
    const writer = new DiskStorage(folder);
    for (let saves = 0; saves < 1000; saves++)
      writer.save(nextSave(saves, saves * 100, 100, entryBytes));
    const size = statSync(writer.file).size;
    writer.close();
    const started = performance.now();
    const reader = new DiskStorage(folder);
    const entries = reader.load().log.length;
    reader.close();
    const ms = performance.now() - started;
    return `a start reads back ${entries} entries (1000 records, ${(size / 1e6).toFixed(1)} MB) in ${Math.round(ms)} ms: a full replay`;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The file system `dir` is on, from /proc/mounts (Linux only): "ext4 on /dev/sda1". */
function fileSystemOf(dir: string): string {
  try {
    const real = realpathSync(dir);
    let best = { mountPoint: "", description: "unknown file system" };
    for (const mount of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const [device, escaped, type] = mount.split(" ");
      if (device === undefined || escaped === undefined || type === undefined) continue;
      const mountPoint = escaped.replace(/\\040/g, " ");
      const inside =
        real === mountPoint || real.startsWith(mountPoint === "/" ? "/" : `${mountPoint}/`);
      if (inside && mountPoint.length >= best.mountPoint.length) {
        best = { mountPoint, description: `${type} on ${device}` };
      }
    }
    return best.description;
  } catch {
    return "unknown file system";
  }
}

function line(cells: (string | number)[]): string {
  const widths = [16, 10, 12, 8, 9];
  return cells
    .map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!)))
    .join("  ");
}

const usage = `usage: tsx bench/disk.ts [--seconds <s>] [--entry-bytes <n>] [--dir <folder>]`;

function optionsFrom(argv: string[]): DiskBenchOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== "--"),
    options: {
      seconds: { type: "string", default: "2" },
      "entry-bytes": { type: "string", default: "100" },
      dir: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const entryBytes = Number(values["entry-bytes"]);
  if (!(seconds > 0) || !(entryBytes >= 0)) {
    console.error(usage);
    process.exit(2);
  }
  return { seconds, entryBytes, ...(values.dir === undefined ? {} : { dir: values.dir }) };
}

// Run alone (tsx bench/disk.ts), not when bench/run.ts imports it.
if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
) {
  await benchDisk(optionsFrom(process.argv.slice(2)));
}
