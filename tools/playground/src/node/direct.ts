// Node runs a free session straight from the parts' source (tsx imports them by package name,
// with Node's own setImmediate behind the gate and its own Buffer): no bundle, no shim but the
// gate. The hash test compares this run with the browser's, so the two share only the source.

import { gateGlobalSetImmediate } from "../engine/gate.ts";
import { type Runtime, Session } from "../engine/session.ts";
import type { SessionSpec } from "../engine/spec.ts";
import type { PartModule } from "../engine/types.ts";
import { partInfo } from "../parts.ts";

/** Plays a free session's link up to its `at` gate (or `forMs` of virtual time without one). */
export async function playDirect(spec: SessionSpec, forMs: number): Promise<Session> {
  if (spec.scenario !== null || spec.mutant !== null) {
    throw new Error("a scenario or a mutant needs the part's bundle: leave out --direct");
  }
  const { part } = (await import(`../parts/${spec.part}.ts`)) as { part: PartModule };
  const runtime: Runtime = {
    info: partInfo(spec.part),
    part,
    mutants: [],
    selectMutant: () => {},
    catalog: null,
  };
  const restore = gateGlobalSetImmediate();
  try {
    const session = new Session(runtime, spec);
    if (spec.at === null) session.holdAtTime = forMs;
    session.start();
    await session.settledNow();
    session.close();
    return session;
  } finally {
    restore();
  }
}
