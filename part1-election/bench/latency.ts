// Message delay models for the Figure 16 experiment. The paper gives only the broadcast time
// (about 15 ms), not how delays are spread, and the spread matters: a split vote is avoided only
// when one candidate's RequestVote reaches the others before their own timers fire, so what
// counts is the shortest delays compared with the timeout randomness, not the mean.

import { SeededRandom } from "../src/random.ts";
import { type LatencyModel, uniformLatency } from "../src/sim/network.ts";

/** Mean one-way delay that makes the mean round trip 15 ms. */
const MEAN_ONE_WAY_MS = 7.5;
const FLOOR_MS = 1;

/**
 * 1 ms plus an exponential delay, rounded to whole ms (the clock's unit): mostly fast messages
 * with a long tail, as on a real network. Rounding keeps the mean at 7.5 ms.
 */
function shiftedExponential(): LatencyModel {
  const tailMean = MEAN_ONE_WAY_MS - FLOOR_MS;
  const draw = (random: { next(): number }) =>
    FLOOR_MS + Math.round(-Math.log(1 - random.next()) * tailMean);
  return Object.assign(draw, {
    description: `${FLOOR_MS} ms + exponential (mean ${tailMean} ms), whole ms`,
  });
}

export const LATENCY_MODELS: Record<string, LatencyModel> = {
  exp: shiftedExponential(),
  // Same mean, no short delays: at least 5 ms one way, so candidates whose timers fire within
  // 5 ms of each other always split the vote.
  uniform: uniformLatency(5, 10),
};

export const DEFAULT_LATENCY = "exp";

/** Mean one-way delay and mean round trip of a model, measured on a fixed sample. */
export function measureLatency(model: LatencyModel): { oneWay: number; roundTrip: number } {
  const random = new SeededRandom(1);
  const draws = 200_000;
  let total = 0;
  for (let i = 0; i < draws; i++) total += model(random);
  const oneWay = total / draws;
  return { oneWay, roundTrip: 2 * oneWay };
}
