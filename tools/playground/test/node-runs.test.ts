// Sessions played in Node: a test scenario gives, event for event, the trace vitest itself writes
// for that test; a link gives the same trace from the parts' source (tsx, no bundle) as from the
// bundle; the reader's actions do what they say; a mutant breaks the rule it names.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { REPO, TOOL_DIR } from "../src/build/bundle.ts";
import { jsonLines } from "../src/engine/hash.ts";
import { fromFragment } from "../src/engine/spec.ts";
import { HELP, main } from "../src/main.ts";
import { nodeEngine } from "../src/node/bundled.ts";
import { rejoin, SCRIPT, SCRIPT5, SCRIPT6 } from "./sessions.ts";

/** Runs one test of a part under vitest with tracing on; returns the trace it wrote. */
function vitestTrace(part: string, file: string, name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "playground-vitest-"));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")),
  );
  const pattern = `^${name
    .split(" > ")
    .join(" ")
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
  const run = spawnSync(
    path.join(REPO, part, "node_modules", ".bin", "vitest"),
    ["run", file, "-t", pattern],
    {
      cwd: path.join(REPO, part),
      env: { ...env, RAFT_TRACE_DIR: dir, RAFT_SEED: "", RAFT_LOG: "" },
      encoding: "utf8",
    },
  );
  expect(run.status, run.stdout + run.stderr).toBe(0);
  const [trace] = readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort();
  return readFileSync(path.join(dir, trace!), "utf8");
}

/** Plays a link in the part's Node bundle; one without an end holds at `holdAt` ms (null: never). */
async function play(link: string, holdAt: number | null = 3000) {
  const spec = fromFragment(link);
  const engine = await nodeEngine(spec.part);
  const session = new engine.Session(await engine.runtime, spec);
  if (spec.at === null) session.holdAtTime = holdAt;
  session.start();
  await session.settledNow();
  session.close();
  return session;
}

/**
 * A free session of part 5 or 6 played to its end without a violation: its nodes snapshot early,
 * as the playground's free sessions of those parts do (src/parts.ts), and test.start says so.
 */
async function playEarlySnapshots(link: string) {
  const session = await play(link);
  expect(session.phase).toBe("paused");
  expect(session.violation).toBeNull();
  expect(session.events[0]?.details.config.raft).toEqual({
    snapshotAfterEntries: 5,
    snapshotChunkSize: 128,
  });
  return session;
}

/** A link whose action cannot be done: its session ends, failed, and says which and why. */
async function refusal(link: string) {
  const session = await play(link);
  expect(session.phase).toBe("ended");
  expect(session.test?.state).toBe("fail");
  return session.test?.errors[0];
}

/** The command line, in this process: the bundle keeps its gate to itself. */
async function run(...argv: string[]) {
  let out = "";
  let err = "";
  const status = await main(argv, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    cwd: tmpdir(),
  });
  return { status, out, err };
}

/** The command line in a process of its own: the direct run puts its gate in place of the global setImmediate. */
function cli(...args: string[]) {
  const run = spawnSync(
    path.join(TOOL_DIR, "node_modules", ".bin", "tsx"),
    [path.join(TOOL_DIR, "src", "cli.ts"), ...args],
    { encoding: "utf8", env: { ...process.env, INIT_CWD: tmpdir() } },
  );
  return { status: run.status, out: run.stdout, err: run.stderr };
}

describe("a test scenario in the playground is the test as vitest runs it", () => {
  test.each([
    [
      "part2-replication",
      "test/story.test.ts",
      "the story: election, replication, leader failure, re-election, repair",
    ],
    [
      "part4-kv",
      "test/basic.test.ts",
      "the key/value store, first steps > two clients see one another's writes",
    ],
    [
      "part5-snapshots",
      "test/snapshot-scenarios.test.ts",
      "catching up after compaction > a follower that crashes in the middle of receiving chunks gets the whole snapshot again after its restart",
    ],
  ])("%s %s: the same trace, event for event", async (part, file, name) => {
    const session = await play(
      `part=${part}&file=${encodeURIComponent(`${part}/${file}`)}&test=${encodeURIComponent(name)}`,
      null,
    );
    expect(session.test).toEqual({ state: "pass", errors: [] });
    expect(jsonLines(session.events)).toBe(vitestTrace(part, file, name));
  });
});

describe("links played in Node", () => {
  test.each([
    ["part 3's", SCRIPT],
    ["part 5's", SCRIPT5],
  ])(
    "the bundle and the parts' own source (tsx) give the same trace (%s script)",
    async (_, link) => {
      const bundled = await run("--replay", link);
      const direct = cli("--replay", link, "--direct");
      expect(bundled.status, bundled.err).toBe(0);
      expect(direct.status, direct.err).toBe(0);
      const hash = (out: string) => /sha256 ([0-9a-f]{64})/.exec(out)?.[1];
      expect(hash(bundled.out)).toMatch(/^[0-9a-f]{64}$/);
      expect(hash(direct.out)).toBe(hash(bundled.out));
    },
  );

  test("each action shows in the trace as the tests' faults do; a timed-out node times out", async () => {
    const session = await play(SCRIPT);
    expect(session.phase).toBe("paused");
    expect(session.gateNow()).toBe(1500);
    const kinds = session.events.filter((e) => e.node === null).map((e) => e.kind);
    for (const kind of ["crash", "restart", "partition", "heal", "slow", "cut", "uncut"]) {
      expect(kinds).toContain(kind);
    }
    const i = session.events.findIndex(
      (e) => e.kind === "note" && /times out n2/.test(e.details.text),
    );
    const after = session.events.slice(i);
    const fired = after.findIndex((e) => e.node === 2 && e.kind === "election.timeout");
    const restored = after.findIndex((e) => e.kind === "uncut" && e.details.to === 2);
    expect(fired).toBeGreaterThan(0);
    expect(restored).toBeGreaterThan(fired);
    expect(session.violation).toBeNull();
  });

  test("a mutant breaks its rule: a tie counted as a majority elects two leaders of one term", async () => {
    const session = await play(
      "part=part1-election&n=4&seed=1&mutant=majority-counted-with-%3E%3D&a=2.partition.0-1_2-3",
    );
    expect(session.phase).toBe("violation");
    expect(session.violation?.invariant).toBe("Election Safety");
    expect(session.violation?.message).toMatch(/are both leaders of term 1/);
    const real = await play("part=part1-election&n=4&seed=1&a=2.partition.0-1_2-3");
    expect(real.violation).toBeNull();
  });

  test("--replay writes the trace, and says when the session failed (exit 1)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "playground-cli-"));
    const file = path.join(dir, "t.jsonl");
    const bad = await run(
      "--replay",
      "#part=part1-election&n=4&mutant=majority-counted-with-%3E%3D&a=2.partition.0-1_2-3",
      "--trace",
      file,
    );
    expect(bad.status).toBe(1);
    expect(bad.err).toMatch(
      /the session failed: Election Safety: n\d and n\d are both leaders of term 1/,
    );
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0].kind).toBe("test.start");
    expect(lines.at(-1)).toMatchObject({ kind: "test.end", details: { result: "fail" } });
  });
});

describe("part 5 in the playground: snapshots", () => {
  test("the reader's snapshot on the leader is what the lagging follower installs, chunk by chunk; the policy snapshots every 5 entries", async () => {
    const session = await playEarlySnapshots(SCRIPT5);
    const events = session.events;
    const asked = events.findIndex(
      (e) => e.kind === "note" && /the reader has n2 take a snapshot/.test(e.details.text),
    );
    expect(asked).toBeGreaterThan(0);
    const taken = events[asked + 2]!;
    expect(taken).toMatchObject({
      node: 2,
      kind: "snapshot.take",
      details: {
        lastIncludedIndex: 4,
        lastIncludedTerm: 1,
        reason: "the state machine handed it over",
      },
    });
    const after = events.slice(asked);
    const chunks = after.filter((e) => e.node === 0 && e.kind === "snapshot.chunk");
    expect(chunks.map((e) => [e.details.offset, e.details.taken])).toEqual([
      [0, true],
      [128, true],
    ]);
    const installed = after.find((e) => e.node === 0 && e.kind === "snapshot.install");
    const { lastIncludedIndex, digest, size } = taken.details;
    expect(installed?.details).toMatchObject({ from: 2, lastIncludedIndex, digest, size });
    // the policy, 5 applied entries after each node's last snapshot (n1 had none: through [5])
    const byPolicy = after
      .filter((e) => e.kind === "snapshot.take" && e.details.reason !== taken.details.reason)
      .map((e) => [e.node, e.details.lastIncludedIndex]);
    expect(byPolicy.sort()).toEqual([
      [0, 9],
      [1, 5],
      [2, 9],
    ]);
  });

  test("a snapshot is refused, with why, on a node that is down, with nothing new applied, and before part 5", async () => {
    expect(await refusal("part=part5-snapshots&n=3&seed=1&a=30.crash.0,31.snapshot.0&at=40")).toBe(
      "the link's action at gate 31 (snapshot n0) cannot be done: n0 is down: it has no state to snapshot",
    );
    expect(await refusal("part=part5-snapshots&n=3&seed=1&a=30.snapshot.1&at=40")).toMatch(
      /: n1 has applied nothing since its snapshot through \[0\]: submit commands first$/,
    );
    expect(await refusal("part=part3-persistence&n=3&seed=1&a=30.snapshot.1&at=40")).toMatch(
      /: part3-persistence has no snapshots \(they come in part 5\)$/,
    );
  });
});

describe("part 6 in the playground: leadership transfer, reads, options turned off", () => {
  test("the reader hands the leadership to n0: TimeoutNow, n0 leads the next term, commands and reads go on", async () => {
    const session = await playEarlySnapshots(SCRIPT6);
    const events = session.events;
    const asked = events.findIndex(
      (e) =>
        e.kind === "note" &&
        e.details.text === "the reader asks the leader n2 to hand its leadership to n0",
    );
    expect(asked).toBeGreaterThan(0);
    const after = events.slice(asked);
    expect(after[1]).toMatchObject({ node: 2, kind: "transfer.start", details: { target: 0 } });
    const timeoutNow = after.find((e) => e.kind === "send" && e.details.rpc === "TimeoutNow");
    expect(timeoutNow).toMatchObject({ node: 2, details: { to: 0, type: "request" } });
    const leads = after.find((e) => e.kind === "role" && e.details.to === "leader");
    expect(leads).toMatchObject({ node: 0, term: 2 });
    expect(after.find((e) => e.kind === "transfer.end")?.node).toBe(2);
    // the reads: n0 asked n2 (ReadIndex) just before the transfer (and serves it once it has
    // applied through the index n2 gave, by then leader itself), n2 asked n0 after it
    const served = events.filter((e) => e.kind === "read.ready").map((e) => e.node);
    expect(served).toEqual([0, 2]);
    const forwarded = events.filter(
      (e) => e.kind === "read.start" && e.details.follower !== undefined,
    );
    expect(forwarded.map((e) => [e.node, e.details.follower])).toEqual([
      [2, 0],
      [0, 2],
    ]);
    const y = events.find(
      (e) => e.kind === "submit" && e.details.command === "y" && !e.details.refused,
    );
    expect(y?.node).toBe(0);
    // n1 came back without raising its term above the leader's: PreVote
    expect(
      events.filter((e) => e.kind === "term" && e.node === 1).map((e) => e.details.to),
    ).toEqual([1, 2]);
  });

  test("without PreVote the rejoining node deposes the leader; with it, the leader stays", async () => {
    const leaders = (session: Awaited<ReturnType<typeof play>>) =>
      session.events
        .filter((e) => e.kind === "role" && e.details.to === "leader")
        .map((e) => e.node);
    const on = await play(rejoin(""));
    expect(leaders(on)).toEqual([2]);
    const off = await play(rejoin("preVote"));
    expect(off.events[0]?.details.config.raft).toMatchObject({ preVote: false });
    expect(off.violation).toBeNull();
    expect(leaders(off)).toEqual([2, 1]);
    const deposed = off.events.find(
      (e) => e.kind === "role" && e.node === 2 && e.details.to === "follower",
    );
    expect(deposed?.details.reason).toMatch(/n1 replied to AppendEntries with a higher term/);
  });

  test("a transfer is refused, with why: to the leader, with no leader, with the option off, before part 6", async () => {
    expect(await refusal("part=part6-availability&n=3&seed=1&a=40.transfer.2&at=50")).toBe(
      "the link's action at gate 40 (transfer leadership to n2) cannot be done: n2 leads already: choose another node",
    );
    expect(await refusal("part=part6-availability&n=3&seed=1&a=2.transfer.1&at=10")).toMatch(
      /: no node leads now: there is nothing to hand over$/,
    );
    expect(
      await refusal(
        "part=part6-availability&n=3&seed=1&off=leadershipTransfer&a=40.transfer.1&at=50",
      ),
    ).toMatch(/: this session runs without leadership transfer \(turned off above\)$/);
    expect(await refusal("part=part5-snapshots&n=3&seed=1&a=40.transfer.1&at=50")).toMatch(
      /: part5-snapshots cannot transfer leadership \(it comes in part 6\)$/,
    );
    expect(await refusal("part=part5-snapshots&n=3&seed=1&a=40.read.1&at=50")).toMatch(
      /: part5-snapshots has no reads without a log entry \(ReadIndex comes in part 6\)$/,
    );
  });
});

describe("the command line", () => {
  test("--help, and usage errors say what is wrong and where help is", async () => {
    const help = await run("--help");
    expect(help.status).toBe(0);
    expect(help.out).toBe(HELP);
    expect(help.out).toContain("pnpm playground --replay '<link>'");
    const bad = await run("--nodes", "9");
    expect(bad.status).toBe(2);
    expect(bad.err).toBe(
      "playground: --nodes must be a whole number from 1 to 7, got \"9\"\nTry 'pnpm playground --help'.\n",
    );
    const unknown = await run("--colour");
    expect(unknown.status).toBe(2);
    expect(unknown.err).toMatch(/^playground: Unknown option '--colour'/);
    const link = await run("--replay", "part=part7");
    expect(link.status).toBe(2);
    expect(link.err).toMatch(/--replay: no part "part7"/);
  });
});
