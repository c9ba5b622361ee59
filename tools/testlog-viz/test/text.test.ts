import { Chalk } from "chalk";
import { describe, expect, test } from "vitest";
import { renderText } from "../src/text.ts";
import { handmade } from "./real.ts";

const HEADER_LINES = 4; // result, replay, summary, column heads

describe("renderText", () => {
  test("plain text: a header, then one line per event with every node's role and term", () => {
    const lines = renderText(handmade()).trimEnd().split("\n");
    expect(lines.join("\n")).not.toContain("\x1b[");
    expect(lines[0]).toBe("PASS election basic election  seed 42");
    expect(lines[2]).toBe(
      "leaders: term 1 n1; term 2 n2  elections: 2  messages: 16 sent, 12 delivered, 4 dropped",
    );
    expect(lines).toHaveLength(HEADER_LINES + 57);
    expect(lines).toContain(
      "    179  F1     L1     F0      n1 role candidate → leader (won the election with 2 of 3 votes)",
    );
    // while the network is split, each token ends in its node's group
    expect(lines).toContain(
      "    200  F1/A   ✂L1/B  F1/A    TEST isolate isolate n1: it reaches no one",
    );
  });

  test("colours lanes by role when asked to", () => {
    const text = renderText(handmade(), { chalk: new Chalk({ level: 1 }) });
    expect(text).toContain("\x1b[42m\x1b[30mL1    \x1b[39m\x1b[49m"); // leader: green background
    expect(text).toContain("\x1b[43m\x1b[30mC1    \x1b[39m\x1b[49m"); // candidate: yellow
  });

  test("can leave out heartbeats", () => {
    const lines = renderText(handmade(), { hideHeartbeats: true }).trimEnd().split("\n");
    expect(lines).toHaveLength(HEADER_LINES + 57 - 20);
    expect(lines.join("\n")).not.toMatch(/AppendEntries( reply)? #/);
  });
});
