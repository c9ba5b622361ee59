// part2-replication for the playground: its own simulated cluster and trace sentences, imported by name.

import { SimCluster } from "part2-replication/sim/cluster";
import { describe } from "part2-replication/trace";
import type { PartModule } from "../engine/types.ts";

export const part: PartModule = {
  name: "part2-replication",
  createCluster: (n, seed) => new SimCluster(n, { seed }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
};
