// Goal: the pieces of the real processes that need no process: addresses as the command line
// gives them, message ids that no two starts of any nodes share, the start counter in the data
// folder, the real clock's timers, and the wire checks letting through every well-formed message,
// InstallSnapshot's chunks and a session's opening included (the bad-input battery shows them
// refusing the malformed ones). Method: plain calls.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parseClusterMap } from "../../src/real/addresses.ts";
import { responseOf } from "../../src/real/client.ts";
import { RealClock } from "../../src/real/clock.ts";
import { openDiskStorage } from "../../src/real/node.ts";
import {
  INCARNATION_FILE,
  messageIds,
  messageOrigin,
  nextIncarnation,
} from "../../src/real/trace-file.ts";
import {
  parseAppendEntries,
  parseAppendEntriesReply,
  parseInstallSnapshot,
  parseInstallSnapshotReply,
  parseRequestVote,
} from "../../src/real/wire.ts";
import { describe as sentence } from "../../src/trace.ts";

describe("real processes, piece by piece: addresses, message ids, the start counter", () => {
  test("cluster addresses: id=host:port or in order, IPv6 in brackets, mistakes named", () => {
    expect(parseClusterMap("127.0.0.1:7000, 127.0.0.1:7001")).toEqual(
      new Map([
        [0, { host: "127.0.0.1", port: 7000 }],
        [1, { host: "127.0.0.1", port: 7001 }],
      ]),
    );
    expect(parseClusterMap("5=[::1]:80,2=localhost:81")).toEqual(
      new Map([
        [2, { host: "localhost", port: 81 }],
        [5, { host: "::1", port: 80 }],
      ]),
    );
    expect(parseClusterMap("1=a:1,1=b:2")).toBe("node id 1 is given twice");
    expect(parseClusterMap("127.0.0.1")).toContain("is not host:port");
    expect(parseClusterMap("90=a:1")).toContain("0..89");
    expect(parseClusterMap("a:70000")).toContain("not in 1..65535");
  });

  test("message ids: distinct across nodes and starts, and readable back", () => {
    const ids = [messageIds(0, 1), messageIds(0, 2), messageIds(89, 9999)].flatMap((next) => [
      next(),
      next(),
    ]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every(Number.isSafeInteger)).toBe(true);
    expect(messageOrigin(ids[5]!)).toEqual({ node: 89, incarnation: 9999, count: 2 });
  });

  test("the start counter in the data folder counts up from 1 and refuses a damaged file", () => {
    const folder = mkdtempSync(path.join(tmpdir(), "raft-kv-incarnation-"));
    try {
      expect([nextIncarnation(folder), nextIncarnation(folder), nextIncarnation(folder)]).toEqual([
        1, 2, 3,
      ]);
      writeFileSync(path.join(folder, INCARNATION_FILE), "three");
      expect(() => nextIncarnation(folder)).toThrow("does not hold a whole number");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
  test("a node's storage counts its syncs and bytes, which /status shows and the benchmark reads", () => {
    const folder = mkdtempSync(path.join(tmpdir(), "raft-kv-counts-"));
    try {
      const opened = openDiskStorage(folder);
      const atOpen = { ...opened.counts };
      opened.storage.save({ hardState: { currentTerm: 1, votedFor: 0 } });
      opened.storage.save({
        log: {
          from: 1,
          entries: [
            { term: 1, command: "a" },
            { term: 1, command: "b" },
          ],
        },
      });
      // Two saves, two syncs: a save is durable when it returns, however many entries it holds.
      expect(opened.counts.syncs - atOpen.syncs).toBe(2);
      expect(opened.counts.bytesWritten).toBeGreaterThan(atOpen.bytesWritten);
      opened.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("real processes, piece by piece: the clock, the wire, the answers", () => {
  test("the real clock: a timer of 0 ms runs after this turn, a cancelled one never", async () => {
    const clock = new RealClock({ keepAlive: true });
    const fired: string[] = [];
    clock.setTimer(0, () => fired.push("zero"));
    clock.setTimer(1, () => fired.push("cancelled")).cancel();
    clock.setTimer(0, () => fired.push("zero, cancelled")).cancel();
    fired.push("this turn");
    await new Promise((resolve) => clock.setTimer(5, () => resolve(undefined)));
    expect(fired).toEqual(["this turn", "zero"]);
    expect(Number.isInteger(clock.now())).toBe(true); // whole milliseconds, as Raft counts them
  });

  test("well-formed RPCs and replies pass the wire checks whole", () => {
    const members = { self: 0, peers: [1, 2] };
    const vote = {
      msg: 7,
      from: 2,
      to: 0,
      payload: { term: 3, candidateId: 2, lastLogIndex: 4, lastLogTerm: 2 },
    };
    expect(parseRequestVote(vote, members)).toEqual(vote);
    const put = {
      kind: "kv",
      client: "c",
      session: 5,
      seq: 1,
      command: { op: "put", key: "k", value: "v" },
    };
    const entries = [
      { term: 2, command: null },
      { term: 2, command: { kind: "kv", client: "c", open: true } },
      { term: 3, command: put },
    ];
    const append = {
      msg: 8,
      from: 1,
      to: 0,
      payload: { term: 3, leaderId: 1, prevLogIndex: 4, prevLogTerm: 2, entries, leaderCommit: 4 },
    };
    expect(parseAppendEntries(append, members)).toEqual(append);
    const refusal = {
      msg: 9,
      request: 8,
      payload: { term: 3, success: false, conflictTerm: 2, conflictIndex: 3 },
    };
    expect(parseAppendEntriesReply(refusal, 8)).toEqual(refusal);
    expect(parseAppendEntriesReply(refusal, 7)).toBe("the reply answers #8, not #7");
    const chunk = {
      msg: 10,
      from: 1,
      to: 0,
      payload: {
        term: 3,
        leaderId: 1,
        lastIncludedIndex: 40,
        lastIncludedTerm: 2,
        offset: 65536,
        data: '"a":"1"}',
        done: true,
      },
    };
    expect(parseInstallSnapshot(chunk, members)).toEqual(chunk);
    const taken = { msg: 11, request: 10, payload: { term: 3, success: true } };
    expect(parseInstallSnapshotReply(taken, 10)).toEqual(taken);
  });

  test("a node's answer as the client reads it: 4xx refusals are definite failures", () => {
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    const ok = { status: "ok", result: { value: "v", existed: true }, index: 3, node: 0 };
    expect(responseOf(200, body(ok))).toEqual(ok);
    expect(responseOf(400, body({ error: "bad" }))).toEqual({
      status: "failed",
      definite: true,
      error: "refused (400): bad",
    });
    expect(responseOf(200, body({ status: "ok" }))).toBe(
      "an ok answer without a result and an index",
    );
    expect(responseOf(502, Buffer.from("<html>"))).toBe("the answer is not JSON");
    const opened = { status: "opened", session: 7, index: 7, node: 0 };
    expect(responseOf(200, body(opened))).toEqual(opened);
    // The one 4xx that is not a refusal: the session is gone, and the request may have run.
    const gone = { status: "session-expired", session: 7, error: "session 7 is not open" };
    expect(responseOf(410, body(gone))).toEqual(gone);
  });
});

describe("real processes, piece by piece: their trace kinds", () => {
  const doc = readFileSync(
    path.resolve(import.meta.dirname, "../../../../docs/trace-format.md"),
    "utf8",
  );
  /** The backticked names in the row of docs/trace-format.md whose first cell is `kind`. */
  const row = (kind: string) => {
    const line = doc.split("\n").find((l) => l.startsWith(`| \`${kind}\``));
    return new Set([...(line ?? "").matchAll(/`([A-Za-z.]+)`/g)].map((m) => m[1]!));
  };

  test("the supervisor's kinds and the run are documented field by field, and read as sentences", () => {
    expect([...row("process.start")]).toEqual(
      expect.arrayContaining(["program", "pid", "clock", "started", "run"]),
    );
    expect([...row("process.exit")]).toEqual(
      expect.arrayContaining(["pid", "code", "signal", "expected"]),
    );
    expect([...row("process.restart")]).toEqual(expect.arrayContaining(["pid"]));
    const exit = { pid: 7, code: null, signal: "SIGKILL", expected: false };
    const line = { t: 0, node: 1, term: null, role: null } as const;
    expect(sentence({ ...line, kind: "process.exit", details: exit })).toBe(
      "process 7 was ended by SIGKILL, unexpectedly",
    );
    expect(
      sentence({
        ...line,
        kind: "process.exit",
        details: { ...exit, code: 0, signal: null, expected: true },
      }),
    ).toBe("process 7 exited with status 0");
    expect(sentence({ ...line, kind: "process.restart", details: { pid: 8 } })).toBe(
      "started again: process 8",
    );
  });
});
