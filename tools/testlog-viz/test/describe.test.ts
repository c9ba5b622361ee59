import { expect, describe as group, test } from "vitest";
import { describe } from "../src/describe.ts";
import { type Details, parseTrace, type TraceEvent } from "../src/trace.ts";
import { harness, message, network, onNode } from "./build.ts";

/** One event read the way the viz reads it, typed by its kind when it fits. */
const read = (line: string): TraceEvent => {
  const { events } = parseTrace(`${line}\n`, "one.jsonl");
  expect(events).toHaveLength(1);
  return events[0]!;
};
const on = (kind: string, details: Details) => read(onNode(5, 1, 2, "leader", kind, details));
const test_ = (kind: string, details: Details) => read(harness(5, kind, details));

group("describe", () => {
  test("known kinds read as the part's sentence, its payload in words: a request and a reply", () => {
    const payload = { term: 2, candidateId: 1, lastLogIndex: 0, lastLogTerm: 0 };
    const send = on("send", { ...message(4, "RequestVote", "request", { payload }), to: 0 });
    expect(send.known).toBe(true);
    expect(describe(send)).toEqual({
      text: "→ n0 RequestVote request #4 (term 2, candidate n1, log empty)",
      tone: "plain",
    });
    const reply = message(5, "RequestVote", "reply", {
      request: 4,
      payload: { term: 2, voteGranted: true },
      duplicate: true,
      from: 0,
    });
    expect(describe(on("deliver", reply)).text).toBe(
      "← n0 RequestVote reply #5 (to #4) (duplicate) (term 2, granted)",
    );
  });

  test("tones: drops and failed calls muted, failed checks, violations and failing ends red", () => {
    const drop = on("drop", {
      ...message(2, "AppendEntries", "request"),
      to: 2,
      reason: "link cut",
    });
    expect(describe(drop)).toEqual({
      text: "✗ AppendEntries request #2 to n2 dropped: link cut",
      tone: "muted",
    });
    const error = on("rpc.error", { rpc: "AppendEntries", to: 0, msg: 9, error: "no reply" });
    expect(describe(error).tone).toBe("muted");
    const check = test_("check", { name: "checkSingleLeader", ok: false, error: "two leaders" });
    expect(describe(check)).toEqual({ text: "✗ checkSingleLeader: two leaders", tone: "bad" });
    const violation = test_("violation", { invariant: "Election Safety", message: "n1, n2" });
    expect(describe(violation)).toEqual({
      text: "VIOLATION of Election Safety: n1, n2",
      tone: "bad",
    });
    expect(describe(test_("test.end", { result: "fail", error: "timed out" }))).toEqual({
      text: "FAIL: timed out",
      tone: "bad",
    });
    expect(describe(test_("test.end", { result: "pass" })).tone).toBe("good");
  });

  test("a check without an outcome reads as its name, not '?'", () => {
    const check = test_("check", { name: 'checkNotCommitted("lost")', ok: true });
    expect(describe(check)).toEqual({ text: '✓ checkNotCommitted("lost")', tone: "plain" });
  });
});

group("describe: unknown kinds, extra fields, failing sentences", () => {
  test("unknown kinds show every detail field as key=value", () => {
    const later = on("snapshot.install", { index: 3, term: 2, data: [{ a: "b" }] });
    expect(later.known).toBe(false);
    expect(describe(later)).toEqual({ text: 'index=3 term=2 data=[{a:"b"}]', tone: "plain" });
    // a kind spelled like an Object.prototype member is just another unknown kind
    expect(describe(on("constructor", { n: 1 })).text).toBe("n=1");
  });

  test("a known kind with details that do not fit its type is shown as it is, with a warning", () => {
    const bad = onNode(5, 1, 2, "leader", "log.append", { index: "three", entries: 7 });
    const trace = parseTrace(`${bad}\n`, "bad.jsonl");
    expect(trace.events[0]!.known).toBe(false);
    expect(describe(trace.events[0]!).text).toBe("index=three entries=7");
    expect(trace.warnings[0]).toBe(
      "line 1: log.append event shown as it is: details.index is missing or of the wrong type",
    );
  });

  test("fields the kind does not declare are appended; the network is left to the lanes", () => {
    const role = on("role", { from: "follower", to: "candidate", reason: "timeout", extra: 7 });
    expect(describe(role).text).toBe("follower → candidate (timeout)  extra=7");
    const isolate = test_("isolate", { node: 2, ...network([[0, 1], [2]], [2]) });
    expect(describe(isolate).text).toBe("isolate n2: it reaches no one");
  });

  test("a sentence that throws leaves the fields readable and says so", () => {
    const vote = on("vote", { candidate: 1, candidateTerm: 2, granted: true, reason: "r" });
    const throwing = () => {
      throw new Error("no words for this");
    };
    expect(describe(vote, throwing)).toEqual({
      text: "candidate=1 candidateTerm=2 granted=true reason=r  (no sentence: no words for this)",
      tone: "plain",
    });
  });
});

group("describe: part 3's kinds", () => {
  test("persist, halt and restart read as part 3's sentences, with nothing left over", () => {
    const persist = on("persist", {
      currentTerm: 2,
      votedFor: 1,
      hardState: true,
      logFrom: 3,
      entries: 2,
      lastLogIndex: 4,
    });
    expect(describe(persist).text).toBe(
      "persists term 2, vote n1 and the log from [3] (2 entries, now to [4])",
    );
    expect(describe(on("halt", { reason: "disk full" })).text).toBe("stops: disk full");
    const restart = test_("restart", {
      node: 2,
      ...network([[0, 1, 2]]),
      currentTerm: 3,
      votedFor: null,
      log: [{ term: 1, command: "a" }],
    });
    expect(describe(restart).text).toBe(
      "restart n2 from its storage: term 3, vote none, log to [1]",
    );
    // a persist that names where the log changed must say how many entries it wrote
    const half = parseTrace(
      `${onNode(1, 0, 1, "follower", "persist", { currentTerm: 1, votedFor: null, hardState: false, logFrom: 1, lastLogIndex: 1 })}\n`,
      "half.jsonl",
    );
    expect(half.events[0]!.known).toBe(false);
    expect(half.warnings[0]).toContain("mix the fields of two variants");
  });

  test("a late reply and a conflict hint are part of the sentence, not extra fields", () => {
    const reply = message(9, "AppendEntries", "reply", {
      request: 8,
      payload: { term: 3, success: false, conflictTerm: 2, conflictIndex: 5 },
      late: true,
      from: 0,
    });
    expect(describe(on("deliver", reply)).text).toBe(
      "← n0 AppendEntries reply #9 (to #8) (too late: its call is over) (term 3, refused, conflict: T2 from [5])",
    );
  });

  test("payloads and commands read as a reader writes them, whatever the part put in them", () => {
    const entries = [
      { term: 2, command: null },
      {
        term: 2,
        command: { kind: "kv", client: "a", seq: 3, command: { op: "put", key: "x", value: "1" } },
      },
      { term: 2, command: { kind: "kv", command: { op: "get", key: "y" } } },
      { term: 2, command: "z=3" },
    ];
    const payload = {
      term: 2,
      leaderId: 1,
      prevLogIndex: 4,
      prevLogTerm: 1,
      entries,
      leaderCommit: 4,
    };
    const send = on("send", { ...message(7, "AppendEntries", "request", { payload }), to: 0 });
    expect(describe(send).text).toBe(
      '→ n0 AppendEntries request #7 (term 2, leader n1, after [4] T1, entries [5] T2 no-op, [6] T2 a #3: put "x" "1", [7] T2 get "y", [8] T2 "z=3", commit 4)',
    );
    const append = on("log.append", { index: 5, entries });
    expect(describe(append).text).toBe(
      'log += [5] T2 no-op, [6] T2 a #3: put "x" "1", [7] T2 get "y", [8] T2 "z=3"',
    );
    // a field a later part adds to a payload is still said, as words
    const later = { term: 1, success: true, matchIndex: 9 };
    const reply = on("send", {
      ...message(8, "AppendEntries", "reply", { request: 7, payload: later }),
      to: 1,
    });
    expect(describe(reply).text).toBe(
      "→ n1 AppendEntries reply #8 (to #7) (term 1, success, matchIndex 9)",
    );
    const first = {
      term: 1,
      leaderId: 0,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 0,
    };
    expect(
      describe(on("send", { ...message(9, "AppendEntries", "request", { payload: first }), to: 1 }))
        .text,
    ).toBe(
      "→ n1 AppendEntries request #9 (term 1, leader n0, after the start, no entries, commit 0)",
    );
    // part 1's messages carry no log fields: none is made up
    const bare = on("send", {
      ...message(10, "AppendEntries", "request", { payload: { term: 1, leaderId: 0 } }),
      to: 1,
    });
    expect(describe(bare).text).toBe("→ n1 AppendEntries request #10 (term 1, leader n0)");
  });
});

group("describe: part 4's kinds", () => {
  test("a client's invoke, attempt, answer and completion read as part 4's sentences", () => {
    const command = { op: "cas", key: "k", expected: null, value: "v" };
    const cases: [string, Details, string][] = [
      ["client.invoke", { client: "a", seq: 2, command }, 'a #2: cas "k" null → "v"'],
      ["client.send", { client: "a", seq: 2, to: 1, attempt: 3 }, "a #2 → n1 (attempt 3)"],
      [
        "client.answer",
        { client: "a", seq: 2, from: 1, status: "not-leader" },
        "a #2 ← n1: not-leader",
      ],
      [
        "client.complete",
        { client: "a", seq: 2, result: { value: null, existed: false, ok: true } },
        "a #2 done: swapped, was absent",
      ],
      [
        "client.complete",
        { client: "a", seq: 3, error: "timed out", definite: false },
        "a #3 FAILED (may have taken effect): timed out",
      ],
    ];
    for (const [kind, details, text] of cases) {
      const event = test_(kind, details);
      expect(event.known, kind).toBe(true);
      expect(describe(event)).toEqual({ text, tone: "plain" });
    }
  });

  test("a client event that does not fit its kind is shown as it is, with the field named", () => {
    const trace = parseTrace(
      [
        harness(1, "client.invoke", {
          client: "a",
          seq: 1,
          command: { op: "frobnicate", key: "k" },
        }),
        harness(2, "client.complete", { client: "a", seq: 1 }),
      ].join("\n"),
      "bad.jsonl",
    );
    expect(trace.events.map((e) => e.known)).toEqual([false, false]);
    expect(trace.warnings.slice(0, 2)).toEqual([
      "line 1: client.invoke event shown as it is: details.command is missing or of the wrong type",
      "line 2: client.complete event shown as it is: its details mix the fields of two variants",
    ]);
  });
});
