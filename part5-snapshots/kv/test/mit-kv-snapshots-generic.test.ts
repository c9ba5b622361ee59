// Goal: the MIT 6.824 (6.5840) lab 4B's GenericTest scenarios, kvraft with snapshots: rounds of
// appends and gets with the lab's maxraftstate (1000 bytes), every server crashing and restarting
// from its snapshot after each round, with one client and twenty, on an unreliable network, with
// partitions, and all of it with random keys. Method: the lab's GenericTest in virtual time
// (mit-kv-generic.ts): after each round no server's log holds more than 8 × maxraftstate bytes,
// and a run must have taken snapshots and, with crashes, restarted from them; lincheck then
// checks every operation of the run, as the lab's Porcupine does (harness.ts).

import { describe } from "vitest";
import { test } from "./harness.ts";
import { genericTest, MAXRAFTSTATE } from "./mit-kv-generic.ts";

describe("MIT 6.824 lab 4B, key/value service with snapshots", () => {
  const m = MAXRAFTSTATE;
  test("restarts, snapshots, one client", () =>
    genericTest({ clients: 1, servers: 5, crash: true, maxraftstate: m }));
  test("restarts, snapshots, many clients", () =>
    genericTest({ clients: 20, servers: 5, crash: true, maxraftstate: m }));
  test("unreliable net, snapshots, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true, maxraftstate: m }));
  test("unreliable net, restarts, snapshots, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true, crash: true, maxraftstate: m }));
  test("unreliable net, restarts, partitions, snapshots, many clients", () =>
    genericTest({
      clients: 5,
      servers: 5,
      unreliable: true,
      crash: true,
      partitions: true,
      maxraftstate: m,
    }));
  test("unreliable net, restarts, partitions, snapshots, random keys, many clients (linearizable)", () =>
    genericTest({
      clients: 7,
      servers: 7,
      unreliable: true,
      crash: true,
      partitions: true,
      randomKeys: true,
      maxraftstate: m,
    }));
});
