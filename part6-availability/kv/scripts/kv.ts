// `pnpm kv get|put|append|cas|delete|status|transfer-leader`: the command-line client. It is
// RealClient (KvClient on HTTP, src/real/client.ts) run once: one operation, exactly once however
// often it retries, then an exit status a script can test. `transfer-leader` asks the leader to
// hand its leadership over (POST /transfer-leader, thesis §3.10). `usage` below lists the commands
// and options.

import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { ClientError } from "../src/kv/client.ts";
import { type KvCommand, type KvResult, parseCommand } from "../src/kv/commands.ts";
import {
  type ClusterMap,
  formatAddress,
  MAX_NODE_ID,
  parseClusterMap,
} from "../src/real/addresses.ts";
import { RealClient } from "../src/real/client.ts";
import { freshSeed } from "../src/real/clock.ts";
import {
  DEFAULT_CLUSTER,
  runCommand,
  UsageError,
  userPath,
  wholeNumber,
} from "../src/real/command-line.ts";
import { call } from "../src/real/http.ts";
import { newRunId, processStart, runIdProblem, TraceFile } from "../src/real/trace-file.ts";
import { describeResult } from "../src/trace.ts";

const usage = `usage: pnpm kv <command> [options]

  get <key>                      print the key's value
  put <key> <value>              write it
  append <key> <value>           append to it
  cas <key> <expected> <value>   write <value> if the key holds <expected>
  cas <key> --absent <value>     write <value> if the key does not exist
  delete <key>                   delete it
  status                         each node's role, term, leader, commit index and log length
  transfer-leader [--to <id>]    the leader hands its leadership to node <id> (default: the
                                 follower furthest along) and steps down (thesis §3.10)

  --nodes <list>    where the cluster is: host:port,... (node ids 0, 1, 2... in that order) or
                    id=host:port,... (default: $KV_NODES, else ${DEFAULT_CLUSTER})
  --timeout <ms>    give up after this long, retries included (default 10000)
  --to <id>         transfer-leader: the node to take over
  --read-from <id>  get: ask node <id> first; a node started with --follower-reads answers
                    itself (thesis §6.4), another sends the client to the leader
  --client <id>     the session id that makes retries safe (default: a new one)
  --json            print the node's whole result as JSON
  --trace <file>    append this client's events to <file> (JSON lines, docs/trace-format.md)
  --run <id>        the run the trace belongs to: the one pnpm kv:cluster printed (default: a
                    new one)

Exit status: 0 done; 1 done, and the answer is no: a get found no such key (nothing is printed
on stdout), or a cas did not swap; 2 usage error; 3 failed, and it did not take effect (nothing
was written); 4 failed, and it may have taken effect (or may still).`;

const EXIT = { done: 0, no: 1, notDone: 3, maybeDone: 4 } as const;

const options = {
  nodes: { type: "string" },
  timeout: { type: "string", default: "10000" },
  client: { type: "string" },
  json: { type: "boolean", default: false },
  trace: { type: "string" },
  run: { type: "string" },
  absent: { type: "boolean", default: false },
  to: { type: "string" },
  "read-from": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>["values"];

/** The command line's operation, checked as a node would check it. */
function commandOf(words: string[], absent: boolean): KvCommand {
  const [op, key, ...rest] = words;
  const need = (n: number, form: string) => {
    if (rest.length !== n) throw new UsageError(`${op} takes ${form}`);
  };
  let command: unknown;
  if (op === "get" || op === "delete") {
    need(0, "<key>");
    command = { op, key };
  } else if (op === "put" || op === "append") {
    need(1, "<key> <value>");
    command = { op, key, value: rest[0] };
  } else if (op === "cas") {
    need(absent ? 1 : 2, absent ? "<key> --absent <value>" : "<key> <expected> <value>");
    command = { op, key, expected: absent ? null : rest[0], value: rest.at(-1) };
  } else {
    throw new UsageError(op === undefined ? "no command given" : `unknown command "${op}"`);
  }
  if (key === undefined) throw new UsageError(`${op} needs a <key>`);
  const parsed = parseCommand(command);
  if (typeof parsed === "string") throw new UsageError(parsed);
  return parsed;
}

/** The node a flag names (--to, --read-from): one of the cluster's, or undefined if not given. */
function nodeOf(text: string | undefined, flag: string, cluster: ClusterMap): number | undefined {
  if (text === undefined) return undefined;
  const id = wholeNumber(text, flag, 0, MAX_NODE_ID);
  if (cluster.has(id)) return id;
  const ids = [...cluster.keys()].map((n) => `n${n}`).join(", ");
  throw new UsageError(`${flag} ${id}: the cluster has no node ${id} (it has ${ids})`);
}

function clusterOf(values: Values): ClusterMap {
  const text = values.nodes ?? process.env.KV_NODES ?? DEFAULT_CLUSTER;
  const cluster = parseClusterMap(text);
  if (typeof cluster === "string") throw new UsageError(`--nodes: ${cluster}`);
  return cluster;
}

/** Runs the command line; resolves with the exit status. */
async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs({ args: argv, options, allowPositionals: true });
  const { values, positionals: words } = parsed;
  if (values.help) {
    console.log(usage);
    return EXIT.done;
  }
  if (words[0] === "transfer-leader") return transferLeader(words, values);
  if (values.to !== undefined) throw new UsageError("--to goes with transfer-leader only");
  if (values["read-from"] !== undefined && words[0] !== "get") {
    throw new UsageError("--read-from goes with get only");
  }
  if (words[0] === "status" && words.length === 1) return status(clusterOf(values), values.json);
  const command = commandOf(words, values.absent);
  return runOperation(command, clusterOf(values), values);
}

async function runOperation(
  command: KvCommand,
  cluster: ClusterMap,
  values: Values,
): Promise<number> {
  const id = values.client ?? `cli-${freshSeed().toString(36)}`;
  const deadlineMs = wholeNumber(values.timeout, "--timeout", 1, 3_600_000);
  const readFrom = nodeOf(values["read-from"], "--read-from", cluster);
  const seed = freshSeed(); // of the backoff's jitter
  const trace = traceFile(values, {
    client: id,
    seed,
    nodes: Object.fromEntries([...cluster].map(([n, a]) => [n, formatAddress(a)])),
  });
  const client = new RealClient({
    id,
    cluster,
    trace,
    seed,
    deadlineMs,
    attemptTimeoutMs: Math.min(3000, deadlineMs),
    ...(readFrom === undefined ? {} : { readFrom }),
  });
  try {
    const result = await client.run(command);
    return printResult(command, result, values.json);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    console.error(failureText(error, cluster, client.transport.answered));
    return error.definite ? EXIT.notDone : EXIT.maybeDone;
  } finally {
    client.close();
    trace?.close();
  }
}

/** The trace file of --trace, opened with its first line; undefined without --trace. */
function traceFile(values: Values, details: Record<string, unknown>): TraceFile | undefined {
  if (values.trace === undefined) return undefined;
  const run = values.run ?? newRunId();
  const problem = runIdProblem(run);
  if (problem !== undefined) throw new UsageError(`--run: ${problem}`);
  const file = new TraceFile(userPath(values.trace), { append: true });
  const start = processStart("client", run, details);
  file.write({ node: null, term: null, role: null, kind: "process.start", details: start });
  return file;
}

/** Prints what the operation saw; a get of no key and a cas that did not swap answer "no" (1). */
function printResult(command: KvCommand, result: KvResult, json: boolean): number {
  const no =
    (command.op === "cas" && result.ok !== true) || (command.op === "get" && !result.existed);
  if (json) console.log(JSON.stringify(result));
  else if (command.op === "get") {
    if (!result.existed) console.error(`${JSON.stringify(command.key)} does not exist`);
    else console.log(result.value);
  } else console.log(`${command.op} ${JSON.stringify(command.key)}: ${describeResult(result)}`);
  return no ? EXIT.no : EXIT.done;
}

function failureText(error: ClientError, cluster: ClusterMap, answered: number): string {
  if (answered > 0) return error.message;
  const where = [...cluster.values()].map(formatAddress).join(", ");
  return (
    `no node answered at ${where}.\n` +
    "Is the cluster running? Start one with `pnpm kv:cluster`, or say where it is with " +
    "--nodes host:port,... (or KV_NODES).\n" +
    `(${error.message})`
  );
}

/** Every node's /status, one line each (or the JSON); exit 3 if none answers. */
async function status(cluster: ClusterMap, json: boolean): Promise<number> {
  const agent = new Agent();
  const lines = await Promise.all(
    [...cluster].map(async ([id, address]) => {
      const where = `n${id} ${formatAddress(address)}`;
      try {
        const answer = await call(agent, address, "/status", undefined, {
          timeoutMs: 2000,
          limit: 65536,
        });
        const s = JSON.parse(answer.body.toString()) as Record<string, unknown>;
        if (json) return { ok: true, line: JSON.stringify(s) };
        const leader = s.leader === null ? "none known" : `n${s.leader}`;
        return {
          ok: true,
          line: `${where}  ${s.role} in term ${s.term}, leader ${leader}, commit index ${s.commitIndex}, log length ${s.logLength}`,
        };
      } catch (error) {
        return {
          ok: false,
          line: json
            ? JSON.stringify({ id, error: (error as Error).message })
            : `${where}  no answer (${(error as Error).message})`,
        };
      }
    }),
  );
  agent.destroy();
  for (const { line } of lines) console.log(line);
  return lines.some((l) => l.ok) ? EXIT.done : EXIT.notDone;
}

/**
 * `transfer-leader [--to <id>]`: finds the leader from the nodes' /status and asks it to hand over
 * (POST /transfer-leader), which answers once it no longer leads. Exit 0 when it has, 3 when it
 * was refused or no leader is known, 4 when the target did not take over in time (it may yet).
 */
async function transferLeader(words: string[], values: Values): Promise<number> {
  if (words.length !== 1)
    throw new UsageError("transfer-leader takes no arguments (but --to <id>)");
  const cluster = clusterOf(values);
  const to = nodeOf(values.to, "--to", cluster);
  const timeoutMs = wholeNumber(values.timeout, "--timeout", 1, 3_600_000);
  const agent = new Agent();
  try {
    const leader = await findLeader(agent, cluster);
    if (leader === undefined) {
      console.error("no node knows a leader: is the cluster running (pnpm kv:cluster)?");
      return EXIT.notDone;
    }
    const query = to === undefined ? "" : `?to=${to}`;
    const answer = await call(agent, cluster.get(leader)!, `/transfer-leader${query}`, "", {
      timeoutMs,
      limit: 65536,
    });
    const body = JSON.parse(answer.body.toString()) as Record<string, unknown>;
    if (values.json) console.log(JSON.stringify(body));
    if (answer.status === 200) {
      if (!values.json) {
        const now = body.leader === null ? "none known yet" : `n${body.leader}`;
        console.log(
          `n${body.from} handed its leadership to n${body.to} (term ${body.term}; leader now: ${now})`,
        );
      }
      return EXIT.done;
    }
    if (!values.json) console.error(`n${leader} did not hand over: ${body.error ?? body.reason}`);
    return answer.status === 504 ? EXIT.maybeDone : EXIT.notDone;
  } finally {
    agent.destroy();
  }
}

/** The leader as the nodes see it: one that says it leads in the highest term, else undefined. */
async function findLeader(agent: Agent, cluster: ClusterMap): Promise<number | undefined> {
  const statuses = await Promise.all(
    [...cluster].map(async ([id, address]) => {
      try {
        const answer = await call(agent, address, "/status", undefined, {
          timeoutMs: 2000,
          limit: 65536,
        });
        const s = JSON.parse(answer.body.toString()) as { role: string; term: number };
        return { id, role: s.role, term: s.term };
      } catch {
        return undefined; // a node that does not answer knows nothing we can use
      }
    }),
  );
  const leaders = statuses.filter((s) => s?.role === "leader").sort((a, b) => b!.term - a!.term);
  return leaders[0]?.id;
}

await runCommand({ name: "pnpm kv" }, () => main(process.argv.slice(2)));
