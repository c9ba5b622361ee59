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

/**
 * Part 6 (seed 1: n2 leads term 1): a command, a read on the follower n0 (it asks n2 for the read
 * index), then the reader hands the leadership to n0 (TimeoutNow: n0 leads term 2), a second
 * command, a read on n2, now a follower; n1 is cut off for a second and comes back in its own
 * term (PreVote), and the leader n0 stays.
 */
export const SCRIPT6 =
  "part=part6-availability&n=3&seed=1&a=40.submit.leader.x,45.read.0,50.transfer.0,70.submit.leader.y,90.read.2,100.isolate.1,200.reconnect.1&at=260";

/** n1 cut off for about 1.8 s and back: with part 6's options (`off` empty), or without PreVote. */
export const rejoin = (off: string) =>
  `part=part6-availability&n=3&seed=1${off === "" ? "" : `&off=${off}`}&a=40.submit.leader.x,100.isolate.1,300.reconnect.1&at=400`;
