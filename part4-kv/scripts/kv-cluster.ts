// `pnpm kv:cluster`: a local cluster of real nodes in one terminal. Each node is a process of its
// own (src/real/spawn.ts); its log lines come out here prefixed with its id, in its colour.
// Ctrl-C stops every node cleanly (SIGTERM, then SIGKILL for one that has not stopped within
// five seconds); started again, the cluster comes back on the same data folders.

import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import chalk from "chalk";
import { type ClusterMap, formatAddress, formatClusterMap } from "../src/real/addresses.ts";
import {
  DEFAULT_DATA,
  DEFAULT_TRACES,
  handleSignals,
  UsageError,
  userPath,
  wholeNumber,
} from "../src/real/command-line.ts";
import { exited, spawnNode, stopChild } from "../src/real/spawn.ts";

const usage = `usage: pnpm kv:cluster [options]

Starts a cluster of real nodes on 127.0.0.1, one process each, logs here; Ctrl-C stops them all.

  --nodes <n>        how many (default 3), ids 0..n-1
  --base-port <p>    node i listens on port p+i (default 7000)
  --data <folder>    node i keeps its data in <folder>/n<i> (default part4-kv/out/data)
  --trace-dir <dir>  where the nodes write their traces (default part4-kv/out/traces)
  --fresh            delete the data and the traces first: a new, empty cluster
  --test-faults      let the nodes serve /admin/faults (docs/running.md)
  --verbose, -v      every node logs every event, messages included`;

const options = {
  nodes: { type: "string", default: "3" },
  "base-port": { type: "string", default: "7000" },
  data: { type: "string", default: DEFAULT_DATA },
  "trace-dir": { type: "string", default: DEFAULT_TRACES },
  fresh: { type: "boolean", default: false },
  "test-faults": { type: "boolean", default: false },
  verbose: { type: "boolean", short: "v", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

const colours = [chalk.cyan, chalk.magenta, chalk.yellow, chalk.green, chalk.blue, chalk.red];

function settings(argv: string[]) {
  const { values } = parseArgs({ args: argv, options });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const count = wholeNumber(values.nodes, "--nodes", 1, 9);
  const basePort = wholeNumber(values["base-port"], "--base-port", 1, 65535);
  if (count > 9 || basePort + count - 1 > 65535)
    throw new UsageError("--nodes: 1 to 9 nodes, on ports up to 65535");
  const cluster: ClusterMap = new Map();
  for (let id = 0; id < count; id++) cluster.set(id, { host: "127.0.0.1", port: basePort + id });
  return { cluster, data: userPath(values.data), traces: userPath(values["trace-dir"]), values };
}

function main(argv: string[]): void {
  let s: ReturnType<typeof settings>;
  try {
    s = settings(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (s.values.fresh) {
    rmSync(s.data, { recursive: true, force: true });
    rmSync(s.traces, { recursive: true, force: true });
  }
  const flags = [
    ...(s.values["test-faults"] ? ["--test-faults"] : []),
    ...(s.values.verbose ? ["--verbose"] : []),
  ];
  const children = [...s.cluster.keys()].map((id) => {
    const args = [
      "--id",
      String(id),
      "--cluster",
      formatClusterMap(s.cluster),
      "--data",
      `${s.data}/n${id}`,
      "--trace-dir",
      s.traces,
      ...flags,
    ];
    const child = spawnNode(args, "pipe");
    const paint = colours[id % colours.length]!;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) =>
        console.log(paint(`n${id} │ ${line}`)),
      );
    }
    child.once("exit", (code, signal) =>
      console.log(paint(`n${id} │ exited (${signal ?? `status ${code}`})`)),
    );
    return child;
  });
  banner(s.cluster, s.data, s.traces);
  handleSignals(() => {
    console.log(chalk.bold("stopping every node..."));
    void Promise.all(children.map((child) => stopChild(child, 5000))).then(() => {
      console.log(
        chalk.bold(
          `all nodes stopped. \`pnpm kv:cluster\` starts them again on the same data (${s.data}).`,
        ),
      );
    });
  });
  void Promise.all(children.map(exited)).then(() => {
    process.exitCode = children.every((child) => child.exitCode === 0) ? 0 : 1;
  });
}

function banner(cluster: ClusterMap, data: string, traces: string): void {
  const first = formatAddress(cluster.get(0)!);
  const nodes = [...cluster].map(([id, a]) => `n${id} http://${formatAddress(a)}`).join(", ");
  console.log(
    chalk.bold(`${cluster.size} nodes: ${nodes}\n`) +
      `data: ${data}/n<id>    traces: ${traces}\n` +
      `try:  curl -L -X PUT --data-binary hello http://${first}/kv/greeting\n` +
      `      curl -L http://${first}/kv/greeting      curl http://${first}/status\n` +
      "      pnpm kv get greeting      pnpm kv status\n" +
      chalk.bold("Ctrl-C stops every node."),
  );
}

main(process.argv.slice(2).filter((arg) => arg !== "--"));
