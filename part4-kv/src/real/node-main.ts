// `pnpm kv:node`: one node of the store in this process, until Ctrl-C (SIGINT), SIGTERM or SIGHUP
// stops it cleanly. The options and their defaults are in `usage` below.

import path from "node:path";
import { parseArgs } from "node:util";
import { formatAddress, parseAddress, parseClusterMap } from "./addresses.ts";
import { freshSeed } from "./clock.ts";
import { KvNode, type NodeConfig, openDiskStorage } from "./node.ts";
import { clockTime } from "./node-trace.ts";

const partDir = path.resolve(import.meta.dirname, "../..");
export const DEFAULT_CLUSTER = "0=127.0.0.1:7000,1=127.0.0.1:7001,2=127.0.0.1:7002";
export const DEFAULT_DATA = path.join(partDir, "out", "data");
export const DEFAULT_TRACES = path.join(partDir, "out", "traces");

const usage = `usage: pnpm kv:node --id <n> [options]

Runs node <n> of a key/value cluster in this process, until Ctrl-C.

  --id <n>                 this node's id, 0..89 (required)
  --cluster <list>         every node, this one included: id=host:port,...
                           (default ${DEFAULT_CLUSTER}, what pnpm kv:cluster starts)
  --listen <host:port>     where to listen (default: this node's address in --cluster;
                           127.0.0.1 unless told otherwise)
  --data <folder>          the data folder: Raft's log, term and vote (part 3's DiskStorage)
                           (default part4-kv/out/data/n<id>)
  --trace-dir <folder>     where the trace goes, one file per start: n<id>-i<start>.jsonl
                           (default part4-kv/out/traces)
  --no-trace               write no trace
  --seed <n>               seed of the random election timeouts (default: from the OS; logged)
  --election-timeout <a-b> election timeouts drawn from a..b ms (default 500-1000)
  --heartbeat <ms>         the leader's heartbeat interval (default 100)
  --rpc-timeout <ms>       a Raft RPC with no reply by then has failed (default 500)
  --commit-timeout <ms>    a client's request not applied by then is answered 504 (default 2000)
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
  "no-trace": { type: "boolean", default: false },
  seed: { type: "string" },
  "election-timeout": { type: "string", default: "500-1000" },
  heartbeat: { type: "string", default: "100" },
  "rpc-timeout": { type: "string", default: "500" },
  "commit-timeout": { type: "string", default: "2000" },
  "http-headers-timeout": { type: "string", default: "5000" },
  "http-request-timeout": { type: "string", default: "10000" },
  "test-faults": { type: "boolean", default: false },
  "stdin-lifeline": { type: "boolean", default: false },
  verbose: { type: "boolean", short: "v", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** A usage error: the message and the usage text, exit status 2. */
export class UsageError extends Error {}

/** Paths on the command line are the user's: relative to where pnpm was started, not to its cwd. */
export function userPath(given: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), given);
}

export function whole(text: string, what: string, min = 0): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${what} must be a whole number from ${min}, got "${text}"`);
  }
  return n;
}

function nodeConfig(argv: string[]): Omit<NodeConfig, "log" | "onHalt"> | "help" {
  const { values } = parseArgs({ args: argv, options, allowPositionals: false });
  if (values.help) return "help";
  if (values.id === undefined) throw new UsageError("--id is required");
  const id = whole(values.id, "--id");
  const cluster = parseClusterMap(values.cluster);
  if (typeof cluster === "string") throw new UsageError(`--cluster: ${cluster}`);
  const own = cluster.get(id);
  if (own === undefined) throw new UsageError(`--cluster has no node ${id}: ${values.cluster}`);
  const listen = values.listen === undefined ? own : parseAddress(values.listen);
  if (typeof listen === "string") throw new UsageError(`--listen: ${listen}`);
  const timeouts = /^(\d+)-(\d+)$/.exec(values["election-timeout"]);
  if (timeouts === null || Number(timeouts[1]) > Number(timeouts[2])) {
    throw new UsageError(
      `--election-timeout must be min-max in ms, got "${values["election-timeout"]}"`,
    );
  }
  return {
    id,
    cluster,
    listen,
    dataDir: userPath(values.data ?? path.join(DEFAULT_DATA, `n${id}`)),
    traceDir: values["no-trace"] ? undefined : userPath(values["trace-dir"]),
    seed: values.seed === undefined ? freshSeed() : whole(values.seed, "--seed"),
    raft: {
      electionTimeoutMinMs: Number(timeouts[1]),
      electionTimeoutMaxMs: Number(timeouts[2]),
      heartbeatIntervalMs: whole(values.heartbeat, "--heartbeat", 1),
    },
    rpcTimeoutMs: whole(values["rpc-timeout"], "--rpc-timeout", 1),
    commitTimeoutMs: whole(values["commit-timeout"], "--commit-timeout", 1),
    http: {
      headersTimeoutMs: whole(values["http-headers-timeout"], "--http-headers-timeout", 1),
      requestTimeoutMs: whole(values["http-request-timeout"], "--http-request-timeout", 1),
    },
    testFaults: values["test-faults"],
    verbose: values.verbose,
    openStorage: openDiskStorage,
  };
}

/** Runs a node from the command line; resolves with the process's exit status once it stopped. */
export async function nodeMain(argv: string[]): Promise<number> {
  let config: ReturnType<typeof nodeConfig>;
  try {
    config = nodeConfig(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (config === "help") {
    console.log(usage);
    return 0;
  }
  return runNode(config, argv.includes("--stdin-lifeline"));
}

async function runNode(
  config: Omit<NodeConfig, "log" | "onHalt">,
  lifeline: boolean,
): Promise<number> {
  // The log is best effort: when whoever reads it is gone (EPIPE), the node goes on without it,
  // its trace file still complete. Unhandled, that error would kill the node mid-shutdown.
  let logging = true;
  process.stdout.on("error", () => {
    logging = false;
  });
  const log = (line: string) => logging && process.stdout.write(`${line}\n`);
  let stop: (reason: string, status: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    stop = (reason, status) => void node?.stop(reason).then(() => resolve(status));
  });
  let node: KvNode | undefined;
  try {
    node = await KvNode.start({ ...config, log, onHalt: (reason) => stop(`halted: ${reason}`, 1) });
  } catch (error) {
    console.error(`n${config.id} could not start: ${(error as Error).message}`);
    return 1;
  }
  log(
    `${clockTime(new Date())} n${config.id} listens on http://${formatAddress(node.address)} (seed ${config.seed}, start ${node.incarnation}, data ${config.dataDir}${node.traceFile === undefined ? "" : `, trace ${node.traceFile}`})`,
  );
  handleSignals((signal) => stop(signal, 0));
  if (lifeline) {
    process.stdin.once("close", () => stop("standard input closed: its supervisor is gone", 0));
    process.stdin.resume();
  }
  const status = await stopped;
  process.stdin.destroy();
  return status;
}

/**
 * Calls `stop` on the first SIGINT, SIGTERM or SIGHUP. Ctrl-C reaches every process of the
 * terminal's foreground group, so a wrapper (pnpm) may pass the same signal on again a moment
 * later: a repeat within a second is that echo; a later one means "now", and exits at once.
 */
export function handleSignals(stop: (signal: string) => void): void {
  let first: number | undefined;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (first === undefined) {
        first = Date.now();
        stop(signal);
      } else if (Date.now() - first > 1000) {
        process.exit(130);
      }
    });
  }
}
