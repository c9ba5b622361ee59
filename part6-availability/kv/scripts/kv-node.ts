// `pnpm kv:node`: one node of the key/value store (src/real/node.ts) in this process, until
// Ctrl-C (SIGINT), SIGTERM or SIGHUP stops it cleanly (a leader hands its leadership over first). The options and their defaults are in
// `usage` below; `pnpm kv:cluster` starts several of these, each in a process of its own.

import path from "node:path";
import { parseArgs } from "node:util";
import { defaultRaftConfig } from "part6-availability";
import { READ_MODES, type ReadMode } from "../src/kv/service.ts";
import {
  formatAddress,
  MAX_NODE_ID,
  parseAddress,
  parseClusterMap,
} from "../src/real/addresses.ts";
import { freshSeed } from "../src/real/clock.ts";
import {
  DEFAULT_CLUSTER,
  DEFAULT_DATA,
  DEFAULT_TRACES,
  handleSignals,
  runCommand,
  UsageError,
  userPath,
  wholeNumber,
} from "../src/real/command-line.ts";
import { KvNode, type NodeConfig, openDiskStorage } from "../src/real/node.ts";
import { clockTime, newRunId, runIdProblem } from "../src/real/trace-file.ts";

const usage = `usage: pnpm kv:node --id <n> [options]

Runs node <n> of a key/value cluster in this process, until Ctrl-C. A leader told to stop
(Ctrl-C, SIGTERM) hands its leadership to another node first (thesis §3.10).

  --id <n>                 this node's id, 0..${MAX_NODE_ID} (required)
  --cluster <list>         every node, this one included: id=host:port,...
                           (default ${DEFAULT_CLUSTER}, what pnpm kv:cluster starts)
  --listen <host:port>     where to listen (default: this node's address in --cluster;
                           127.0.0.1 unless told otherwise)
  --data <folder>          the data folder: Raft's log, term, vote and snapshot (DiskStorage)
                           (default part6-availability/kv/out/data/n<id>)
  --trace-dir <folder>     the folder of runs: the trace goes into <folder>/<run>/, one file per
                           start, n<id>-i<start>.jsonl (default part6-availability/kv/out/traces)
  --run <id>               the run this node belongs to; give every node of one run the same
                           (default: a new one, <date>-<time>-<pid>)
  --no-trace               write no trace
  --initial-cluster-state <new|existing>
                           existing (the default): the cluster exists, and an empty data folder
                           means this node lost its data: it refuses to start. new: the first
                           start of a new cluster, on empty data folders
  --snapshot-entries <n>   take a snapshot once n entries were applied since the last (0: never
                           by count; default ${defaultRaftConfig.snapshotAfterEntries})
  --snapshot-bytes <n>     ... or once the commands applied since come to n bytes (0: never by
                           size; default ${defaultRaftConfig.snapshotAfterBytes})
  --seed <n>               seed of the random election timeouts (default: from the OS; logged)
  --election-timeout <a-b> election timeouts drawn from a..b ms (default 500-1000)
  --heartbeat <ms>         the leader's heartbeat interval (default 100)
  --rpc-timeout <ms>       a Raft RPC with no reply by then has failed (default 500)
  --commit-timeout <ms>    a client's request not applied by then is answered 504 (default 2000)
  --reads <mode>           how a get is served (thesis §6.4): readindex (the default: the leader
                           confirms with a heartbeat round that it still leads; no log entry),
                           lease (at once while the leader's lease holds, §6.4.1: safe only while
                           no clock runs more than ${defaultRaftConfig.clockDriftBound * 100}% faster than the leader's), or log
                           (an entry in the log, as part 5)
  --follower-reads         as a follower, serve a get too (not with --reads log): ask the leader
                           for its read index, apply through it, read (thesis §6.4)
  --http-headers-timeout <ms>, --http-request-timeout <ms>
                           a request whose headers, or whole, take longer is answered 408 and
                           its connection closed (default 5000, 10000)
  --test-faults            serve /admin/faults, which drops Raft RPCs to and from given peers
  --stdin-lifeline         stop when standard input closes (for a supervisor: its death closes it)
  --verbose, -v            log every event (messages included), not only changes of role and term
  --help, -h               this text

Paths are relative to the folder pnpm was started in.`;

const options = {
  id: { type: "string" },
  cluster: { type: "string", default: DEFAULT_CLUSTER },
  listen: { type: "string" },
  data: { type: "string" },
  "trace-dir": { type: "string", default: DEFAULT_TRACES },
  run: { type: "string" },
  "no-trace": { type: "boolean", default: false },
  "initial-cluster-state": { type: "string", default: "existing" },
  "snapshot-entries": { type: "string", default: String(defaultRaftConfig.snapshotAfterEntries) },
  "snapshot-bytes": { type: "string", default: String(defaultRaftConfig.snapshotAfterBytes) },
  seed: { type: "string" },
  "election-timeout": { type: "string", default: "500-1000" },
  heartbeat: { type: "string", default: "100" },
  "rpc-timeout": { type: "string", default: "500" },
  "commit-timeout": { type: "string", default: "2000" },
  reads: { type: "string", default: "readindex" },
  "follower-reads": { type: "boolean", default: false },
  "http-headers-timeout": { type: "string", default: "5000" },
  "http-request-timeout": { type: "string", default: "10000" },
  "test-faults": { type: "boolean", default: false },
  "stdin-lifeline": { type: "boolean", default: false },
  verbose: { type: "boolean", short: "v", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];
type Settings = Omit<NodeConfig, "log" | "onHalt">;

/** A duration in ms on the command line: from 1 ms to an hour. */
const ms = (values: Values, flag: keyof Values & string) =>
  wholeNumber(values[flag] as string, `--${flag}`, 1, 3_600_000);

function nodeConfig(values: Values): Settings {
  if (values.id === undefined) throw new UsageError("--id is required");
  const id = wholeNumber(values.id, "--id", 0, MAX_NODE_ID);
  const cluster = parseClusterMap(values.cluster);
  if (typeof cluster === "string") throw new UsageError(`--cluster: ${cluster}`);
  const own = cluster.get(id);
  if (own === undefined) throw new UsageError(`--cluster has no node ${id}: ${values.cluster}`);
  const listen = values.listen === undefined ? own : parseAddress(values.listen);
  if (typeof listen === "string") throw new UsageError(`--listen: ${listen}`);
  const run = values.run ?? newRunId();
  const badRun = runIdProblem(run);
  if (badRun !== undefined) throw new UsageError(`--run: ${badRun}`);
  return {
    id,
    cluster,
    listen,
    dataDir: userPath(values.data ?? path.join(DEFAULT_DATA, `n${id}`)),
    run,
    traceDir: values["no-trace"] ? undefined : userPath(values["trace-dir"]),
    seed:
      values.seed === undefined ? freshSeed() : wholeNumber(values.seed, "--seed", 0, 2 ** 32 - 1),
    raft: {
      ...electionTimeouts(values["election-timeout"]),
      heartbeatIntervalMs: ms(values, "heartbeat"),
      snapshotAfterEntries: wholeNumber(values["snapshot-entries"], "--snapshot-entries", 0, 1e9),
      snapshotAfterBytes: wholeNumber(values["snapshot-bytes"], "--snapshot-bytes", 0, 2 ** 40),
    },
    clusterState: clusterState(values["initial-cluster-state"]),
    rpcTimeoutMs: ms(values, "rpc-timeout"),
    commitTimeoutMs: ms(values, "commit-timeout"),
    reads: readMode(values.reads),
    followerReads: values["follower-reads"],
    http: {
      headersTimeoutMs: ms(values, "http-headers-timeout"),
      requestTimeoutMs: ms(values, "http-request-timeout"),
    },
    testFaults: values["test-faults"],
    verbose: values.verbose,
    openStorage: openDiskStorage,
  };
}

function readMode(text: string): ReadMode {
  const mode = READ_MODES.find((m) => m === text);
  if (mode !== undefined) return mode;
  throw new UsageError(`--reads must be readindex, lease or log, got "${text}"`);
}

function clusterState(text: string): "new" | "existing" {
  if (text === "new" || text === "existing") return text;
  throw new UsageError(`--initial-cluster-state must be new or existing, got "${text}"`);
}

function electionTimeouts(text: string) {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const [min, max] = [Number(match?.[1]), Number(match?.[2])];
  if (match === null || min < 1 || min > max || max > 3_600_000) {
    throw new UsageError(
      `--election-timeout must be min-max in ms, 1 <= min <= max, got "${text}"`,
    );
  }
  return { electionTimeoutMinMs: min, electionTimeoutMaxMs: max };
}

/** The node until it stops; resolves with the exit status. */
async function runNode(settings: Settings, lifeline: boolean): Promise<number> {
  let stop: (reason: string, status: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    stop = (reason, status) => void node?.stop(reason).then(() => resolve(status));
  });
  // The log is best effort: once whoever reads it is gone (EPIPE), nothing more is written to it,
  // and the node stops as a command whose output was closed does (its trace file is complete).
  let logging = true;
  outputClosed = () => {
    logging = false;
    stop("its output was closed", 0);
  };
  const log = (line: string) => logging && process.stdout.write(`${line}\n`);
  let node: KvNode | undefined;
  try {
    node = await KvNode.start({ ...settings, log, onHalt: (why) => stop(`halted: ${why}`, 1) });
  } catch (error) {
    console.error(`n${settings.id} could not start: ${(error as Error).message}`);
    return 1;
  }
  const trace = node.traceFile === undefined ? "" : `, trace ${node.traceFile}`;
  log(
    `${clockTime(new Date())} n${settings.id} listens on http://${formatAddress(node.address)} (seed ${settings.seed}, start ${node.incarnation}, run ${settings.run}, data ${settings.dataDir}${trace})`,
  );
  // §3.10: a leader told to stop hands its leadership over first (at most an election timeout).
  const started = node;
  const handOver = async (): Promise<void> => {
    const outcome = await started.handOver();
    const at = clockTime(new Date());
    if (outcome.transferred) {
      log(`${at} n${settings.id} handed its leadership to n${outcome.to} before stopping`);
    } else if (outcome.notLeader !== true) {
      log(`${at} n${settings.id} stops leading without a successor: ${outcome.reason}`);
    }
  };
  handleSignals((signal) => {
    void handOver()
      .catch((error: unknown) => log(`n${settings.id} could not hand over: ${String(error)}`))
      .finally(() => stop(signal, 0));
  });
  if (lifeline) {
    process.stdin.once("close", () => stop("standard input closed: its supervisor is gone", 0));
    process.stdin.resume();
  }
  const status = await stopped;
  process.stdin.destroy();
  return status;
}

let outputClosed: () => void = () => process.exit(0);

await runCommand({ name: "pnpm kv:node", onOutputClosed: () => outputClosed() }, async () => {
  const args = process.argv.slice(2).filter((arg) => arg !== "--");
  const { values } = parseArgs({ args, options, allowPositionals: false });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  return runNode(nodeConfig(values), values["stdin-lifeline"]);
});
// Everything is closed by now; should a handle linger anyway, the process still ends.
setTimeout(() => process.exit(), 2000).unref();
