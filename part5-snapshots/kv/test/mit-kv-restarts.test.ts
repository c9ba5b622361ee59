// Goal: the key/value scenarios of the MIT 6.824 (6.5840) lab 4A in which every server crashes
// and restarts after each round (the lab's Persist tests): alone, with many clients, on an
// unreliable network, with partitions, and all of these together with random keys. A restarted
// server rebuilds its state by applying its log again. Method: the lab's GenericTest in virtual
// time (mit-kv-generic.ts); lincheck then checks every operation of the run, as the lab's
// Porcupine does (harness.ts).

import { describe } from "vitest";
import { test } from "./harness.ts";
import { genericTest } from "./mit-kv-generic.ts";

describe("MIT 6.824 lab 4A, key/value service", () => {
  test("restarts, one client", () => genericTest({ clients: 1, servers: 5, crash: true }));
  test("restarts, many clients", () => genericTest({ clients: 5, servers: 5, crash: true }));
  test("unreliable net, restarts, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true, crash: true }));
  test("restarts, partitions, many clients", () =>
    genericTest({ clients: 5, servers: 5, crash: true, partitions: true }));
  test("unreliable net, restarts, partitions, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true, crash: true, partitions: true }));
  test("unreliable net, restarts, partitions, random keys, many clients (linearizable)", () =>
    genericTest({
      clients: 7,
      servers: 7,
      unreliable: true,
      crash: true,
      partitions: true,
      randomKeys: true,
    }));
});
