// A part's bundle hands its pieces to makeRuntime (the build writes that call): the part's code,
// its mutants, the switch that puts one in place, and its test files, loaded here into the
// catalog of scenarios.

import { partInfo } from "../parts.ts";
import { loadCatalog, type TestFiles } from "./scenarios.ts";
import type { MutantInfo, Runtime } from "./session.ts";
import type { PartModule } from "./types.ts";

export async function makeRuntime(input: {
  part: PartModule;
  mutants: MutantInfo[];
  selectMutant: (name: string | null) => void;
  tests: TestFiles;
}): Promise<Runtime> {
  return {
    info: partInfo(input.part.name),
    part: input.part,
    mutants: input.mutants,
    selectMutant: input.selectMutant,
    catalog: await loadCatalog(input.tests),
  };
}
