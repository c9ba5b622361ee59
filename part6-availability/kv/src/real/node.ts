// One node of the key/value store as a real process: part 6's RaftNode with the real clock, a
// random seeded from the operating system, Raft's RPCs over HTTP (raft-http.ts), on-disk storage
// in its data folder, snapshots included; the KvService on it; one HTTP server for its clients
// and its peers (api.ts); its trace in a file of its run's folder (trace-file.ts). Started by
// `pnpm kv:node` (scripts/kv-node.ts), which `pnpm kv:cluster`, the tests and the benchmark run
// in a process of its own (spawn.ts).

import type { Server } from "node:http";
import path from "node:path";
import { type Environment, type RaftConfig, RaftNode } from "part6-availability";
import { DiskStorage } from "part6-availability/disk-storage";
import { type FileLayer, fdatasyncInBackground, nodeFiles } from "part6-availability/files";
import { SeededRandom } from "part6-availability/random";
import type { PersistentState, Storage } from "part6-availability/storage";
import type { NodeKinds } from "part6-availability/trace";
import { KvService, type ReadMode } from "../kv/service.ts";
import { type Address, type ClusterMap, formatAddress } from "./addresses.ts";
import { apiHandler } from "./api.ts";
import { RealClock } from "./clock.ts";
import { Faults } from "./faults.ts";
import { hardenedServer, type ServerLimits } from "./http.ts";
import {
  HttpPeers,
  MAX_ENTRIES_PER_APPEND,
  RaftStreams,
  SNAPSHOT_CHUNK_SIZE,
} from "./raft-http.ts";
import {
  messageIds,
  type NodeEventKinds,
  type NodeTracer,
  nextIncarnation,
  nodeTracer,
  processStart,
  runFolder,
  TraceFile,
} from "./trace-file.ts";
import { type TransferOutcome, transferLeadership } from "./transfer.ts";

/** What a node's storage has done since the process started: shown in /status, read by the benchmark. */
export interface StorageCounts {
  /** fdatasync calls: each one a wait for the disk. */
  syncs: number;
  bytesWritten: number;
}

/** A storage opened on a data folder, and how to let go of it. */
export interface OpenedStorage {
  storage: Storage;
  /** What opening repaired (a torn tail, a stale lock), to log. */
  warnings: readonly string[];
  counts: StorageCounts;
  close(): void;
}

/**
 * Part 6's DiskStorage: one append-only, checksummed, fdatasync'ed log file in the data folder,
 * and the snapshot it builds on in a file of its own.
 */
export function openDiskStorage(folder: string): OpenedStorage {
  const counts: StorageCounts = { syncs: 0, bytesWritten: 0 };
  // The real file layer, counting: batching shows as fewer syncs than committed entries.
  const files: FileLayer = {
    ...nodeFiles,
    write(fd, data, position) {
      const written = nodeFiles.write(fd, data, position);
      counts.bytesWritten += written;
      return written;
    },
    fdatasync(fd) {
      nodeFiles.fdatasync(fd);
      counts.syncs++;
    },
    // §10.2.1: the leader's own write syncs off the event loop while its AppendEntries travel.
    async fdatasyncInBackground(fd) {
      await fdatasyncInBackground(fd);
      counts.syncs++;
    },
  };
  const storage = new DiskStorage(folder, { files });
  return { storage, warnings: storage.warnings, counts, close: () => storage.close() };
}

export interface NodeConfig {
  id: number;
  cluster: ClusterMap;
  /** Where to listen; its port may be 0 (any free one) in tests. */
  listen: Address;
  dataDir: string;
  /** The run this start belongs to (trace-file.ts): it names the run's folder. */
  run: string;
  /** The folder of runs: the trace file goes into <traceDir>/<run>/; none when undefined. */
  traceDir: string | undefined;
  seed: number;
  raft: Pick<RaftConfig, "electionTimeoutMinMs" | "electionTimeoutMaxMs" | "heartbeatIntervalMs"> &
    Partial<Pick<RaftConfig, "snapshotAfterEntries" | "snapshotAfterBytes">>;
  /**
   * "new": this start may be the first of a new cluster, on an empty data folder. "existing"
   * (the safe default): the cluster exists, and an empty data folder means this node lost what it
   * voted and acknowledged; it refuses to start (etcd's --initial-cluster-state).
   */
  clusterState: "new" | "existing";
  rpcTimeoutMs: number;
  /** How long a client's request may wait for its entry to be applied (KvService). */
  commitTimeoutMs: number;
  /** How a get is served (KvService): ReadIndex by default, the leader's lease, or the log. */
  reads?: ReadMode;
  /** Whether a follower serves gets too, at its leader's read index (KvService, §6.4). */
  followerReads?: boolean;
  http: ServerLimits;
  testFaults: boolean;
  verbose: boolean;
  log: (line: string) => void;
  openStorage: (folder: string) => OpenedStorage;
  /** Called once if the node stops by itself (its storage failed). */
  onHalt: (reason: string) => void;
}

export class KvNode {
  readonly node: RaftNode;
  readonly service: KvService;
  readonly incarnation: number;
  readonly traceFile: string | undefined;
  private readonly parts: Parts;
  private stopping: Promise<void> | undefined;

  private constructor(node: RaftNode, service: KvService, incarnation: number, parts: Parts) {
    this.node = node;
    this.service = service;
    this.incarnation = incarnation;
    this.parts = parts;
    this.traceFile = parts.file?.file;
  }

  /** Opens the data folder, starts listening, then starts the consensus module. */
  static async start(config: NodeConfig): Promise<KvNode> {
    const opened = config.openStorage(config.dataDir);
    let file: TraceFile | undefined;
    try {
      const durable = opened.storage.load();
      const refusal = lostDataProblem(config, durable);
      if (refusal !== undefined) throw new Error(refusal);
      // The module loads what was just read, instead of reading the folder again.
      const { storage } = opened;
      const loaded = {
        ...opened,
        storage: {
          load: () => durable,
          save: storage.save.bind(storage),
          // §10.2.1: a leader's new entries are synced while its AppendEntries travel.
          ...(storage.saveInBackground === undefined
            ? {}
            : { saveInBackground: storage.saveInBackground.bind(storage) }),
        },
      };
      const incarnation = nextIncarnation(config.dataDir);
      const name = `n${config.id}-i${incarnation}.jsonl`;
      file =
        config.traceDir === undefined
          ? undefined
          : new TraceFile(path.join(runFolder(config.traceDir, config.run), name), {
              append: false,
            });
      const { node, service, parts } = assemble(config, loaded, file, incarnation);
      await listen(parts.server, config.listen);
      node.start();
      return new KvNode(node, service, incarnation, parts);
    } catch (error) {
      file?.close();
      opened.close();
      throw error;
    }
  }

  /** Where the server listens (the port it got, if it asked for 0). */
  get address(): Address {
    const bound = this.parts.server.address();
    if (bound === null || typeof bound === "string") throw new Error("the server is not listening");
    return { host: bound.address, port: bound.port };
  }

  /**
   * §3.10: if this node leads, hands its leadership to the follower furthest along and waits (at
   * most an election timeout) until it no longer leads: before a planned stop, so that the cluster
   * has a new leader at once instead of after an election timeout.
   */
  handOver(): Promise<TransferOutcome> {
    return transferLeadership(this.node, undefined, this.parts.transferWaitMs);
  }

  /**
   * Stops cleanly: the consensus module first (no more saves or messages), then every request
   * still waiting is answered (it may still take effect: the cluster goes on without this node),
   * connections close, the data folder is released, the trace ends with `process.stop`.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutDown(reason);
    return this.stopping;
  }

  private async shutDown(reason: string): Promise<void> {
    const { server, peers, streams, storage, trace, file } = this.parts;
    if (this.node.getState().role !== "dead") this.node.stop(); // a halted node stopped itself
    this.service.close();
    peers.close();
    streams.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Answers already written go out; a connection still busy after a second is cut.
    const cut = setTimeout(() => server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(cut);
    storage.close();
    trace("process.stop", { reason });
    file?.close();
  }
}

interface Parts {
  /** How long a leadership transfer may take: an election timeout (transfer.ts). */
  transferWaitMs: number;
  server: Server;
  peers: HttpPeers;
  streams: RaftStreams;
  storage: OpenedStorage;
  trace: NodeTracer;
  file: TraceFile | undefined;
}

/** Builds the node's pieces around the storage; nothing runs until `listen` and `start`. */
function assemble(
  config: NodeConfig,
  opened: OpenedStorage,
  file: TraceFile | undefined,
  incarnation: number,
): { node: RaftNode; service: KvService; parts: Parts } {
  const { id, cluster } = config;
  const clock = new RealClock({ keepAlive: false });
  const nextMsg = messageIds(id, incarnation);
  let node: RaftNode | undefined;
  /** What the leader found followers had lost (data.lost), for /status. */
  const lost: NodeKinds["data.lost"][] = [];
  const trace = tracerFor(config, file, () => node, lost);
  const peerIds = [...cluster.keys()].filter((peer) => peer !== id);
  const faults = config.testFaults ? new Faults({ self: id, peers: peerIds, trace }) : undefined;
  const raftSide = { self: id, nextMsg, trace, faults };
  const peers = new HttpPeers({ ...raftSide, cluster, rpcTimeoutMs: config.rpcTimeoutMs });
  const random = new SeededRandom(config.seed);
  // The module emits node kinds only, each with its own details: a subset of what `trace` takes.
  const traceNode = trace as Environment["trace"];
  const env = { clock, random, transport: peers, storage: opened.storage, trace: traceNode };
  node = new RaftNode(id, peerIds, env, {
    ...config.raft,
    // §8: a new leader's no-op commits what earlier terms left, without waiting for a client.
    noopOnElection: true,
    leaseReads: config.reads === "lease",
    maxEntriesPerAppend: MAX_ENTRIES_PER_APPEND,
    snapshotChunkSize: SNAPSHOT_CHUNK_SIZE,
  });
  const service = new KvService(node, clock, {
    requestTimeoutMs: config.commitTimeoutMs,
    ...(config.reads === undefined ? {} : { reads: config.reads }),
    ...(config.followerReads === undefined ? {} : { followerReads: config.followerReads }),
  });
  const info = { pid: process.pid, seed: config.seed, incarnation, dataDir: config.dataDir };
  const details = () => ({
    ...info,
    run: config.run,
    storage: { ...opened.counts },
    ...(lost.length === 0 ? {} : { lostData: lost }),
  });
  const raft = { ...raftSide, peers: peerIds, node };
  const transferWaitMs = config.raft.electionTimeoutMaxMs;
  const api = { id, cluster, node, service, raft, faults, details, transferWaitMs };
  const server = hardenedServer(config.http, apiHandler(api));
  // A peer's stream (raft-stream.ts) arrives as a request to switch protocols.
  const streams = new RaftStreams(raft);
  server.on("upgrade", (req, socket, head) => streams.accept(req, socket, head));
  trace("process.start", startDetails(config, info, opened, file));
  const parts = { server, peers, streams, storage: opened, trace, file, transferWaitMs };
  return { node, service, parts };
}

/** The first line of the node's trace: who it is, where, on what data, with what settings. */
function startDetails(
  config: NodeConfig,
  info: Record<string, unknown>,
  opened: OpenedStorage,
  file: TraceFile | undefined,
): ReturnType<typeof processStart> {
  return processStart("node", config.run, {
    ...info,
    listen: formatAddress(config.listen),
    trace: file?.file,
    warnings: opened.warnings,
    config: {
      raft: config.raft,
      rpcTimeoutMs: config.rpcTimeoutMs,
      commitTimeoutMs: config.commitTimeoutMs,
      clusterState: config.clusterState,
    },
  });
}

/**
 * The node's tracer; a `halt` (its storage failed) also tells the process, once, and a
 * `data.lost` (a follower forgot what it acknowledged) is kept in `lost`, for /status.
 */
function tracerFor(
  config: NodeConfig,
  file: TraceFile | undefined,
  node: () => RaftNode | undefined,
  lost: NodeKinds["data.lost"][],
): NodeTracer {
  const state = () => {
    const s = node()?.getState();
    return { term: s?.currentTerm ?? 0, role: s?.role ?? "follower" };
  };
  const traceNode = nodeTracer({
    id: config.id,
    state,
    file,
    log: config.log,
    verbose: config.verbose,
  });
  let halted = false;
  return (kind, details) => {
    traceNode(kind, details);
    if (kind === "data.lost") lost.push(details as NodeKinds["data.lost"]);
    if (kind === "halt" && !halted) {
      halted = true;
      config.onHalt((details as NodeEventKinds["halt"]).reason);
    }
  };
}

/**
 * Why this node must not start on what its folder holds, if it must not: an empty folder (no
 * term, no log, no snapshot) in a cluster that exists. Raft assumes a server never forgets a vote
 * or an entry it acknowledged; one that did could vote twice in a term, or let a majority lose a
 * committed entry. Rejoining with lost data is a membership change, not a restart.
 */
function lostDataProblem(config: NodeConfig, durable: PersistentState): string | undefined {
  const empty = durable.currentTerm === 0 && durable.log.length === 0 && !durable.snapshot;
  if (!empty || config.clusterState === "new") return undefined;
  return [
    `its data folder ${config.dataDir} is empty, and the cluster already exists (--initial-cluster-state existing, the default).`,
    "If this node took part in the cluster before, it has lost the votes and entries it promised to keep, and must not simply rejoin:",
    "restore the folder from a backup, or replace the node as a new member. If this is the first start of a new cluster, start every node with --initial-cluster-state new.",
  ].join(" ");
}

function listen(server: Server, at: Address): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
