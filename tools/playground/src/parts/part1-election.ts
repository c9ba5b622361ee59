// part1-election for the playground: its own simulated cluster and trace sentences, imported by name.

import { SimCluster } from "part1-election/sim/cluster";
import { describe } from "part1-election/trace";
import type { PartModule } from "../engine/types.ts";

export const part: PartModule = {
  name: "part1-election",
  createCluster: (n, seed) => new SimCluster(n, { seed }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
};
