// part3-persistence for the playground: its own simulated cluster and trace sentences, imported by name.

import { SimCluster } from "part3-persistence/sim/cluster";
import { describe } from "part3-persistence/trace";
import type { PartModule } from "../engine/types.ts";

export const part: PartModule = {
  name: "part3-persistence",
  createCluster: (n, seed) => new SimCluster(n, { seed }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
};
