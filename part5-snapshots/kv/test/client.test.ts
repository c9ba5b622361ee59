// Goal: the client alone (src/kv/client.ts): it finds the leader (a not-leader hint at once, else
// the next node in turn), opens a session before its first operation and again when the store
// has forgotten it, retries every attempt of an operation with the same number, waits between
// attempts a random time under a bound that doubles (with jitter, never past the deadline), and
// in the end says a failure is definite only when no attempt could have taken effect (a forgotten
// session included). Method: a KvClient on part 3's VirtualClock, talking to a ScriptedTransport
// whose every answer the test writes; the randomness is a SeededRandom, or a stub that always
// draws the top of the range so the bounds show. Nothing here depends on the run's seed.

import { VirtualClock } from "part5-snapshots/clock";
import { type Random, SeededRandom } from "part5-snapshots/random";
import { describe, expect, test } from "vitest";
import { ClientError, type ClientOptions, KvClient } from "../src/kv/client.ts";
import {
  drawsHighest,
  expired,
  failed,
  notLeader,
  ok,
  type Scripted,
  ScriptedTransport,
  settle,
} from "./scripted-transport.ts";

function setup(
  script: (to: number, attempt: number) => Scripted,
  options: Partial<ClientOptions> = {},
  random: Random = new SeededRandom(1),
) {
  const clock = new VirtualClock();
  const transport = new ScriptedTransport(clock, script);
  const client = new KvClient(transport, clock, random, { id: "c1", nodes: [0, 1, 2], ...options });
  return { clock, transport, client };
}

/** The ClientError an operation ended with (the test fails if it succeeded). */
function errorOf(outcome: { error: unknown } | { value: unknown }): ClientError {
  if (!("error" in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  expect(outcome.error).toBeInstanceOf(ClientError);
  return outcome.error as ClientError;
}

describe("finding the leader", () => {
  test("a not-leader hint is followed at once, and the leader is tried first next time", async () => {
    const { clock, transport, client } = setup((to) => (to === 2 ? ok("v") : notLeader(2)));
    expect(await settle(clock, client.get("k"))).toEqual({
      value: { value: "v", existed: true },
      at: 0,
    });
    expect(transport.sent.map((s) => [s.t, s.to])).toEqual([
      [0, 0],
      [0, 2], // no backoff before following a hint
    ]);
    await settle(clock, client.get("k"));
    expect(transport.sent.at(-1)!.to).toBe(2);
    expect(transport.sent).toHaveLength(3);
  });

  test("a hint naming a node the client was not told of is not followed", async () => {
    const { clock, transport, client } = setup((to) => (to === 1 ? ok("v") : notLeader(7)));
    await settle(clock, client.get("k"));
    expect(transport.sent.map((s) => s.to)).toEqual([0, 1]);
  });

  test("one operation at a time: a second one while the first runs is refused", async () => {
    const { clock, client } = setup(() => ok("v"));
    const first = client.get("k");
    await expect(client.get("k")).rejects.toThrow(/one operation at a time/);
    await settle(clock, first);
  });

  test("without a hint it tries the next node in turn, after a backoff, round and round", async () => {
    const answers = ["refused", notLeader(), notLeader(2), "no answer", ok()] as const;
    const { clock, transport, client } = setup((_, n) => answers[n]!);
    await settle(clock, client.put("k", "v"));
    // 0 refused → 1 has no hint → 2 names itself (useless) → 0 never answers → 1.
    expect(transport.sent.map((s) => s.to)).toEqual([0, 1, 2, 0, 1]);
    expect(transport.gaps().every((gap) => gap >= 0)).toBe(true);
    expect(transport.gaps()[3]).toBeGreaterThanOrEqual(1000); // the attempt that timed out
  });

  test("a hint is followed even when the hinted node was tried before", async () => {
    const { clock, transport, client } = setup((to, n) =>
      n === 0 ? notLeader(1) : to === 1 && n === 1 ? notLeader(0) : to === 0 ? ok() : "refused",
    );
    await settle(clock, client.get("k"));
    expect(transport.sent.map((s) => [s.t, s.to])).toEqual([
      [0, 0],
      [0, 1],
      [0, 0],
    ]);
  });
});

describe("retries", () => {
  test("every attempt of one operation carries the same client and number; the next gets the next", async () => {
    const { clock, transport, client } = setup((_, n) =>
      n < 4 ? (["no answer", notLeader(), failed(false), "refused"] as const)[n]! : ok(),
    );
    await settle(clock, client.append("k", "x"));
    expect(transport.sent.length).toBe(5);
    for (const s of transport.sent) {
      expect(s.request).toEqual({
        client: "c1",
        session: 1,
        seq: 1,
        command: { op: "append", key: "k", value: "x" },
      });
    }
    await settle(clock, client.cas("k", null, "y"));
    expect(transport.sent.at(-1)!.request).toEqual({
      client: "c1",
      session: 1,
      seq: 2,
      command: { op: "cas", key: "k", expected: null, value: "y" },
    });
  });

  test("an operation that failed still used up its number", async () => {
    const { clock, transport, client } = setup(() => notLeader(), { deadlineMs: 100 });
    errorOf(await settle(clock, client.delete("k")));
    await settle(clock, client.get("k"));
    expect(transport.sent.at(-1)!.request.seq).toBe(2);
  });
});

describe("sessions", () => {
  test("the first operation opens a session, once; every request carries its number", async () => {
    const { clock, transport, client } = setup(() => ok("v"));
    await settle(clock, client.get("k"));
    await settle(clock, client.get("k"));
    expect(transport.opens.map((s) => s.request)).toEqual([{ client: "c1", open: true }]);
    expect(transport.sent.map((s) => s.request.session)).toEqual([1, 1]);
  });

  test("a session forgotten between operations: a new one, and the operation runs in it", async () => {
    const { clock, transport, client } = setup((_, n) => (n === 1 ? expired(1) : ok("v")));
    await settle(clock, client.get("k"));
    expect(await settle(clock, client.put("k", "w"))).toMatchObject({ value: { value: "v" } });
    // No attempt of the put may have run before the session was gone: it goes again, at once.
    expect(transport.sent.map((s) => [s.request.session, s.request.seq])).toEqual([
      [1, 1],
      [1, 2],
      [2, 2],
    ]);
    expect(transport.opens).toHaveLength(2);
  });

  test("a session forgotten after an attempt that may have run: maybe, never run again", async () => {
    const script = ["no answer", expired(1), ok()] as const;
    const { clock, transport, client } = setup((_, n) => script[n]!);
    const error = errorOf(await settle(clock, client.append("k", "x")));
    expect(error.definite).toBe(false);
    expect(error.message).toMatch(/may have taken effect.*session 1 is not open/);
    expect(transport.sent).toHaveLength(2);
    // The next operation opens a new session.
    await settle(clock, client.get("k"));
    expect(transport.sent.at(-1)!.request).toMatchObject({ session: 2, seq: 2 });
  });
});

describe("backoff", () => {
  test("its bound doubles from twice the base up to the maximum, and the last wait ends at the deadline", async () => {
    const { clock, transport, client } = setup(
      () => notLeader(),
      { deadlineMs: 3000 },
      drawsHighest,
    );
    const outcome = await settle(clock, client.get("k"));
    expect(transport.gaps()).toEqual([20, 40, 80, 160, 320, 500, 500, 500, 500]);
    // The wait after the last attempt (at 2620) is cut to the 380 ms left.
    expect(outcome.at).toBe(3000);
  });

  test("each wait is drawn anew under its bound: two clients do not retry in step", async () => {
    const runs = [1, 2].map(async (seed) => {
      const { clock, transport, client } = setup(() => notLeader(), {}, new SeededRandom(seed));
      await settle(clock, client.get("k"));
      return transport.gaps();
    });
    const [a, b] = await Promise.all(runs);
    for (const gaps of [a!, b!]) {
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(0);
        expect(gap).toBeLessThanOrEqual(Math.min(500, 10 * 2 ** (i + 1)));
      });
      // Jitter: not every wait is its bound, and the waits differ.
      expect(new Set(gaps).size).toBeGreaterThan(gaps.length / 2);
    }
    expect(a).not.toEqual(b);
  });

  test("no attempt and no wait goes past the deadline, whatever the attempt timeout", async () => {
    const { clock, transport, client } = setup(() => "no answer", { deadlineMs: 2500 });
    const outcome = await settle(clock, client.put("k", "v"));
    expect(outcome.at).toBeLessThanOrEqual(2500);
    for (const s of transport.sent) expect(s.t + s.timeoutMs).toBeLessThanOrEqual(2500);
    expect(transport.sent.length).toBeGreaterThanOrEqual(3);
    expect(transport.sent.at(-1)!.timeoutMs).toBeLessThan(1000);
  });
});

describe("definite and indefinite failures", () => {
  const cases: [string, (n: number) => Scripted, boolean][] = [
    ["every node said it is not the leader", () => notLeader(), true],
    ["every node refused the connection", () => "refused", true],
    ["every answer was a definite failure", () => failed(true), true],
    [
      "one attempt went unanswered, among refusals",
      (n) => (n === 2 ? "no answer" : "refused"),
      false,
    ],
    ["one answer was an indefinite failure", (n) => (n === 0 ? failed(false) : notLeader()), false],
    [
      "the transport failed in a way it could not explain",
      (n) => (n === 0 ? new Error("bug") : notLeader()),
      false,
    ],
  ];
  for (const [why, script, definite] of cases) {
    test(`${definite ? "definite" : "indefinite"}: ${why}`, async () => {
      const { clock, client } = setup((_, n) => script(n), { deadlineMs: 3000 });
      const error = errorOf(await settle(clock, client.append("k", "x")));
      expect(error.definite).toBe(definite);
      expect(error.message).toMatch(definite ? /did not take effect/ : /may have taken effect/);
    });
  }

  test("success after failures is success", async () => {
    const { clock, client } = setup((_, n) => (n < 3 ? "no answer" : ok("old")));
    expect(await settle(clock, client.put("k", "new"))).toMatchObject({
      value: { value: "old", existed: true },
    });
  });
});
