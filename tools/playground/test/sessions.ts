// Scripted sessions the tests play in Node and in Chromium (not a test file: both import it).

/** Part 3: a crash and a restart, a partition, a command, a timed-out node, a slow link, loss. */
export const SCRIPT =
  "part=part3-persistence&n=5&seed=3&a=40.crash.1,300.restart.1,310.partition.0-1_2-3-4,500.heal,520.submit.leader.x%3D1,600.timeout.2,700.slow.0.1.40,800.loss.20&at=1500";

/**
 * Part 5 (seed 1: n2 leads): n0 crashes, four commands commit, the reader has n2 take a snapshot
 * at gate 60, n0 restarts behind it at gate 80 and gets that snapshot by InstallSnapshot, in two
 * chunks of the playground's 128 characters; five more commands, and the policy (every 5 applied
 * entries) snapshots on every node. Then a slow link, loss and a partition, healed.
 */
export const SCRIPT5_UNTIL_RESTART =
  "part=part5-snapshots&n=3&seed=1&a=30.crash.0,40.submit.leader.a,41.submit.leader.b,42.submit.leader.c,43.submit.leader.d,60.snapshot.2,80.restart.0";
export const SCRIPT5 = `${SCRIPT5_UNTIL_RESTART},120.submit.leader.e,121.submit.leader.f,122.submit.leader.g,123.submit.leader.h,124.submit.leader.i,140.slow.2.0.30,150.loss.10,160.partition.0_1-2,200.heal&at=300`;
