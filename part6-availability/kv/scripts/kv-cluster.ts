// `pnpm kv:cluster`: a local cluster of real nodes in one terminal, and their supervisor. Each node
// is a process of its own (src/real/spawn.ts); its log lines come out here prefixed with its id,
// in its colour. While it runs, a command typed here (and Enter) stops, kills or starts a node
// again: a node killed from another terminal (kill -9) can be brought back on its data. Ctrl-C
// stops every node cleanly (SIGTERM, then SIGKILL for one that has not stopped within five
// seconds), restarted ones included; started again, the cluster comes back on the same data.
//
// Every process of one run writes its trace into a folder of the run's own, <traces>/<run>/: the
// nodes theirs (--run), the supervisor `cluster.jsonl`, where it records each node's process
// ending (`process.exit`: how, and whether it had asked for it) and each start after the first
// (`process.restart`), so that a timeline can draw a node dead from the moment it died.

import type { ChildProcess } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import chalk from "chalk";
import { READ_MODES } from "../src/kv/service.ts";
import { type ClusterMap, formatAddress, formatClusterMap } from "../src/real/addresses.ts";
import {
  DEFAULT_DATA,
  DEFAULT_TRACES,
  handleSignals,
  runCommand,
  UsageError,
  userPath,
  wholeNumber,
} from "../src/real/command-line.ts";
import { signalGroup, spawnNode, stopChild } from "../src/real/spawn.ts";
import { newRunId, processStart, runFolder, TraceFile } from "../src/real/trace-file.ts";
import type { RealKinds } from "../src/trace.ts";

const usage = `usage: pnpm kv:cluster [options]

Starts a cluster of real nodes on 127.0.0.1, one process each, logs here. While it runs, type a
command and Enter:

  stop <id>      stop node <id> cleanly (SIGTERM; a leader hands over first)
  kill <id>      kill it at once (SIGKILL), as a crash would
  start <id>     start it again, on its data (after a stop, a kill, or kill -9 from elsewhere)
  restart <id>   stop it, then start it again
  status         which nodes run, with their process ids

Ctrl-C stops every node, restarted ones included. A leader told to stop (stop <id>, restart
<id>, Ctrl-C) hands its leadership to another node first (thesis §3.10).

  --nodes <n>        how many (default 3), ids 0..n-1
  --base-port <p>    node i listens on port p+i (default 7000)
  --data <folder>    node i keeps its data in <folder>/n<i> (default part6-availability/kv/out/data)
  --trace-dir <dir>  each run's traces go into <dir>/<run>/ (default part6-availability/kv/out/traces)
  --fresh            delete the data and the traces first: a new, empty cluster
                     (without it, the cluster is new only if no node's data folder holds
                     anything; otherwise a node whose folder is empty refuses to start: it
                     lost its data, see pnpm kv:node --help, --initial-cluster-state)
  --reads <mode>     how the nodes serve a get: readindex (default), lease or log
                     (pnpm kv:node --help)
  --follower-reads   followers serve gets too, at their leader's read index (thesis §6.4)
  --test-faults      let the nodes serve /admin/faults (docs/running.md)
  --verbose, -v      every node logs every event, messages included
  --help, -h         this text`;

const options = {
  nodes: { type: "string", default: "3" },
  "base-port": { type: "string", default: "7000" },
  data: { type: "string", default: DEFAULT_DATA },
  "trace-dir": { type: "string", default: DEFAULT_TRACES },
  fresh: { type: "boolean", default: false },
  reads: { type: "string" },
  "follower-reads": { type: "boolean", default: false },
  "test-faults": { type: "boolean", default: false },
  verbose: { type: "boolean", short: "v", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

const colours = [chalk.cyan, chalk.magenta, chalk.yellow, chalk.green, chalk.blue, chalk.red];

interface Settings {
  cluster: ClusterMap;
  data: string;
  traces: string;
  run: string;
  /** Flags every node gets besides its id, cluster, data and traces. */
  flags: string[];
  fresh: boolean;
}

/** Whether no node's data folder holds anything: this is the first start of a new cluster. */
function newCluster(s: Settings): boolean {
  return [...s.cluster.keys()].every((id) => {
    try {
      return readdirSync(path.join(s.data, `n${id}`)).length === 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw error;
    }
  });
}

function settings(values: ReturnType<typeof parseArgs<{ options: typeof options }>>["values"]) {
  const count = wholeNumber(values.nodes, "--nodes", 1, 9);
  const basePort = wholeNumber(values["base-port"], "--base-port", 1, 65535);
  if (basePort + count - 1 > 65535) {
    throw new UsageError(`--base-port ${basePort}: ${count} nodes need ports up to 65535`);
  }
  const cluster: ClusterMap = new Map();
  for (let id = 0; id < count; id++) cluster.set(id, { host: "127.0.0.1", port: basePort + id });
  if (values.reads !== undefined && !READ_MODES.some((mode) => mode === values.reads)) {
    throw new UsageError(`--reads must be readindex, lease or log, got "${values.reads}"`);
  }
  const flags = [
    ...(values.reads === undefined ? [] : ["--reads", values.reads]),
    ...(values["follower-reads"] ? ["--follower-reads"] : []),
    ...(values["test-faults"] ? ["--test-faults"] : []),
    ...(values.verbose ? ["--verbose"] : []),
  ];
  return {
    cluster,
    data: userPath(values.data),
    traces: userPath(values["trace-dir"]),
    run: newRunId(),
    flags,
    fresh: values.fresh,
  } satisfies Settings;
}

/** The nodes' processes: started, watched, stopped and started again; each ending recorded. */
class Supervisor {
  private readonly s: Settings;
  private readonly trace: TraceFile;
  private readonly children = new Map<number, ChildProcess>();
  /** Processes this supervisor asked to stop (or killed): their ending is expected. */
  private readonly asked = new Set<number>();
  private readonly starts = new Map<number, number>();
  /** Nodes being restarted: stopped, to be started again at once. */
  private readonly restarting = new Set<number>();
  private stopping = false;
  /** The cluster is new (newCluster): each node's first start here says so, later ones do not. */
  private readonly isNew: boolean;
  /** Called when the last running node has ended by itself and no one can type a command. */
  onAllEnded: () => void = () => {};
  inputOpen = true;

  constructor(s: Settings, isNew: boolean) {
    this.s = s;
    this.isNew = isNew;
    this.trace = new TraceFile(path.join(this.runDir, "cluster.jsonl"), { append: false });
    const nodes = Object.fromEntries([...s.cluster].map(([id, a]) => [id, formatAddress(a)]));
    this.record(null, "process.start", processStart("supervisor", s.run, { nodes, data: s.data }));
  }

  get runDir(): string {
    return runFolder(this.s.traces, this.s.run);
  }

  /** Starts node `id` in a new process; its lines come out here, its ending is recorded. */
  start(id: number): void {
    if (this.stopping) return;
    const running = this.children.get(id);
    if (running !== undefined) {
      say(`n${id} is running (pid ${running.pid}): \`restart ${id}\` stops it and starts it again`);
      return;
    }
    const args = ["--id", String(id), "--cluster", formatClusterMap(this.s.cluster)];
    args.push("--data", path.join(this.s.data, `n${id}`), "--trace-dir", this.s.traces);
    const started = (this.starts.get(id) ?? 0) + 1;
    if (this.isNew && started === 1) args.push("--initial-cluster-state", "new");
    const child = spawnNode([...args, "--run", this.s.run, ...this.s.flags], "pipe");
    this.children.set(id, child);
    this.starts.set(id, started);
    if (started > 1) this.record(id, "process.restart", { pid: child.pid ?? 0 });
    const paint = colours[id % colours.length]!;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => say(paint(`n${id} │ ${line}`)));
    }
    child.once("exit", (code, signal) => this.ended(id, child, code, signal));
  }

  /** A node's process ended: recorded, said, and what can be done about it. */
  private ended(id: number, child: ChildProcess, code: number | null, signal: string | null): void {
    const pid = child.pid ?? 0;
    const expected = this.asked.delete(pid);
    if (this.children.get(id) === child) this.children.delete(id);
    this.record(id, "process.exit", { pid, code, signal, expected });
    const how = signal ?? `status ${code}`;
    const paint = colours[id % colours.length]!;
    if (this.stopping || this.restarting.has(id)) say(paint(`n${id} │ exited (${how})`));
    else say(paint(`n${id} │ exited (${how}). \`start ${id}\` (and Enter) starts it again.`));
    if (!this.stopping && !this.inputOpen && this.children.size === 0) this.onAllEnded();
  }

  /** Asks node `id` to stop (SIGTERM; SIGKILL after five seconds), or kills it at once. */
  async stop(id: number, how: "stop" | "kill"): Promise<void> {
    const child = this.children.get(id);
    if (child === undefined) {
      say(`n${id} is not running: \`start ${id}\` starts it`);
      return;
    }
    if (child.pid !== undefined) this.asked.add(child.pid);
    if (how === "kill") signalGroup(child, "SIGKILL");
    await stopChild(child, 5000);
  }

  async restart(id: number): Promise<void> {
    this.restarting.add(id);
    await this.stop(id, "stop");
    this.restarting.delete(id);
    this.start(id);
  }

  /** Every node, each with its process id or "not running". */
  status(): void {
    for (const id of this.s.cluster.keys()) {
      const child = this.children.get(id);
      say(`n${id}: ${child === undefined ? "not running" : `running, pid ${child.pid}`}`);
    }
  }

  /** Stops every running node; resolves with whether each stopped by itself in time. */
  async stopAll(reason: string): Promise<boolean> {
    this.stopping = true;
    const running = [...this.children.values()];
    for (const child of running) if (child.pid !== undefined) this.asked.add(child.pid);
    await Promise.all(running.map((child) => stopChild(child, 5000)));
    this.record(null, "process.stop", { reason });
    this.trace.close();
    return running.every((child) => child.exitCode === 0);
  }

  /** A line of cluster.jsonl: `node` is the node it is about, null for the supervisor itself. */
  private record<K extends "process.start" | "process.stop" | "process.exit" | "process.restart">(
    node: number | null,
    kind: K,
    details: RealKinds[K],
  ): void {
    this.trace.write({ node, term: null, role: null, kind, details });
  }
}

/** Writes a line for the person at the terminal (the log lines of every node go there too). */
function say(line: string): void {
  console.log(line);
}

/** Runs one command typed at the terminal. */
function obey(supervisor: Supervisor, cluster: ClusterMap, line: string): void {
  const [word, idText, ...rest] = line.trim().split(/\s+/);
  const id = Number(idText);
  const known = idText !== undefined && /^\d+$/.test(idText) && cluster.has(id);
  if (word === undefined || word === "") {
    // an empty line: nothing to do
  } else if (word === "status" && idText === undefined) {
    supervisor.status();
  } else if (word === "help" && idText === undefined) {
    say(usage.split("\n\n").slice(1, 3).join("\n\n"));
  } else if (!["stop", "kill", "start", "restart"].includes(word) || !known || rest.length > 0) {
    const ids = [...cluster.keys()].join(", ");
    say(
      `not a command: "${line.trim()}". Try stop, kill, start or restart <id> (ids ${ids}), status, help.`,
    );
  } else if (word === "start") {
    supervisor.start(id);
  } else if (word === "restart") {
    void supervisor.restart(id);
  } else {
    void supervisor.stop(id, word as "stop" | "kill");
  }
}

function banner(s: Settings, runDir: string): void {
  const first = formatAddress(s.cluster.get(0)!);
  const nodes = [...s.cluster].map(([id, a]) => `n${id} http://${formatAddress(a)}`).join(", ");
  say(
    chalk.bold(`${s.cluster.size} nodes: ${nodes}\n`) +
      `data: ${s.data}/n<id>    traces of this run: ${runDir}\n` +
      `try:  curl -L -X PUT --data-binary hello http://${first}/kv/greeting\n` +
      `      curl -L http://${first}/kv/greeting      curl http://${first}/status\n` +
      "      pnpm kv get greeting      pnpm kv status\n" +
      chalk.bold(
        "Type stop, kill, start or restart <id> (and Enter) here, or help. Ctrl-C stops every node.",
      ),
  );
}

/** The supervisor until every node has stopped; resolves with the exit status. */
async function supervise(s: Settings): Promise<number> {
  if (s.fresh) {
    rmSync(s.data, { recursive: true, force: true });
    rmSync(s.traces, { recursive: true, force: true });
  }
  const supervisor = new Supervisor(s, newCluster(s));
  for (const id of s.cluster.keys()) supervisor.start(id);
  banner(s, supervisor.runDir);
  let stop: (reason: string) => void = () => {};
  const clean = new Promise<boolean>((resolve) => {
    stop = (reason) => void supervisor.stopAll(reason).then(resolve);
  });
  // Without a terminal to type in (input closed), nothing could start a node again: once every
  // node has ended by itself, so does the supervisor, with status 1.
  let unasked = false;
  supervisor.onAllEnded = () => {
    unasked = true;
    stop("every node has exited");
  };
  const commands = createInterface({ input: process.stdin, terminal: false });
  commands.on("line", (line) => obey(supervisor, s.cluster, line));
  commands.once("close", () => {
    supervisor.inputOpen = false;
  });
  handleSignals((signal) => {
    say(chalk.bold("stopping every node..."));
    stop(signal);
  });
  outputClosed = () => stop("its output was closed");
  const ok = await clean;
  commands.close();
  process.stdin.destroy();
  say(
    chalk.bold(
      `all nodes stopped. \`pnpm kv:cluster\` starts them again on the same data (${s.data}).`,
    ),
  );
  say(`this run's traces: ${supervisor.runDir} (pnpm viz --merge ${supervisor.runDir})`);
  return ok && !unasked ? 0 : 1;
}

let outputClosed: () => void = () => process.exit(0);

await runCommand({ name: "pnpm kv:cluster", onOutputClosed: () => outputClosed() }, async () => {
  const args = process.argv.slice(2).filter((arg) => arg !== "--");
  const { values } = parseArgs({ args, options });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  return supervise(settings(values));
});
