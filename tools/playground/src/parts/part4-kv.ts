// part4-kv for the playground: its simulated key/value cluster (part 3's cluster with a store on
// every node and clients of its own) and its trace sentences, imported by name. Test clusters
// are watched through part 3's SimCluster, which KvSimCluster extends.

import { SimCluster } from "part3-persistence/sim/cluster";
import { KvSimCluster } from "part4-kv/sim/kv-cluster";
import { describe } from "part4-kv/trace";
import type { PartModule } from "../engine/types.ts";

export const part: PartModule = {
  name: "part4-kv",
  createCluster: (n, seed) => new KvSimCluster(n, { seed }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
};
