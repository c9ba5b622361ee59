// Links and actions: what a session's address says, read back exactly, and clear errors for
// addresses that say something wrong.
import { describe, expect, test } from "vitest";
import { type Action, decodeActions, encodeActions, LinkError } from "../src/engine/actions.ts";
import { fromFragment, type SessionSpec, toFragment } from "../src/engine/spec.ts";
import { formatName } from "../src/engine/vitest-shim.ts";

const every: Action[] = [
  { kind: "isolate", node: 1 },
  { kind: "reconnect", node: 1 },
  { kind: "crash", node: 0 },
  { kind: "restart", node: 0 },
  { kind: "timeout", node: 2 },
  { kind: "snapshot", node: 2 },
  { kind: "transfer", node: 3 },
  { kind: "read", node: 0 },
  { kind: "heal" },
  {
    kind: "partition",
    groups: [
      [0, 1],
      [2, 3, 4],
    ],
  },
  { kind: "cut", from: 0, to: 4 },
  { kind: "uncut", from: 4, to: 0 },
  { kind: "slow", from: 1, to: 2, ms: 250 },
  { kind: "loss", percent: 15 },
  { kind: "submit", node: -1, command: "x=1, y.2 & z%3 #é" },
  { kind: "submit", node: 2, command: "" },
  { kind: "get", client: "c1", key: "k.e,y" },
  { kind: "put", client: "c2", key: "x", value: "a,b.c" },
  { kind: "append", client: "c3", key: "日本", value: "→" },
];

describe("links", () => {
  test("every kind of action, with awkward text, reads back as it was written", () => {
    const timed = every.map((action, i) => ({ gate: 10 * i + 1, action }));
    const text = encodeActions(timed);
    expect(text).not.toMatch(/[#&\s]/);
    expect(decodeActions(text)).toEqual(timed);
  });

  test("a whole session reads back, scenario, mutant, take-over and end included", () => {
    const spec: SessionSpec = {
      part: "part3-persistence",
      nodes: 5,
      seed: 42,
      mutant: "majority-counted-with->=",
      scenario: { file: "part3-persistence/test/story.test.ts", test: "a > b: c's & d" },
      takeover: 120,
      actions: [{ gate: 130, action: { kind: "crash", node: 4 } }],
      at: 400,
      off: [],
    };
    expect(fromFragment(`file:///x/index.html#${toFragment(spec)}`)).toEqual(spec);
    expect(fromFragment(toFragment(spec))).toEqual(spec);
  });

  test("part 6's options turned off read back, in the part's order, once each", () => {
    const spec: SessionSpec = {
      ...fromFragment("part=part6-availability"),
      off: ["preVote", "checkQuorum"],
    };
    expect(toFragment(spec)).toContain("off=preVote.checkQuorum");
    expect(fromFragment(toFragment(spec))).toEqual(spec);
    expect(fromFragment("part=part6-availability&off=readIndex.preVote.preVote").off).toEqual([
      "preVote",
      "readIndex",
    ]);
    expect(fromFragment("part=part6-availability").off).toEqual([]);
  });

  test("what a link leaves out is the default session", () => {
    expect(fromFragment("")).toMatchObject({
      part: "part2-replication",
      nodes: 3,
      seed: 1,
      actions: [],
    });
    expect(fromFragment("#part=part1-election")).toMatchObject({
      part: "part1-election",
      mutant: null,
    });
  });

  test("a wrong link says what is wrong", () => {
    expect(() => fromFragment("part=part9-nothing")).toThrow(
      /no part "part9-nothing": the parts are part1-election/,
    );
    expect(() => fromFragment("n=0")).toThrow(
      new LinkError('n in the link must be a whole number from 1, got "0"'),
    );
    expect(() => fromFragment("seed=x")).toThrow(/seed in the link must be a whole number/);
    expect(() => fromFragment("file=a.test.ts")).toThrow(/needs both file= and test=/);
    expect(() => fromFragment("a=12.explode.1")).toThrow(/unknown kind "explode"/);
    expect(() => fromFragment("a=x.crash.1")).toThrow(/no gate number/);
    expect(() => fromFragment("a=5.slow.1.2")).toThrow(/field 3 is not a whole number/);
    expect(() => fromFragment("oops")).toThrow(/"oops" in the link is not name=value/);
    expect(() => fromFragment("part=part6-availability&off=preVotes")).toThrow(
      /off=preVotes in the link: part6-availability's options are preVote, checkQuorum/,
    );
    expect(() => fromFragment("part=part5-snapshots&off=preVote")).toThrow(
      /part5-snapshots has no options to turn off \(part 6 has\)/,
    );
  });
});

describe("test names of test.each and test.for, as vitest writes them", () => {
  test("each placeholder takes the case's next value; %# and %$ its place", () => {
    expect(
      formatName("save %i of 40 crashes its node (%s)", [7.9, "crash before durable"], 3),
    ).toBe("save 7 of 40 crashes its node (crash before durable)");
    expect(formatName("%d and %j, case %# (%$), 100%%", [1.5, { a: 1 }], 0)).toBe(
      '1.5 and {"a":1}, case 0 (1), 100%',
    );
    expect(formatName("%s %s", ["only one"], 0)).toBe("only one %s");
  });
});
