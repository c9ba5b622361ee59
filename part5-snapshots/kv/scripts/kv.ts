// `pnpm kv get|put|append|cas|delete|status`: the command-line client. It is RealClient (KvClient
// on HTTP, src/real/client.ts) run once: one operation, exactly once however often it retries,
// then an exit status a script can test. `usage` below lists the commands and options.

import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { ClientError } from "../src/kv/client.ts";
import { type KvCommand, type KvResult, parseCommand } from "../src/kv/commands.ts";
import { type ClusterMap, formatAddress, parseClusterMap } from "../src/real/addresses.ts";
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

  --nodes <list>    where the cluster is: host:port,... (node ids 0, 1, 2... in that order) or
                    id=host:port,... (default: $KV_NODES, else ${DEFAULT_CLUSTER})
  --timeout <ms>    give up after this long, retries included (default 10000)
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

await runCommand({ name: "pnpm kv" }, () => main(process.argv.slice(2)));
