import { expect, describe as group, test } from "vitest";
import { describe } from "../src/describe.ts";
import type { TraceEvent } from "../src/trace.ts";

const event = (
  kind: string,
  details: Record<string, unknown>,
  node: number | null = 1,
): TraceEvent => ({
  line: 1,
  t: 0,
  node,
  term: node === null ? null : 1,
  role: node === null ? null : "follower",
  kind,
  details,
});

group("describe", () => {
  test("a request and its reply say where they go and which request a reply answers", () => {
    const payload = { term: 2, candidateId: 1 };
    expect(
      describe(
        event("send", {
          msg: 4,
          to: 0,
          rpc: "RequestVote",
          type: "request",
          payload,
          heartbeat: false,
        }),
      ),
    ).toEqual({
      text: "→ n0 RequestVote #4 {term:2 candidateId:1}",
      tone: "plain",
    });
    const reply = {
      msg: 5,
      from: 0,
      rpc: "RequestVote",
      type: "reply",
      request: 4,
      payload: { voteGranted: true },
      heartbeat: false,
      duplicate: true,
    };
    expect(describe(event("deliver", reply)).text).toBe(
      "← n0 RequestVote reply #5 (answers #4) (duplicate) {voteGranted:true}",
    );
  });

  test("drops and failed calls are muted, failed checks and violations are red", () => {
    const drop = describe(
      event("drop", {
        msg: 2,
        to: 2,
        rpc: "AppendEntries",
        type: "request",
        heartbeat: true,
        reason: "link cut",
      }),
    );
    expect(drop).toEqual({ text: "✕ → n2 AppendEntries #2 dropped (link cut)", tone: "muted" });
    expect(
      describe(event("rpc.error", { rpc: "AppendEntries", to: 0, msg: 9, error: "no reply" })).tone,
    ).toBe("muted");
    const check = describe(
      event(
        "check",
        { name: "checkSingleLeader", ok: false, error: "two leaders in term 3" },
        null,
      ),
    );
    expect(check).toEqual({ text: "✗ checkSingleLeader: two leaders in term 3", tone: "bad" });
    const violation = describe(
      event("violation", { invariant: "Election Safety", message: "n1 and n2 lead term 3" }, null),
    );
    expect(violation).toEqual({
      text: "VIOLATION of Election Safety: n1 and n2 lead term 3",
      tone: "bad",
    });
    expect(describe(event("test.end", { result: "fail", error: "timed out" }, null))).toEqual({
      text: "FAIL: timed out",
      tone: "bad",
    });
  });

  test("unknown kinds show every detail field as key=value", () => {
    const d = describe(
      event("log.append", { index: 3, term: 2, command: "x=1", entries: [{ a: "b" }] }),
    );
    expect(d).toEqual({ text: 'index=3 term=2 command=x=1 entries=[{a:"b"}]', tone: "plain" });
    // a kind spelled like an Object.prototype member is just another unknown kind
    expect(describe(event("constructor", { n: 1 })).text).toBe("n=1");
  });

  test("fields a known kind does not mention are appended, cutOff and dead are left to the lanes", () => {
    expect(
      describe(event("role", { from: "follower", to: "candidate", reason: "timeout", extra: 7 }))
        .text,
    ).toBe("follower → candidate (timeout)  extra=7");
    expect(describe(event("isolate", { node: 2, cutOff: [2], dead: [] }, null)).text).toBe(
      "isolate n2",
    );
    expect(
      describe(event("partition", { groups: [[0, 1], [2]], cutOff: [2], dead: [] }, null)).text,
    ).toBe("partition [0,1] | [2]");
  });
});
