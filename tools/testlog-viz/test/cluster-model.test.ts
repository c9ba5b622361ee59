// The cluster view's model (src/cluster-model.ts), read against the fixtures' own events: the
// election timers it infers, the messages it flies, why a node is down, the votes a candidate
// holds, and that feeding events in pieces gives what feeding them at once does.
import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ClusterModel } from "../src/cluster-model.ts";
import type { TraceEvent } from "../src/trace.ts";
import { fixture, kvRun, mergedRun } from "./real.ts";

const FIXTURES = readdirSync(new URL("fixtures/", import.meta.url)).filter((f) =>
  f.endsWith(".jsonl"),
);
const lines = (name: string): unknown[] =>
  fixture(name)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));

function modelOf(events: readonly TraceEvent[]): ClusterModel {
  const model = new ClusterModel();
  model.appendEvents(events);
  return model;
}

describe("election timers, inferred from the events that restart them (Figure 2)", () => {
  test.each(FIXTURES)("%s: every timer that fires started where the trace says it did", (name) => {
    const model = new ClusterModel();
    model.append(lines(name));
    let fired = 0;
    for (const [node, runs] of model.timers) {
      for (const run of runs.filter((r) => r.fired !== null)) {
        fired++;
        // the timeout it reports is how long it ran: its start is the reset we found
        const rate = model.stateAt(run.start.index).get(node)?.clockRate ?? 1;
        const where = `n${node} timer fired at ${run.fired!.t}`;
        if (rate === 1) expect(run.fired!.t - run.fired!.afterMs, where).toBe(run.start.t);
        else {
          // part 6's drift: it ran on the node's own clock, `rate` of its ms to each of the
          // trace's, which counts whole ms: within one of the trace's ms
          const ran = (run.fired!.t - run.start.t) * rate;
          expect(Math.abs(ran - run.fired!.afterMs), where).toBeLessThanOrEqual(rate);
        }
      }
    }
    const timeouts = model.events.filter((e) => e.kind === "election.timeout").length;
    expect(fired).toBe(timeouts);
  });

  test("a leader has no timer; a follower's runs down from its last reset", () => {
    const model = new ClusterModel();
    model.append(lines("part2-story.jsonl"));
    const won = model.events.findIndex((e) => e.kind === "role" && e.role === "leader");
    const leader = model.events[won]!.node!;
    expect(model.timerAt(leader, won)).toBeNull();
    const follower = model.nodes.find((id) => id !== leader)!;
    const run = model.timerAt(follower, won + 20)!;
    expect(run.start.index).toBeLessThanOrEqual(won + 20);
    expect(model.range()).toEqual([150, 300]);
  });
});

describe("messages in flight", () => {
  test("every send flies to its delivery, drop or the trace's end; a duplicate flies twice", () => {
    for (const name of FIXTURES) {
      const model = new ClusterModel();
      model.append(lines(name));
      const kinds = (kind: string) => model.events.filter((e) => e.kind === kind).length;
      const copies = model.flights.filter((f) => f.duplicate).length;
      expect(model.flights.length - copies, name).toBe(kinds("send"));
      const ended = model.flights.filter((f) => f.end !== null).length;
      expect(ended, name).toBe(kinds("deliver") + kinds("drop"));
    }
  });

  test("a message moves from sender to receiver as time passes, and is gone once delivered", () => {
    const model = new ClusterModel();
    model.append(lines("part2-story.jsonl"));
    const f = model.flights.find((x) => x.end !== null && x.end.t - x.sent.t >= 2)!;
    const [sent, end] = [f.sent, f.end!];
    const at = (t: number) =>
      model.flightsAt(model.indexAt(t), t).find((x) => x.flight === f)?.progress;
    expect(model.flightsAt(sent.index, sent.t).find((x) => x.flight === f)?.progress).toBe(0);
    const middle = at(sent.t + (end.t - sent.t) / 2);
    expect(middle).toBeGreaterThan(0);
    expect(middle).toBeLessThan(1);
    expect(model.flightsAt(end.index, end.t).some((x) => x.flight === f)).toBe(false);
  });

  test("a dropped message falls where it was lost, for a moment after the drop", () => {
    const model = new ClusterModel();
    model.append(lines("handmade-election.jsonl"));
    const f = model.flights.find((x) => x.how === "dropped")!;
    const shown = model.flightsAt(f.end!.index, f.end!.t).find((x) => x.flight === f)!;
    expect(shown.falling).toBe(true);
    const later = f.end!.t + model.typicalFlight() + 1;
    expect(model.flightsAt(model.indexAt(later), later).some((x) => x.flight === f)).toBe(false);
  });
});

describe("nodes, votes and runs of real processes", () => {
  test("a candidate holds its own vote and the votes granted to it in its term", () => {
    const model = new ClusterModel();
    model.append(lines("part2-story.jsonl"));
    const won = model.events.findIndex((e) => e.kind === "role" && e.role === "leader");
    const e = model.events[won]!;
    const votes = model.votesOf(e.node!, won, e.term!);
    expect(votes[0]).toBe(e.node);
    expect(votes.length).toBeGreaterThanOrEqual(2); // a majority of three
  });

  test("a SIGKILLed leader is dead from the supervisor's process.exit, back at its new process", () => {
    const model = modelOf(kvRun().events);
    const kill = model.events.findIndex(
      (e) => e.kind === "process.exit" && e.details.signal === "SIGKILL",
    );
    const node = model.events[kill]!.node!;
    const column = model.nodes.indexOf(node);
    expect(model.lanesAt(kill - 1)[column]!.dead).toBe(false);
    expect(model.lanesAt(kill)[column]!.dead).toBe(true);
    expect(model.deathOf(node, kill)).toBe("killed by SIGKILL");
    const back = model.events.findIndex((e, i) => i > kill && e.kind === "process.start");
    expect(model.events[back]!.node).toBe(node);
    expect(model.lanesAt(back)[column]!.dead).toBe(false);
    // while it was down, nobody else's lane says leader in its old term beside a new leader
    for (let i = kill; i < back; i++) {
      const leaders = model.lanesAt(i).filter((l) => l.role === "leader" && !l.dead);
      expect(leaders.length).toBeLessThanOrEqual(1);
    }
  });

  test("events fed a few at a time give the same cluster as all at once", () => {
    const events = mergedRun().events;
    const whole = modelOf(events);
    const pieces = new ClusterModel();
    for (let i = 0; i < events.length; i += 7) pieces.appendEvents(events.slice(i, i + 7));
    for (const i of [0, 10, events.length - 1]) {
      expect(pieces.stateAt(i)).toEqual(whole.stateAt(i));
      expect(pieces.lanesAt(i)).toEqual(whole.lanesAt(i));
      expect(pieces.flightsAt(i, events[i]!.t)).toEqual(whole.flightsAt(i, events[i]!.t));
    }
  });

  test("lines that are not events are reported, not fed", () => {
    const model = new ClusterModel();
    model.append([
      { t: 0, kind: "" },
      "nonsense",
      { t: 1, node: null, kind: "note", details: { text: "x" } },
    ]);
    expect(model.events).toHaveLength(1);
    expect(model.problems).toHaveLength(2);
  });
});
